"""Helper package of the executable book on parallel and asynchronous processing in Python.

Problems x backends: every problem has an exact specification and a NumPy reference
(:mod:`kernels.problems`); every backend is one short function, known to the registry
as data (:mod:`kernels.core.catalogue`) and imported only when it first runs.
:func:`run` runs any pair, :mod:`kernels.core.bench` measures them. Each tool has its
own folder, named as its chapter (``kernels.multiprocessing``, ``kernels.dask``,
``kernels.numba``, ...), with its backend, kernels, chapter helpers (``demos.py``) and
exercise checkers (``checks.py``); the CLI, widgets and plots are in
:mod:`kernels.frontends`.

``import kernels`` costs NumPy and psutil, not dask, JAX or numba: a spawned worker or
an MPI rank pays only for what it runs.

Examples
--------
>>> import kernels
>>> kernels.problems()
['mandelbrot', 'monte_carlo_pi', 'heat']
>>> image = kernels.run("mandelbrot", "numpy", width=60, height=40)
>>> image.shape, image.dtype
((40, 60), dtype('int32'))
"""

# The problems package first: importing a subpackage binds its name on this package, and
# the function kernels.problems() must be what that name means from here on.
from . import problems as _problem_modules  # noqa: F401  (isort: first)
from .core.api import backends, check_memory, problems, reference, run, unavailable
from .core.errors import (
    BackendUnavailableError,
    CommandTimeoutError,
    KernelsError,
    ProblemTooLargeError,
    RankFailedError,
    UnpicklableTaskError,
    WorkerDiedError,
)
from .core.kernel_exit import stop_helpers_at_shutdown as _stop_helpers_at_shutdown
from .core.runtime import prepare

__version__ = "0.1.0"

# In a Jupyter kernel: stop the pools' helper processes when the kernel is asked to shut
# down, so that it can exit by itself (kernels.core.kernel_exit says why it could not).
_stop_helpers_at_shutdown()

__all__ = [
    "BackendUnavailableError",
    "CommandTimeoutError",
    "KernelsError",
    "ProblemTooLargeError",
    "RankFailedError",
    "UnpicklableTaskError",
    "WorkerDiedError",
    "backends",
    "check_memory",
    "prepare",
    "problems",
    "reference",
    "run",
    "unavailable",
]
