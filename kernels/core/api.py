"""The public entry points: :func:`problems`, :func:`backends` and :func:`run`."""

from __future__ import annotations

from typing import Any

import psutil

from . import tracing
from .errors import ProblemTooLargeError
from .params import validate_values
from .registry import (
    BACKENDS,
    get_backend,
    get_problem,
    problem_specs,
    split_params,
    validate_workers,
)

# Refuse a run that would need more than this share of the memory available now.
MEMORY_SHARE = 0.5


def problems() -> list[str]:
    """Names of the problems, in teaching order.

    Examples
    --------
    >>> problems()
    ['mandelbrot', 'monte_carlo_pi', 'heat']
    """
    return list(problem_specs())


def backends(problem: str) -> list[str]:
    """Names of the backends of ``problem`` that can run on this machine.

    Backends whose library or tool is missing (e.g. ``mpiexec``) are left out;
    :func:`unavailable` and ``python -m kernels info`` say what to install. Nothing is
    imported to answer: the registry knows every backend as data.

    Examples
    --------
    >>> backends("heat")[:3]
    ['python', 'numpy', 'threads']
    """
    get_problem(problem)
    return [b.name for (p, _), b in BACKENDS.items() if p == problem and b.missing() is None]


def unavailable(problem: str) -> dict[str, str]:
    """The backends of ``problem`` that cannot run here, each with why and what to install.

    Examples
    --------
    >>> from kernels.core.registry import all_backend_names
    >>> missing = set(all_backend_names("heat")) - set(backends("heat"))
    >>> sorted(unavailable("heat")) == sorted(missing)
    True
    """
    get_problem(problem)
    reasons = {b.name: b.missing() for (p, _), b in BACKENDS.items() if p == problem}
    return {name: why for name, why in reasons.items() if why is not None}


def check_memory(problem: str, params: dict[str, int]) -> None:
    """Raise :class:`ProblemTooLargeError` if ``params`` would not fit in memory now."""
    need = get_problem(problem).memory_bytes(**params)
    available = psutil.virtual_memory().available
    if need > MEMORY_SHARE * available:
        shown = ", ".join(f"{k}={v:_}" for k, v in params.items())
        raise ProblemTooLargeError(
            f"{problem} with {shown} needs about {need / 2**30:.1f} GiB of memory; this "
            f"machine has {available / 2**30:.1f} GiB available and kernels uses at most "
            f"{MEMORY_SHARE:.0%} of it. Choose a smaller size."
        )


def run(problem: str, backend: str = "numpy", workers: int = 1, **params: Any) -> Any:
    """Solve ``problem`` with ``backend`` on ``workers`` workers.

    Parameters
    ----------
    problem : str
        One of :func:`problems`.
    backend : str
        One of :func:`backends(problem) <backends>`; serial backends need ``workers=1``.
    workers : int
        Number of threads, processes, ranks or devices.
    **params
        The problem's parameters (defaults fill the rest, sized so that one ``numpy``
        run takes well under a second) and the backend's options.

    Returns
    -------
    numpy.ndarray or float
        The result, as the problem's specification defines it.

    Raises
    ------
    ValueError, TypeError
        Unknown names, wrong types, sizes out of range or too large for memory.
    WorkerDiedError
        A worker process died; no worker is left running.

    Examples
    --------
    >>> run("monte_carlo_pi", "numpy", samples=1000, seed=1)
    3.192
    """
    spec = get_problem(problem)
    impl = get_backend(problem, backend)
    workers = validate_workers(workers, impl)
    values, options = split_params(spec, impl, params)
    check_memory(problem, values)
    tracing.record("run", problem=problem, backend=impl.name, workers=workers, **values)
    return impl.func(workers=workers, **values, **options)


def reference(problem: str, **params: Any) -> Any:
    """The problem's reference result (the NumPy specification) for ``params``."""
    spec = get_problem(problem)
    values = validate_values(params, spec.params, problem)
    check_memory(problem, values)
    return spec.reference(**values)
