"""Benchmarks: every backend at every worker count, with speedup and efficiency.

:func:`measure` returns a :class:`pandas.DataFrame`; pandas and tqdm are imported when
it runs, not when :mod:`kernels` is imported.
"""

from __future__ import annotations

import functools
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .api import backends as available_backends
from .api import run
from .errors import require_count
from .params import validate_values
from .registry import Backend, get_backend, get_problem
from .timing import best_of, checksum, time_call

__all__ = ["COLUMNS", "add_speedups", "best_of", "checksum", "measure", "time_call", "to_records"]

if TYPE_CHECKING:
    import pandas as pd

SCALINGS = ("strong", "weak")

#: The most rounds a ``budget`` adds up to (:func:`measure`).
MAX_ROUNDS = 50

COLUMNS = [
    "problem", "backend", "workers", "params", "seconds", "median_s", "best_s",
    "speedup", "efficiency", "self_speedup", "self_efficiency", "checksum", "scaling",
]  # fmt: skip


def _worker_counts(workers: Iterable[int] | int) -> list[int]:
    counts = [workers] if isinstance(workers, int) else list(workers)
    if not counts:
        raise ValueError("workers must name at least one worker count, e.g. [1, 2]")
    for w in counts:
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise ValueError(f"worker counts must be ints >= 1, got {w!r}")
    return sorted(set(counts))


def alternation(points: Sequence[tuple[Backend, int]]) -> list[list[tuple[Backend, int]]]:
    """The points of a measurement in stages; within a stage, the timed runs alternate.

    Each round of a stage times one run of every point in it, so that a slow stretch of
    a noisy machine falls on every backend and worker count alike, not on one point's
    runs. A backend whose workers are one pool resized to each call's count
    (:attr:`~kernels.core.registry.Backend.one_pool`, joblib) would stop or start
    workers at each switch between two counts above 1: when it is measured at more than
    one such count, each of those points is a stage of its own, timed in a row.

    Examples
    --------
    >>> from kernels.core.registry import get_backend
    >>> threads, joblib = get_backend("heat", "threads"), get_backend("heat", "joblib")
    >>> points = [(b, w) for b in (threads, joblib) for w in (1, 2, 3)]
    >>> [[f"{b.name} x{w}" for b, w in stage] for stage in alternation(points)]
    [['threads x1', 'threads x2', 'threads x3', 'joblib x1'], ['joblib x2'], ['joblib x3']]
    """
    above_one = Counter(impl.name for impl, w in points if impl.one_pool and w > 1)
    alone = [(impl, w) for impl, w in points if w > 1 and above_one[impl.name] > 1]
    together = [point for point in points if point not in alone]
    stages = [[point] for point in alone]
    return [together, *stages] if together else stages


def more_rounds(rounds: int, spent: float, repeat: int, budget: float | None) -> bool:
    """Whether a stage times another round: ``repeat`` of them, then while ``budget`` lasts.

    Examples
    --------
    >>> more_rounds(2, 9.0, repeat=3, budget=None), more_rounds(3, 0.2, repeat=3, budget=None)
    (True, False)
    >>> more_rounds(3, 0.2, repeat=3, budget=0.5), more_rounds(MAX_ROUNDS, 0.2, 3, 0.5)
    (True, False)
    """
    if rounds < repeat:
        return True
    return budget is not None and spent < budget and rounds < MAX_ROUNDS


def measure(
    problem: str,
    backends: Sequence[str] | str | None = None,
    workers: Iterable[int] | int = (1, 2),
    repeat: int = 3,
    scaling: str = "strong",
    progress: bool | Callable[[int, int, str], None] = False,
    warmup: bool | dict[str, Any] = True,
    budget: float | None = None,
    number: int = 1,
    **params: Any,
) -> pd.DataFrame:
    """Time ``backends`` on ``problem`` at each worker count.

    Parameters
    ----------
    problem : str
        One of :func:`kernels.problems`.
    backends : list of str, optional
        Backends to measure (default: every backend available here). Serial backends
        are measured at ``workers=1`` only.
    workers : list of int
        Worker counts for the parallel backends.
    repeat : int
        Timed runs per point, after one uncounted warm-up run. The runs alternate
        between the points, one of each per round (:func:`alternation`).
    budget : float, optional
        Seconds: after the ``repeat`` rounds, more rounds follow until the timed runs of
        the stage have taken this long in all (at most :data:`MAX_ROUNDS` rounds), as
        ``timeit``'s autorange does. Points of a few milliseconds then get tens of runs
        and a steadier median; points of seconds get ``repeat``.
    number : int
        Calls per timed run, made back to back; the run's time is their mean (as
        ``timeit``'s ``number``). Above 1, a run is what a call costs in a program that
        makes it in a loop: only the first of them follows the pause in which the other
        points ran and this point's cores were idle (on a virtual machine, an idle core
        can take milliseconds to answer again).
    scaling : {"strong", "weak"}
        ``"strong"`` keeps the problem fixed (Amdahl); ``"weak"`` grows it with the
        worker count (Gustafson), as the problem's ``weak_scale`` defines.
    progress : bool or callable
        ``True`` shows a tqdm bar; a callable gets ``(done, total, label)`` after each
        timed run.
    warmup : bool or dict
        ``False`` leaves out the warm-up run. A dict of problem parameters makes it a run
        at those parameters instead (smaller sizes, say ``sizes.params(problem,
        "quick")``): for backends whose one-off costs (imports in the workers, the task's
        code sent to them) do not grow with the size, so that the warm-up does not cost
        a full run. Not for JAX, which compiles a program per array shape.
    **params
        Problem parameters and backend options (the problem's defaults fill the rest).

    Returns
    -------
    pandas.DataFrame
        One row per (backend, workers): ``seconds`` (one per timed run, per call),
        ``median_s``, ``best_s``, ``speedup`` and ``efficiency`` against the fastest
        1-worker run measured (for weak scaling, the scaled speedup ``p * T1 / Tp``),
        ``self_speedup`` and ``self_efficiency`` against the same backend's own 1-worker
        run, ``checksum``.

    Examples
    --------
    >>> df = measure("heat", ["numpy", "threads"], workers=[1, 2], repeat=1, n=32, steps=5)
    >>> df[["backend", "workers"]].values.tolist()
    [['numpy', 1], ['threads', 1], ['threads', 2]]
    """
    import pandas as pd
    from tqdm.auto import tqdm

    spec = get_problem(problem)
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {', '.join(SCALINGS)}, got {scaling!r}")
    require_count("repeat", repeat)
    if budget is not None and not (isinstance(budget, int | float) and budget >= 0):
        raise ValueError(f"budget must be seconds >= 0 or None, got {budget!r}")
    require_count("number", number)
    names = (
        [backends] if isinstance(backends, str) else list(backends or available_backends(problem))
    )
    if not names:
        raise ValueError(f"no backend to measure for {problem!r}")
    impls = [get_backend(problem, name) for name in names]
    points = [
        (impl, w) for impl in impls for w in (_worker_counts(workers) if impl.parallel else [1])
    ]
    problem_names = {p.name for p in spec.params}
    option_names = {o.name for impl in impls for o in impl.options}
    unknown = sorted(set(params) - problem_names - option_names)
    if unknown:
        allowed = ", ".join(sorted(problem_names | option_names))
        raise TypeError(f"{problem}: unknown parameter(s) {', '.join(unknown)}; allowed: {allowed}")
    base_values = validate_values(
        {k: v for k, v in params.items() if k in problem_names}, spec.params, problem
    )

    values_at, call_of = {}, {}
    for impl, w in points:
        own = {k: v for k, v in params.items() if k in {o.name for o in impl.options}}
        values = spec.weak_scale(base_values, w) if scaling == "weak" else base_values
        values_at[impl.name, w] = values
        call_of[impl.name, w] = functools.partial(run, problem, impl.name, w, **values, **own)
    seconds: dict[tuple[str, int], list[float]] = {key: [] for key in call_of}
    results = {}
    done, total = 0, len(points) * repeat
    bar = tqdm(total=total, desc=problem, disable=progress is not True, leave=False)
    try:
        for stage in alternation(points):
            for impl, w in stage:  # the warm-up, at the sizes of a warmup dict if given
                if warmup is not False:
                    call_of[impl.name, w](**(warmup if isinstance(warmup, dict) else {}))
            rounds, spent = 0, 0.0
            while more_rounds(rounds, spent, repeat, budget):
                if rounds >= repeat:  # a round the budget adds
                    total += len(stage)
                    bar.total = total
                for impl, w in stage:
                    label = f"{impl.name} x{w}"
                    bar.set_postfix_str(label)
                    elapsed, results[impl.name, w] = time_call(
                        call_of[impl.name, w], 1, False, number=number
                    )
                    seconds[impl.name, w] += elapsed
                    spent += elapsed[0] * number
                    done += 1
                    bar.update()
                    if callable(progress):
                        progress(done, total, label)
                rounds += 1
    finally:
        bar.close()
    rows = []
    for impl, w in points:
        times = seconds[impl.name, w]
        rows.append({
            "problem": problem, "backend": impl.name, "workers": w,
            "params": dict(values_at[impl.name, w]), "seconds": times,
            "median_s": statistics.median(times), "best_s": min(times),
            "checksum": checksum(results[impl.name, w]), "scaling": scaling,
        })  # fmt: skip
    return add_speedups(pd.DataFrame(rows))[COLUMNS]


def add_speedups(df: pd.DataFrame) -> pd.DataFrame:
    """Add the speedup and efficiency columns to rows of ``median_s`` per backend/workers."""
    df = df.copy()
    serial = df.loc[df["workers"] == 1, "median_s"]
    baseline = serial.min() if not serial.empty else np.nan
    own_one = df[df["workers"] == 1].set_index("backend")["median_s"]
    t1 = df["backend"].map(own_one)
    w = df["workers"].astype(float)
    if (df["scaling"] == "weak").any():
        # The work grows with p: a perfect run keeps its time, and p times the work is done.
        df["self_efficiency"] = t1 / df["median_s"]
        df["self_speedup"] = w * df["self_efficiency"]
        df["speedup"] = w * baseline / df["median_s"]
    else:
        df["self_speedup"] = t1 / df["median_s"]
        df["self_efficiency"] = df["self_speedup"] / w
        df["speedup"] = baseline / df["median_s"]
    df["efficiency"] = df["speedup"] / w
    return df


def to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a :func:`measure` table as JSON-ready dicts (the CLI's ``--json``)."""
    records = []
    for row in df.to_dict(orient="records"):
        records.append(
            {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        )
    return records
