"""Every problem and every backend of the book, as data.

The registry (:mod:`.registry`) is built from these tables without importing any tool:
``kernels.backends()`` knows every backend (name, problem, serial or parallel, options,
the extra and the programs it needs) while ``dask``, ``jax``, ``numba`` and ``mpi4py``
stay unimported. A backend's function is ``<module>:<problem>_<name>`` (``-`` read as
``_``), imported on its first run. The options are declared here too, since they are
part of what a backend accepts.
"""

from __future__ import annotations

import multiprocessing
from typing import NamedTuple

from .params import ChoiceOption, Option, TextOption

# The problems, in teaching order, and the modules that declare them.
PROBLEMS = {
    "mandelbrot": "kernels.problems.mandelbrot",
    "monte_carlo_pi": "kernels.problems.monte_carlo_pi",
    "heat": "kernels.problems.heat",
}

KERNEL = ChoiceOption(
    "kernel",
    "numpy",
    ("numpy", "python"),
    "what each task runs: 'numpy' (vectorised; releases the GIL in its inner loops) or "
    "'python' (plain loops that hold the GIL, to show what the GIL does to threads)",
)
START_METHOD = ChoiceOption(
    "start_method",
    "spawn",
    tuple(multiprocessing.get_all_start_methods()),
    "how worker processes start: 'spawn' (fresh interpreter, the default on macOS and "
    "Windows, used here on every OS so the book behaves the same everywhere), 'fork' or "
    "'forkserver' (Linux/macOS)",
)
SCHEDULER = ChoiceOption(
    "scheduler",
    "threads",
    ("threads", "processes", "synchronous"),
    "dask's local scheduler: 'threads' (one process; NumPy code runs in parallel), "
    "'processes' (a pool of worker processes, for pure Python code) or 'synchronous' "
    "(one task at a time in the caller, for debugging)",
)
ADDRESS = TextOption(
    "address",
    None,
    r"(tcp|tls|ws|wss|ucx|inproc)://\S+",
    "tcp://127.0.0.1:8786",
    "the scheduler to run on; None: the DASK_SCHEDULER_ADDRESS environment variable if "
    "set, else a LocalCluster of `workers` processes started and closed by the call",
)
OPENMP_SCHEDULE = ChoiceOption(
    "schedule",
    "dynamic",
    ("dynamic", "static", "guided"),
    "OpenMP schedule of the rows: 'dynamic' (one row at a time to a free thread), "
    "'static' (one contiguous block per thread) or 'guided' (shrinking blocks)",
)
NUMBA_SCHEDULE = ChoiceOption(
    "schedule",
    "interleaved",
    ("interleaved", "blocks"),
    "how the rows are shared: 'interleaved' (dealt round-robin, balanced) or 'blocks' "
    "(prange's default: one contiguous block of rows per thread)",
)

# The Cython extensions, compiled by the package build (setup.py).
CYTHON_EXTENSIONS = tuple(
    f"kernels.cython.compiled.{name}" for name in ("openmp", "mandelbrot", "heat", "monte_carlo_pi")
)


class Entry(NamedTuple):
    """One backend of one problem, as :class:`~kernels.core.registry.Backend` takes it."""

    name: str
    problem: str
    target: str
    parallel: bool
    options: tuple[Option, ...] = ()
    extra: str | None = None
    requires: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    exact: bool = True
    one_pool: bool = False


def _tool(
    name: str,
    module: str,
    *,
    parallel: bool,
    options: dict[str, tuple[Option, ...]] | None = None,
    inexact: tuple[str, ...] = (),
    **needs,
) -> list[Entry]:
    """The entries of one backend name for every problem."""
    entries = []
    for problem in PROBLEMS:
        target = f"{module}:{problem}_{name.replace('-', '_')}"
        entries.append(Entry(
            name, problem, target, parallel, (options or {}).get(problem, ()),
            exact=problem not in inexact, **needs,
        ))  # fmt: skip
    return entries


_POOL = {"mandelbrot": (KERNEL,), "monte_carlo_pi": (KERNEL,)}
_PROCESS = {
    "mandelbrot": (KERNEL, START_METHOD),
    "monte_carlo_pi": (KERNEL, START_METHOD),
    "heat": (START_METHOD,),
}
_DASK = {
    "mandelbrot": (SCHEDULER, KERNEL),
    "monte_carlo_pi": (SCHEDULER, KERNEL),
    "heat": (SCHEDULER,),
}
_DISTRIBUTED = {
    "mandelbrot": (KERNEL, ADDRESS),
    "monte_carlo_pi": (KERNEL, ADDRESS),
    "heat": (ADDRESS,),
}

# Teaching order: the order of kernels.backends() and of every table and plot.
BACKENDS: list[Entry] = [
    *_tool("python", "kernels.foundations.backend", parallel=False),
    *_tool("numpy", "kernels.foundations.backend", parallel=False),
    *_tool("threads", "kernels.foundations.backend", parallel=True, options=_POOL),
    *_tool("multiprocessing", "kernels.multiprocessing.backend", parallel=True,
           options=_PROCESS),
    *_tool("multiprocess", "kernels.multiprocess.backend", parallel=True, options=_PROCESS,
           requires=("multiprocess", "dill")),
    *_tool("joblib", "kernels.joblib.backend", parallel=True, options=_POOL,
           requires=("joblib",), one_pool=True),
    *_tool("dask", "kernels.dask.backend", parallel=True, options=_DASK, extra="dask",
           requires=("dask",)),
    *_tool("dask-distributed", "kernels.dask.backend", parallel=True, options=_DISTRIBUTED,
           extra="dask", requires=("dask", "distributed")),
    *_tool("mpi", "kernels.mpi4py.backend", parallel=True, extra="mpi",
           requires=("mpi4py",), programs=("mpiexec",)),
    *_tool("cython", "kernels.cython.backend", parallel=False, inexact=("heat",),
           requires=CYTHON_EXTENSIONS),
    *_tool("cython-parallel", "kernels.cython.backend", parallel=True, inexact=("heat",),
           options={"mandelbrot": (OPENMP_SCHEDULE,)}, requires=CYTHON_EXTENSIONS),
    *_tool("numba", "kernels.numba.backend", parallel=False, inexact=("heat",),
           extra="compiled", requires=("numba",)),
    *_tool("numba-parallel", "kernels.numba.backend", parallel=True, inexact=("heat",),
           options={"mandelbrot": (NUMBA_SCHEDULE,)}, extra="compiled", requires=("numba",)),
    *_tool("jax", "kernels.jax.backend", parallel=False, inexact=("heat", "monte_carlo_pi"),
           extra="jax", requires=("jax",)),
    *_tool("jax-sharded", "kernels.jax.backend", parallel=True,
           inexact=("heat", "monte_carlo_pi"), extra="jax", requires=("jax",)),
]  # fmt: skip
