"""Checkers for the dask chapter: a delayed graph, a halo update, a dataframe group-by."""

from __future__ import annotations

import tempfile
from collections.abc import Callable

import dask
import numpy as np
import pandas as pd

from ..core.checking import CheckResult, call, failed, needs_function, passed
from ..problems import heat


@needs_function
def check_sum_of_squares_graph(func: Callable[[int], object]) -> CheckResult:
    """Check ``func(n)`` returns a lazy graph: one task per square, then one sum."""
    for n in (1, 4, 10, 0):
        try:
            graph = call(func, n)
        except Exception as exc:
            return failed(f"func({n}) raised {type(exc).__name__}: {exc}",
                           "build a list of dask.delayed(square)(i), then "
                           "dask.delayed(sum)(that list).")  # fmt: skip
        if not dask.is_dask_collection(graph):
            return failed(f"func({n}) returned {type(graph).__name__} {graph!r}, not a "
                           "lazy dask object",
                           "return the delayed sum itself; don't call .compute() "
                           "inside the function.")  # fmt: skip
        tasks = len(graph.__dask_graph__())
        if n and tasks < n + 1:
            return failed(f"func({n}) has {tasks} task(s); a graph with one task per "
                           f"square and a final sum has {n + 1}",
                           "wrap the square function with dask.delayed and call it "
                           "once per number.")  # fmt: skip
        value = graph.compute(scheduler="synchronous")
        want = sum(i * i for i in range(n))
        if value != want:
            return failed(f"func({n}).compute() gave {value!r}, expected {want}",
                           "square each of range(n) and add them up.")  # fmt: skip
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
    for n, steps, blocks in [(10, 3, 1), (17, 6, 3), (24, 5, 4)]:
        try:
            got = _overlap_steps(func, n, steps, blocks)
        except Exception as exc:
            return failed(f"map_overlap with your function raised {type(exc).__name__}: "
                           f"{exc}",
                           "return a new array of the same shape as the block you are "
                           "given (halo rows included).")  # fmt: skip
        want = heat.reference(n, steps)
        if np.shape(got) != want.shape:
            return failed(f"n={n}, {steps} steps in {blocks} blocks gave shape "
                           f"{np.shape(got)}, expected {want.shape}",
                           "return the whole block, halo rows included: map_overlap "
                           "trims the halo itself.")  # fmt: skip
        error = float(np.max(np.abs(got - want)))
        if not error <= heat.TOLERANCE:
            return failed(f"n={n}, {steps} steps in {blocks} blocks differs from the "
                           f"reference by up to {error:.3g}",
                           "update rows 1..-2 and columns 1..-2 from the old block only; "
                           "copy the first and last row and column unchanged (they are "
                           "halo rows or the fixed boundary).")  # fmt: skip
    return passed("the halo rows carry each block's neighbours, and the result is exact.")


@needs_function
def check_fare_by_zone(func: Callable[[str], pd.Series]) -> CheckResult:
    """Check ``func(folder)`` is the mean fare per zone of the Parquet files in ``folder``."""
    from .demos import make_trips, write_trips

    with tempfile.TemporaryDirectory(prefix="kernels-trips-") as folder:
        write_trips(folder, 5_000, 3, seed=7)
        want = make_trips(5_000, seed=7).groupby("zone", observed=True)["fare"].mean()
        try:
            got = call(func, folder)
        except Exception as exc:
            return failed(f"func(folder) raised {type(exc).__name__}: {exc}",
                           "dd.read_parquet(folder), group by 'zone', take the mean "
                           "of 'fare', and .compute().")  # fmt: skip
    if dask.is_dask_collection(got):
        return failed("func(folder) returned a lazy dask object",
                       "call .compute() to get the pandas result.")  # fmt: skip
    if not isinstance(got, pd.Series):
        return failed(f"func(folder) returned {type(got).__name__}, expected a pandas Series",
                       "select the 'fare' column before .mean(), so the result is a "
                       "Series indexed by zone.")  # fmt: skip
    got = got.rename(index=str).sort_index()
    want = want.rename(index=str).sort_index()
    if list(got.index) != list(want.index) or not np.allclose(got.to_numpy(), want.to_numpy()):
        return failed("the mean fares per zone differ from pandas on the same files",
                       "group by 'zone' (not another column) and average 'fare' over "
                       "all the files in the folder.")  # fmt: skip
    return passed("dask.dataframe read every partition and agrees with pandas.")
