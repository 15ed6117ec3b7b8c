"""The Mandelbrot kernel of every tool, side by side, taken from the code that runs.

:func:`mandelbrot_sources` collects, for each backend, the functions (or file parts) that
compute its escape counts, straight from ``kernels`` with :mod:`inspect` and
:mod:`importlib.resources`, so the page never shows code other than what is measured.
:func:`mandelbrot_tabs` displays them as tabs, one per tool: plain HTML and CSS (radio
buttons and labels, no JavaScript), so the tabs work in Jupyter, on the static site and
offline.
"""

from __future__ import annotations

import html
import inspect
import itertools
from dataclasses import dataclass
from importlib.resources import files

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import CLexer, CythonLexer, PythonLexer

_counter = itertools.count()


@dataclass(frozen=True)
class Source:
    """One tab: the tool, a one-line note, the language and the code."""

    tool: str
    note: str
    language: str
    code: str


def _functions(*funcs) -> str:
    return "\n\n".join(inspect.getsource(f).rstrip() for f in funcs)


def _file_part(package: str, name: str, start: str, end: str | None = None) -> str:
    text = (files(package) / name).read_text()
    begin = text.index(start)
    stop = text.index(end, begin) if end else len(text)
    return text[begin:stop].rstrip()


def mandelbrot_sources() -> list[Source]:
    """The Mandelbrot code of every tool in teaching order (C last: the ceiling)."""
    from . import mpi_programs  # noqa: F401  (imports the subpackage's modules below)
    from .backends import (
        dask_graphs,
        multiprocess_pool,
        multiprocessing_pool,
        plans,
        python_loops,
        threads,
    )
    from .mpi_programs import mandelbrot as mpi_mandelbrot
    from .problems import mandelbrot

    sources = [
        Source("python", "one point at a time, plain loops", "python",
               _functions(python_loops.mandelbrot_python, mandelbrot.rows_python)),
        Source("numpy", "all points of 16 rows at once, only the ones still iterating",
               "python", _functions(mandelbrot.escape_counts, mandelbrot.rows_in_batches)),
        Source("threads", "interleaved row sets on a thread pool (NumPy releases the GIL)",
               "python", _functions(threads.mandelbrot_threads, plans.mandelbrot_plan)),
        Source("multiprocessing", "the same plan on a process pool of the standard library",
               "python", _functions(multiprocessing_pool.mandelbrot_multiprocessing)),
        Source("multiprocess", "the same plan on multiprocess's pool (dill: closures travel)",
               "python", _functions(multiprocess_pool.mandelbrot_multiprocess)),
        Source("dask", "one delayed task per row set, or blocks of a dask.array", "python",
               _functions(dask_graphs.delayed_tasks, dask_graphs.mandelbrot_array)),
        Source("mpi", "an SPMD program: rows dealt to ranks, gathered with Gatherv",
               "python", _functions(mpi_mandelbrot.solve)),
        Source("cython", "typed C loops, 16 points in lock-step, prange over rows", "cython",
               _file_part("kernels.compiled", "mandelbrot.pyx", "cdef enum")),
        Source("numba", "@njit loops, 16 points in lock-step, prange over threads", "python",
               _numba_source()),
        Source("jax", "the whole grid in a lax.while_loop; rows sharded over devices",
               "python", _jax_source()),
        Source("C", "the ceiling: the same 16-lane loop in plain C with OpenMP", "c",
               _file_part("kernels.c_baseline", "mandelbrot.c", "#define LANES",
                          "int main")),
    ]  # fmt: skip
    return sources


def _numba_source() -> str:
    from . import numba_kernels as nk

    return _functions(nk.escape_counts_lanes.py_func, nk.mandelbrot_counts.py_func,
                      nk.mandelbrot_counts_parallel.py_func)  # fmt: skip


def _jax_source() -> str:
    from . import jax_kernels as jk

    return _functions(jk.escape_counts, jk.mandelbrot.__wrapped__, jk.mandelbrot_sharded)


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
