"""The Mandelbrot kernel of every tool, side by side, taken from the code that runs.

:func:`mandelbrot_sources` collects, for each backend, the functions (or whole files) that
compute its escape counts, straight from ``kernels`` through :mod:`kernels.core.shown`
(which lists everything the book prints), so the page never shows code other than what
is measured.
:func:`mandelbrot_tabs` displays them as tabs, one per tool: plain HTML and CSS (radio
buttons and labels, no JavaScript), so the tabs work in Jupyter, on the static site and
offline.
"""

from __future__ import annotations

import html
import itertools
from dataclasses import dataclass

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import CLexer, CythonLexer, PythonLexer

from ..core import shown

_counter = itertools.count()


@dataclass(frozen=True)
class Source:
    """One tab: the tool, a one-line note, the language and the code."""

    tool: str
    note: str
    language: str
    code: str


def _functions(*names: str) -> str:
    return "\n\n".join(shown.source(name) for name in names)


def mandelbrot_sources() -> list[Source]:
    """The Mandelbrot code of every tool in teaching order (C last: the ceiling).

    Every name is listed in :data:`kernels.core.shown.SHOWN` (files in ``FILES``).
    """
    problem, foundations = "kernels.problems.mandelbrot", "kernels.foundations.backend"
    numba, jax = "kernels.numba.compute", "kernels.jax.compute"
    sources = [
        Source("python", "one point at a time, plain loops", "python",
               _functions(f"{foundations}.mandelbrot_python", f"{problem}.rows_python")),
        Source("numpy", "all points of 16 rows at once, only the ones still iterating",
               "python", _functions(f"{problem}.escape_counts", f"{problem}.rows_in_batches")),
        Source("threads", "interleaved row sets on a thread pool (NumPy releases the GIL)",
               "python", _functions(f"{foundations}.mandelbrot_threads",
                                    "kernels.problems.plans.mandelbrot_plan")),
        Source("multiprocessing", "the same plan on a process pool of the standard library",
               "python",
               _functions("kernels.multiprocessing.backend.mandelbrot_multiprocessing")),
        Source("multiprocess", "the same plan on multiprocess's pool (dill: closures travel)",
               "python", _functions("kernels.multiprocess.backend.mandelbrot_multiprocess")),
        Source("joblib", "the same plan as delayed calls to Parallel (loky's reused workers)",
               "python", _functions("kernels.joblib.backend.mandelbrot_joblib",
                                    "kernels.joblib.pool.run_plan")),
        Source("dask", "one delayed task per row set, or blocks of a dask.array", "python",
               _functions("kernels.dask.graphs.delayed_tasks",
                          "kernels.dask.graphs.mandelbrot_array")),
        Source("mpi", "an SPMD program: rows dealt to ranks, gathered with Gatherv",
               "python", _functions("kernels.mpi4py.programs.mandelbrot.solve")),
        Source("cython", "typed C loops, 64 or 32 points in lock-step, prange over rows",
               "cython", shown.file_text("kernels.cython.compiled", "mandelbrot.pyx")),
        Source("numba", "@njit loops, 48 points in lock-step, prange over threads",
               "python", _functions(f"{numba}.escape_counts_lanes", f"{numba}.mandelbrot_counts",
                                    f"{numba}.mandelbrot_counts_parallel")),
        Source("jax", "a lax.while_loop per 8x8 tile, 4 steps a turn; tiles by lax.fori_loop",
               "python", _functions(f"{jax}.escape_counts_unrolled", f"{jax}.tile_counts",
                                    f"{jax}.counts_into", f"{jax}.mandelbrot_sharded")),
        Source("C", "the ceiling: the same lanes loop in plain C with OpenMP", "c",
               shown.file_text("kernels.c", "lanes.h")),
    ]  # fmt: skip
    return sources


LEXERS = {"python": PythonLexer, "cython": CythonLexer, "c": CLexer}

STYLE = """
.kernels-tabs { display: flex; flex-wrap: wrap; margin: 1em 0; }
.kernels-tabs > input { position: absolute; opacity: 0; pointer-events: none; }
.kernels-tabs > label { order: 0; padding: 0.3em 0.8em; cursor: pointer;
  border: 1px solid #ccc; border-bottom: none; border-radius: 4px 4px 0 0;
  margin-right: 2px; font-family: monospace; background: #f5f5f5; }
.kernels-tabs > input:checked + label { background: #fff; font-weight: bold; }
.kernels-tabs > .kernels-tab-panel { order: 1; width: 100%; display: none;
  border: 1px solid #ccc; padding: 0.5em; overflow-x: auto; }
.kernels-tabs > input:checked + label + .kernels-tab-panel { display: block; }
.kernels-tab-panel pre { margin: 0; font-size: 0.8em; }
"""


class Tabs:
    """Tabs of code; shown as HTML in Jupyter and on the site (``_repr_html_``)."""

    def __init__(self, sources: list[Source]):
        self.sources = sources

    def _repr_html_(self) -> str:
        group = f"kernels-tabs-{next(_counter)}"
        formatter = HtmlFormatter(nowrap=False, cssclass="highlight")
        parts = [f"<style>{STYLE}</style>", f'<div class="kernels-tabs" id="{group}">']
        for k, source in enumerate(self.sources):
            ident = f"{group}-{k}"
            checked = " checked" if k == 0 else ""
            code = highlight(source.code, LEXERS[source.language](), formatter)
            parts += [
                f'<input type="radio" name="{group}" id="{ident}"{checked}>',
                f'<label for="{ident}" title="{html.escape(source.note)}">'
                f"{html.escape(source.tool)}</label>",
                f'<div class="kernels-tab-panel" data-tool="{html.escape(source.tool)}">'
                f"<p><em>{html.escape(source.note)}</em></p>{code}</div>",
            ]
        parts.append("</div>")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return "\n\n".join(f"# --- {s.tool}: {s.note}\n{s.code}" for s in self.sources)


def mandelbrot_tabs() -> Tabs:
    """The Mandelbrot kernel of every tool as tabs, one per tool."""
    return Tabs(mandelbrot_sources())
