"""The heat step of chapter 02's program, vectorised: NumPy with and without temporaries, numexpr.

Each takes the field ``src`` and writes the next step's interior into ``dst`` (the
boundary of ``dst`` is left as it is), evaluating the specification's expression in its
order, so that all of them agree with the reference bit for bit.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..core.timing import best_of
from ..problems import heat
from . import profilers
from .program import jacobi_step


def step_one_line(src: np.ndarray, dst: np.ndarray) -> None:
    """The step as one NumPy expression: short, and every operation makes a temporary."""
    c = src[1:-1, 1:-1]
    up, down, left, right = src[:-2, 1:-1], src[2:, 1:-1], src[1:-1, :-2], src[1:-1, 2:]
    dst[1:-1, 1:-1] = c + heat.R * ((up + down) + (left + right) - 4.0 * c)


def step_strips(src: np.ndarray, dst: np.ndarray) -> None:
    """The book's NumPy step (:func:`kernels.problems.heat.step_rows`): strips through scratch."""
    heat.step_rows(src, dst, 1, src.shape[0] - 1)


def step_numexpr(src: np.ndarray, dst: np.ndarray) -> None:
    """The step as a numexpr expression: compiled, evaluated in cache-sized blocks, threaded."""
    import numexpr

    c = src[1:-1, 1:-1]
    up, down, left, right = src[:-2, 1:-1], src[2:, 1:-1], src[1:-1, :-2], src[1:-1, 2:]
    numexpr.evaluate("c + r * ((up + down) + (left + right) - 4.0 * c)", out=dst[1:-1, 1:-1],
                     local_dict={"c": c, "r": heat.R, "up": up, "down": down, "left": left,
                                 "right": right})  # fmt: skip


STEPS = {"NumPy, one expression": step_one_line, "NumPy, strips (the book's)": step_strips,
         "numexpr": step_numexpr}  # fmt: skip


def compare_steps(n: int, repeat: int = 5):
    """Time one step of each version on an ``n`` x ``n`` field, with its temporary memory.

    Returns a DataFrame: seconds per step (best of ``repeat``), the speed against plain
    Python, the peak of temporary memory in MiB (tracemalloc), and whether the field
    equals the reference's step bit for bit.
    """
    import pandas as pd

    src = heat.reference(n, 3)
    expected = heat.reference(n, 4)
    grid = src.tolist()
    rows = [{"version": "plain Python lists", "seconds": best_of(partial(jacobi_step, grid), 1),
             "temporary MiB": profilers.peak_bytes(jacobi_step, grid) / 2**20,
             "exact": np.array_equal(np.array(jacobi_step(grid)), expected)}]  # fmt: skip
    for name, step in STEPS.items():
        dst = src.copy()
        step(src, dst)
        rows.append({"version": name, "seconds": best_of(partial(step, src, dst), repeat),
                     "temporary MiB": profilers.peak_bytes(step, src, dst) / 2**20,
                     "exact": np.array_equal(dst, expected)})  # fmt: skip
    df = pd.DataFrame(rows)
    df["x plain Python"] = df["seconds"].iloc[0] / df["seconds"]
    return df


def simulate_numpy(n: int, steps: int, every: int = 2) -> tuple[np.ndarray, list, list]:
    """:func:`.program.simulate` vectorised: NumPy steps, array copies, NumPy diagnostics."""
    u = heat.initial(n)
    new = u.copy()
    history, lines = [], []
    for step in range(1, steps + 1):
        step_strips(u, new)
        u, new = new, u
        if step % every == 0:
            history.append(u.copy())
            lines.append(f"step {step:5d}  total {u.sum():12.6f}  max {u.max():.6f}")
    return u, history, lines
