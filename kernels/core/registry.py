"""The registry of problems and backends behind :func:`kernels.run`.

Registration is data. Every backend of the book is an entry of
:mod:`kernels.core.catalogue`: its name, problem, whether it is parallel, its options,
the extra and the programs it needs, and where its function lives
(``"kernels.numba.backend:mandelbrot_numba"``). The registry knows all of them without
importing any tool; a backend's module is imported the first time it runs
(:attr:`Backend.func`). Problems are declared by the modules of :mod:`kernels.problems`,
loaded by name on first use. A reader's own backend is registered with
:func:`register_backend`, and the contract tests, parametrized over this registry, put it
under test.
"""

from __future__ import annotations

import importlib
import importlib.util
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import catalogue
from .errors import BackendUnavailableError
from .machine import find_command
from .params import IntParam, Option, validate_values

MAX_WORKERS = 512
PACKAGE = "parallel-python-kernels"


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
        ``"quick"`` (``KERNELS_QUICK=1``), ``"live"`` (a chapter's live scaling plot),
        ``"bench"`` (default benchmark size); a problem may add its own (Mandelbrot's
        ``"race"``, for chapter 12's head-to-head).
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


def install_hint(extra: str | None) -> str:
    """The command that installs an extra's libraries (or the whole book's)."""
    if extra is None:
        return "`pip install -e .` (or `make install`)"
    return f"`pip install '{PACKAGE}[{extra}]'` (or `make install`)"


@dataclass(frozen=True)
class Backend:
    """One implementation of one problem, known by data until it first runs.

    Parameters
    ----------
    name : str
        Fixed backend name, e.g. ``"multiprocessing"``.
    problem : str
        The problem it implements.
    target : str or callable
        ``"module:function"`` (imported on first use), or the function itself.
        The function is called as ``func(workers=..., **params, **options)``.
    parallel : bool
        ``False`` for serial backends, which reject ``workers > 1``.
    options : sequence of ChoiceOption or TextOption
        Backend-specific keyword options (e.g. the start method).
    extra : str, optional
        The optional dependency group of the package that installs ``requires``.
    requires : sequence of str
        Importable top-level modules (or compiled extensions) it needs; without them it
        is left out of :func:`kernels.backends`.
    programs : sequence of str
        Commands it runs (e.g. ``mpiexec``), looked for beside Python and on ``PATH``.
    exact : bool
        ``True`` when the result equals the reference exactly (same arithmetic, same
        random streams); ``False`` when it only agrees within the problem's tolerance.
    one_pool : bool
        ``True`` when its workers are one pool per program, resized to each call's count
        (joblib's loky executor), and a 1-worker call runs in the calling process: a call
        at another count above 1 stops or starts workers, so :func:`~kernels.core.bench.
        measure` times its counts one after another instead of alternating them.
    """

    name: str
    problem: str
    target: str | Callable[..., Any] = field(compare=False)
    parallel: bool
    options: Sequence[Option] = ()
    extra: str | None = None
    requires: Sequence[str] = ()
    programs: Sequence[str] = ()
    exact: bool = True
    one_pool: bool = False

    @property
    def module(self) -> str:
        """The module that defines the backend's function."""
        if callable(self.target):
            return self.target.__module__
        return self.target.partition(":")[0]

    @property
    def func(self) -> Callable[..., Any]:
        """The backend's function, its module imported now if it was not yet."""
        if callable(self.target):
            return self.target
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)

    def missing(self) -> str | None:
        """Return why the backend cannot run here (and how to fix it), or ``None``."""
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                if module.startswith("kernels."):
                    return (
                        f"the extension {module} was not compiled; reinstall with "
                        f"{install_hint(None)} (needs a C compiler) and read its messages"
                    )
                return (
                    f"the Python package providing {module!r} is not installed: "
                    f"{install_hint(self.extra)} brings it"
                )
        for program in self.programs:
            if find_command(program) is None:
                return f"`{program}` was not found: {install_hint(self.extra)} provides it"
        return None


PROBLEMS: dict[str, Problem] = {}
BACKENDS: dict[tuple[str, str], Backend] = {
    (entry.problem, entry.name): Backend(**entry._asdict()) for entry in catalogue.BACKENDS
}


def register_problem(problem: Problem) -> Problem:
    """Add ``problem`` to the registry and return it (called by a problem's module)."""
    PROBLEMS[problem.name] = problem
    return problem


def problem_specs() -> dict[str, Problem]:
    """Every problem, its module imported on first use, in teaching order."""
    for module in catalogue.PROBLEMS.values():
        importlib.import_module(module)
    return {name: PROBLEMS[name] for name in catalogue.PROBLEMS} | PROBLEMS


def register_backend(
    name: str,
    problem: str,
    *,
    parallel: bool,
    options: Sequence[Option] = (),
    requires: Sequence[str] = (),
    exact: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as backend ``name`` of ``problem``.

    Examples
    --------
    >>> import kernels
    >>> @register_backend("negated", "mandelbrot", parallel=False)
    ... def mandelbrot_negated(workers, width, height, max_iter):
    ...     return -kernels.reference("mandelbrot", width=width, height=height,
    ...                               max_iter=max_iter)
    >>> int(kernels.run("mandelbrot", "negated", width=4, height=3, max_iter=5).max())
    -1
    >>> del BACKENDS[("mandelbrot", "negated")]  # not a backend to keep
    """
    get_problem(problem)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        BACKENDS[(problem, name)] = Backend(
            name,
            problem,
            func,
            parallel,
            options=tuple(options),
            requires=tuple(requires),
            exact=exact,
        )
        return func

    return decorate


def get_problem(name: Any) -> Problem:
    """Return the registered problem ``name`` or raise with the valid names."""
    if not isinstance(name, str):
        raise TypeError(f"problem must be a str, got {type(name).__name__} {name!r}")
    specs = problem_specs()
    try:
        return specs[name]
    except KeyError:
        valid = ", ".join(sorted(specs))
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
