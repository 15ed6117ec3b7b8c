"""Checkers for the dask chapter: a delayed graph, a halo update, a dataframe group-by."""

from __future__ import annotations

import tempfile
from collections.abc import Callable

import dask
import numpy as np
import pandas as pd
from dask.callbacks import Callback

from ..core.checking import (
    CheckResult,
    attempt,
    failed,
    fresh_rng,
    needs_function,
    passed,
    what_it_raised,
)
from ..problems import heat


@needs_function
def check_sum_of_squares_graph(func: Callable[[int], object]) -> CheckResult:
    """Check ``func(n)`` returns a lazy graph: one task per square, then one sum."""
    rng = fresh_rng()
    for n in (0, 1, *(int(v) for v in rng.integers(3, 40, 3))):
        graph = attempt(func, n, what=f"func({n})",
                        hint="wrap the square function with dask.delayed, call it once per number, "
                             "and add the results up in one more delayed call.")  # fmt: skip
        if not dask.is_dask_collection(graph):
            return failed(f"func({n}) returned {type(graph).__name__}, not a lazy dask "
                           "object",
                           "return the delayed sum itself; don't call .compute() "
                           "inside the function.")  # fmt: skip
        squares = sum(1 for key in graph.__dask_graph__() if "square" in str(key))
        if n and squares != n:
            return failed(f"func({n}) has {squares} square task(s) for {n} numbers",
                           "one delayed call of tasks.square per number, so that dask can "
                           "run them in parallel.")  # fmt: skip
        value = graph.compute(scheduler="synchronous")
        if value != sum(i * i for i in range(n)):
            return failed(f"func({n}).compute() gives the wrong total",
                           "the numbers are 0, 1, ..., n - 1, as range(n) gives "
                           "them.")  # fmt: skip
    return passed("one delayed task per square and a final sum.")


def _overlap_steps(step: Callable, n: int, steps: int, blocks: int) -> np.ndarray:
    import dask.array as da

    u = da.from_array(heat.initial(n), chunks=(-(-n // blocks), n))
    for _ in range(steps):
        u = u.map_overlap(step, depth={0: 1, 1: 0}, boundary="none", dtype=np.float64,
                          meta=np.empty((0, 0)))  # fmt: skip
    return u.compute(scheduler="synchronous")


@needs_function
def check_halo_step(func: Callable[[np.ndarray], np.ndarray]) -> CheckResult:
    """Check ``func(block)`` is one heat step of a block that carries one halo row each side."""
    rng = fresh_rng()
    cases = [(int(rng.integers(6, 12)), int(rng.integers(1, 4)), 1)]
    cases += [(int(rng.integers(14, 48)), int(rng.integers(3, 9)), int(rng.integers(2, 6)))
              for _ in range(2)]  # fmt: skip
    for n, steps, blocks in cases:
        case = f"n={n}, {steps} steps in {blocks} block(s)"
        try:
            got = _overlap_steps(func, n, steps, blocks)
        except Exception as exc:
            return failed(f"{case}: map_overlap with your function raised "
                           f"{what_it_raised(exc)}",
                           "return a new array of the same shape as the block you are "
                           "given (halo rows included).")  # fmt: skip
        want = heat.reference(n, steps)
        if np.shape(got) != want.shape:
            return failed(f"{case}: the field came back with the wrong shape",
                           "return the whole block, halo rows included: map_overlap "
                           "trims the halo itself.")  # fmt: skip
        if not np.max(np.abs(got - want)) <= heat.TOLERANCE:
            return failed(f"{case}: the field differs from the reference",
                           "every new value comes from the old block only, and the rows "
                           "and columns a step cannot update (halo rows, the fixed "
                           "boundary) must come back as they were.")  # fmt: skip
    return passed("the halo rows carry each block's neighbours, and the result is exact.")


class _TaskCount(Callback):
    """Counts the tasks dask's local schedulers run while it is active."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks = 0

    def _pretask(self, key, dsk, state) -> None:
        self.tasks += 1


@needs_function
def check_fare_by_zone(func: Callable[[str], pd.Series]) -> CheckResult:
    """Check ``func(folder)`` is the mean fare per zone of the Parquet files, by dask."""
    from .demos import make_trips, write_trips

    rng = fresh_rng()
    rows, files, seed = (
        int(rng.integers(2_000, 8_000)),
        int(rng.integers(2, 6)),
        int(rng.integers(10**6)),
    )
    want = make_trips(rows, seed=seed).groupby("zone", observed=True)["fare"].mean()
    with tempfile.TemporaryDirectory(prefix="kernels-trips-") as folder, _TaskCount() as count:
        write_trips(folder, rows, files, seed=seed)
        got = attempt(func, folder, what="func(folder)",
                      hint="read the folder with dask.dataframe, group, aggregate, "
                           "and compute.")  # fmt: skip
    if dask.is_dask_collection(got):
        return failed("func(folder) returned a lazy dask object",
                       "call .compute() to get the pandas result.")  # fmt: skip
    if not isinstance(got, pd.Series):
        return failed(f"func(folder) returned {type(got).__name__}, expected a pandas Series",
                       "select the 'fare' column before aggregating, so the result is a "
                       "Series indexed by zone.")  # fmt: skip
    got = got.rename(index=str).sort_index()
    want = want.rename(index=str).sort_index()
    if list(got.index) != list(want.index):
        return failed("the result is not indexed by the zones of the trips",
                       "group by the 'zone' column.")  # fmt: skip
    if not np.allclose(got.to_numpy(), want.to_numpy()):
        return failed("the values per zone differ from pandas on the same files",
                       "the mean of 'fare', over the trips of all the files in the "
                       "folder.")  # fmt: skip
    if count.tasks < files:
        return failed(f"dask ran {count.tasks} task(s) for {files} files: the work was not "
                       "done by dask.dataframe",
                       "dd.read_parquet gives one partition per file; the point is that "
                       "dask works through them in parallel.")  # fmt: skip
    return passed("dask.dataframe read every partition and agrees with pandas.")
