"""The registry of problems and backends behind :func:`kernels.run`.

A problem is declared once, with its exact specification, by a module in
:mod:`kernels.problems`; a backend is one short function per problem, registered with
:func:`register_backend` under a fixed name. The contract tests are parametrized over
this registry, so registering a backend is what puts it under test.
"""

from __future__ import annotations

import importlib.util
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import BackendUnavailableError
from .params import IntParam, Option, validate_values

MAX_WORKERS = 512


@dataclass(frozen=True)
class Problem:
    """A problem with an exact specification shared by every backend.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"mandelbrot"``.
    summary : str
        One line: what is computed and what kind of parallel problem it is.
    params : sequence of IntParam
        The parameters, with defaults and bounds.
    reference : callable
        ``reference(**params)`` computes the result by the specification (NumPy).
    memory_bytes : callable
        ``memory_bytes(**params)`` estimates the peak memory of one run, checked before
        anything is allocated.
    weak_scale : callable
        ``weak_scale(params, workers)`` returns the params grown ``workers`` times in work,
        for weak-scaling (Gustafson) measurements.
    sizes : dict
        Named presets: ``"test"`` (tiny, for contract tests and the pure-Python backend),
        ``"quick"`` (``KERNELS_QUICK=1``), ``"bench"`` (default benchmark size).
    compare : callable
        ``compare(result, expected, params, exact)`` returns ``None`` when ``result`` agrees
        with ``expected`` (bit for bit when ``exact``, else within the problem's stated
        tolerance) and otherwise a message saying how they differ.
    """

    name: str
    summary: str
    params: Sequence[IntParam]
    reference: Callable[..., Any]
    memory_bytes: Callable[..., int]
    weak_scale: Callable[[dict, int], dict]
    sizes: dict[str, dict[str, int]]
    compare: Callable[[Any, Any, dict, bool], str | None]

    def defaults(self) -> dict[str, int]:
        """Return the default value of every parameter."""
        return {p.name: p.default for p in self.params}


@dataclass(frozen=True)
class Backend:
    """One implementation of one problem.

    Parameters
    ----------
    name : str
        Fixed backend name, e.g. ``"multiprocessing"``.
    problem : str
        The problem it implements.
    func : callable
        ``func(workers=..., **params, **options)`` returning the result.
    parallel : bool
        ``False`` for serial backends, which reject ``workers > 1``.
    options : sequence of ChoiceOption or TextOption
        Backend-specific keyword options (e.g. the start method).
    requires : sequence of str
        Importable modules it needs; without them it is left out of :func:`backends`.
    exact : bool
        ``True`` when the result equals the reference exactly (same arithmetic, same
        random streams); ``False`` when it only agrees within the problem's tolerance.
    """

    name: str
    problem: str
    func: Callable[..., Any]
    parallel: bool
    options: Sequence[Option] = ()
    requires: Sequence[str] = ()
    exact: bool = True
    available: Callable[[], str | None] | None = field(default=None, compare=False)

    def missing(self) -> str | None:
        """Return why the backend cannot run here, or ``None`` when it can."""
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                return f"the Python package providing {module!r} is not installed"
        if self.available is not None:
            return self.available()
        return None


PROBLEMS: dict[str, Problem] = {}
BACKENDS: dict[tuple[str, str], Backend] = {}


def register_problem(problem: Problem) -> Problem:
    """Add ``problem`` to the registry and return it."""
    PROBLEMS[problem.name] = problem
    return problem


def register_backend(
    name: str,
    problem: str,
    *,
    parallel: bool,
    options: Sequence[Option] = (),
    requires: Sequence[str] = (),
    exact: bool = True,
    available: Callable[[], str | None] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as backend ``name`` of ``problem``.

    Examples
    --------
    >>> @register_backend("numpy", "mandelbrot", parallel=False)  # doctest: +SKIP
    ... def mandelbrot_numpy(workers, width, height, max_iter):
    ...     ...
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        BACKENDS[(problem, name)] = Backend(
            name, problem, func, parallel, tuple(options), tuple(requires), exact, available
        )
        return func

    return decorate


def get_problem(name: Any) -> Problem:
    """Return the registered problem ``name`` or raise with the valid names."""
    if not isinstance(name, str):
        raise TypeError(f"problem must be a str, got {type(name).__name__} {name!r}")
    try:
        return PROBLEMS[name]
    except KeyError:
        valid = ", ".join(sorted(PROBLEMS))
        raise ValueError(f"unknown problem {name!r}; choose one of: {valid}") from None


def get_backend(problem: str, name: Any) -> Backend:
    """Return backend ``name`` of ``problem``, checking it can run on this machine."""
    if not isinstance(name, str):
        raise TypeError(f"backend must be a str, got {type(name).__name__} {name!r}")
    backend = BACKENDS.get((problem, name))
    if backend is None:
        valid = ", ".join(all_backend_names(problem))
        raise ValueError(
            f"unknown backend {name!r} for problem {problem!r}; choose one of: {valid}"
        )
    why = backend.missing()
    if why is not None:
        raise BackendUnavailableError(
            f"backend {name!r} is not available on this machine: {why}. "
            "Run `python -m kernels info` to see what is installed."
        )
    return backend


def all_backend_names(problem: str) -> list[str]:
    """Every backend registered for ``problem``, available here or not, in teaching order."""
    return [b for (p, b) in BACKENDS if p == problem]


def validate_workers(workers: Any, backend: Backend) -> int:
    """Return ``workers`` as an int, or raise a message naming what is allowed."""
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise TypeError(f"workers must be an int, got {type(workers).__name__} {workers!r}")
    workers = int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers > MAX_WORKERS:
        raise ValueError(f"workers must be <= {MAX_WORKERS}, got {workers}")
    if workers > 1 and not backend.parallel:
        raise ValueError(f"backend {backend.name!r} is serial: workers must be 1, got {workers}")
    return workers


def split_params(
    problem: Problem, backend: Backend, given: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate ``given`` keywords; return (problem params, backend options) with defaults."""
    declared: list[IntParam | Option] = [*problem.params, *backend.options]
    owner = f"{problem.name}/{backend.name}"
    values = validate_values(given, declared, owner)
    params = {p.name: values[p.name] for p in problem.params}
    options = {o.name: values[o.name] for o in backend.options}
    return params, options
