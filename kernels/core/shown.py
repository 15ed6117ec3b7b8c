"""The code the book prints from :mod:`kernels`, listed per tool.

A chapter shows a kernel with ``inspect.getsource`` (or a whole file), so the page
never drifts from what runs and is measured. Everything shown is listed here, by tool:
the tests check that every name resolves and has source, that every whole file exists,
and that every ``inspect.getsource`` in the notebooks names something listed. Nothing
is imported until :func:`resolve` is called.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from importlib.resources import files
from pathlib import Path
from typing import Any

# Functions, classes and modules, as dotted names; by the tool (folder) they belong to.
SHOWN: dict[str, tuple[str, ...]] = {
    "problems": (
        "kernels.problems.mandelbrot.rows_python",
        "kernels.problems.mandelbrot.escape_counts",
        "kernels.problems.mandelbrot.rows_in_batches",
        "kernels.problems.monte_carlo_pi.chunk_rng",
        "kernels.problems.plans.mandelbrot_plan",
    ),
    "core": (
        "kernels.core.shared_memory.solve_block",
        "kernels.core.shared_memory.solve_in_blocks",
    ),
    "foundations": (
        "kernels.foundations.backend.mandelbrot_python",
        "kernels.foundations.backend.mandelbrot_threads",
    ),
    "profiling": (
        "kernels.profiling.program.jacobi_step",
        "kernels.profiling.program.simulate",
        "kernels.profiling.program.copy_rows",
        "kernels.profiling.vectorised.step_one_line",
        "kernels.profiling.vectorised.step_numexpr",
    ),
    "multiprocessing": ("kernels.multiprocessing.backend.mandelbrot_multiprocessing",),
    "multiprocess": ("kernels.multiprocess.backend.mandelbrot_multiprocess",),
    "joblib": ("kernels.joblib.pool.run_plan", "kernels.joblib.backend.mandelbrot_joblib"),
    "dask": (
        "kernels.dask.graphs.delayed_tasks",
        "kernels.dask.graphs.compute_plan",
        "kernels.dask.graphs.mandelbrot_array",
        "kernels.dask.graphs.advance",
        "kernels.dask.graphs.initial_block",
        "kernels.dask.graphs.advance_block",
        "kernels.dask.graphs.heat_array",
        "kernels.dask.graphs.advance_with_neighbours",
        "kernels.dask.graphs.advance_from_initial",
        "kernels.dask.graphs.heat_round_blocks",
    ),
    "mpi4py": (
        "kernels.mpi4py.examples.pingpong.pingpong",
        "kernels.mpi4py.programs.monte_carlo_pi",
        "kernels.mpi4py.programs.mandelbrot.solve",
        "kernels.mpi4py.programs.heat",
        "kernels.mpi4py.programs.heat_overlap.overlapped_step",
        "kernels.mpi4py.programs.heat_cart.exchange_halos",
    ),
    "numba": (
        "kernels.numba.demos.rows_on_threads",
        "kernels.numba.compute.escape_counts_lanes",
        "kernels.numba.compute.prefer_widest_vectors",
        "kernels.numba.compute.mandelbrot_counts",
        "kernels.numba.compute.mandelbrot_counts_parallel",
        "kernels.numba.compute.chunk_hits",
    ),
    "jax": (
        "kernels.jax.compute.escape_counts",
        "kernels.jax.compute.mandelbrot",
        "kernels.jax.compute.escape_counts_unrolled",
        "kernels.jax.compute.tile_counts",
        "kernels.jax.compute.counts_into",
        "kernels.jax.compute.mandelbrot_sharded",
        "kernels.jax.compute.chunk_hits",
        "kernels.jax.compute.heat_program",
    ),
    "asyncio": (
        "kernels.asyncio.demos.fetch_all",
        "kernels.asyncio.demos.fetch",
        "kernels.asyncio.races.increment_racily",
    ),
}

# Whole files, as (package, file name), by tool.
FILES: dict[str, tuple[tuple[str, str], ...]] = {
    "cython": (("kernels.cython.compiled", "mandelbrot.pyx"),),
    "c": (("kernels.c", "lanes.h"), ("kernels.c", "mandelbrot.c")),
    "mpi4py": tuple(
        ("kernels.mpi4py.examples", f"{name}.py")
        for name in ("hello", "point_to_point", "collectives", "deadlock", "futures_pi", "split")
    ),
}


def shown_names() -> set[str]:
    """Every dotted name of :data:`SHOWN`."""
    return {name for names in SHOWN.values() for name in names}


def resolve(name: str) -> Any:
    """The object a dotted name of :data:`SHOWN` names (its module imported now).

    Examples
    --------
    >>> resolve("kernels.problems.mandelbrot.escape_counts").__name__
    'escape_counts'
    """
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(f"no module in {name!r}")


def source(name: str) -> str:
    """The source of a listed name, as ``inspect.getsource`` gives it, without importing it.

    The name's module is read and parsed, not run: showing a kernel does not load its
    tool (jax, numba) or start what its module starts on import (an MPI program's
    ``from mpi4py import MPI`` would make the notebook's kernel an MPI process).

    Raises
    ------
    KeyError
        When ``name`` is not listed in :data:`SHOWN`: list what the book shows.
    """
    if name not in shown_names():
        raise KeyError(f"{name!r} is not listed in kernels.core.shown.SHOWN")
    return _source(name)


def _source(name: str) -> str:
    path, inner = _module_file(name)
    text = path.read_text()
    if not inner:
        return text.rstrip()
    tree = ast.parse(text)
    imported = _imported_from(tree, name.rsplit(".", len(inner))[0], inner[0])
    if imported is not None:  # a name the module imports: shown from where it is defined
        return _source(".".join([imported, *inner[1:]]))
    node: ast.AST = tree
    for part in inner:
        node = next(child for child in ast.iter_child_nodes(node)
                    if isinstance(child, DEFINITIONS) and child.name == part)  # fmt: skip
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return "\n".join(text.splitlines()[first - 1 : node.end_lineno]).rstrip()


DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _imported_from(tree: ast.Module, module: str, name: str) -> str | None:
    """``"package.module.name"`` where ``module`` imports ``name`` from, or ``None``."""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    base = module.split(".")[: -node.level] if node.level else []
                    return ".".join([*base, *filter(None, [node.module]), alias.name])
    return None


def _module_file(name: str) -> tuple[Path, list[str]]:
    """The file of the module a dotted name is in, and the names inside it.

    Only packages are imported on the way (to find their submodules), never the module.
    """
    parts = name.split(".")
    for k in range(1, len(parts) + 1):
        spec = importlib.util.find_spec(".".join(parts[:k]))
        if spec.submodule_search_locations is None or k == len(parts):
            return Path(spec.origin), parts[k:]  # a module, or a package named whole
    raise KeyError(name)  # not reached: the last part ends the loop


def file_text(package: str, name: str) -> str:
    """A whole file the book shows, listed in :data:`FILES`."""
    if (package, name) not in {f for files_ in FILES.values() for f in files_}:
        raise KeyError(f"{package}/{name} is not listed in kernels.core.shown.FILES")
    return (files(package) / name).read_text().rstrip()
