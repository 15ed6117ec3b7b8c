"""Helper package of the executable book on parallel and asynchronous processing in Python.

Problems x backends: every problem has an exact specification and a NumPy reference
(:mod:`kernels.problems`); every backend is one short registered function
(:mod:`kernels.backends`). :func:`run` runs any pair, :mod:`kernels.bench` measures them,
:mod:`kernels.plot` draws speedups, :mod:`kernels.widgets` explores them live, and
:mod:`kernels.exercises` checks learners' answers.

Examples
--------
>>> import kernels
>>> kernels.problems()
['mandelbrot', 'monte_carlo_pi', 'heat']
>>> image = kernels.run("mandelbrot", "numpy", width=60, height=40)
>>> image.shape, image.dtype
((40, 60), dtype('int32'))
"""

from .api import backends, check_memory, problems, reference, run
from .errors import (
    BackendUnavailableError,
    KernelsError,
    ProblemTooLargeError,
    RankFailedError,
    UnpicklableTaskError,
    WorkerDiedError,
)

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailableError",
    "KernelsError",
    "ProblemTooLargeError",
    "RankFailedError",
    "UnpicklableTaskError",
    "WorkerDiedError",
    "backends",
    "check_memory",
    "problems",
    "reference",
    "run",
]
