"""The program chapter 02 profiles: the heat problem in plain Python, written as people do.

It keeps a history of the field for plotting later (a deep copy every few steps) and
prints a line of diagnostics now and then: the kind of bookkeeping that is invisible
when reading the code and obvious in a profile. The field it returns is the heat
problem's reference, bit for bit (:func:`kernels.problems.heat.solve_python` is the same
loop without the bookkeeping).

Run it as a script, so that a sampling profiler can watch it from outside::

    python -m kernels.profiling.program --n 150 --steps 60
"""

from __future__ import annotations

import argparse
import copy
import math

from ..problems import heat


def initial_grid(n: int) -> list[list[float]]:
    """The heat problem's initial field as a list of ``n`` rows of floats."""
    return heat.initial(n).tolist()


def jacobi_step(grid: list[list[float]]) -> list[list[float]]:
    """One step of the 5-point update, in the specification's order, into a new grid."""
    n = len(grid)
    new = [row[:] for row in grid]
    for i in range(1, n - 1):
        up, row, down = grid[i - 1], grid[i], grid[i + 1]
        for j in range(1, n - 1):
            c = row[j]
            new[i][j] = c + heat.R * ((up[j] + down[j]) + (row[j - 1] + row[j + 1]) - 4.0 * c)
    return new


def total_heat(grid: list[list[float]]) -> float:
    """The sum of the field, a diagnostic that should slowly fall as heat leaves the edges."""
    return math.fsum(math.fsum(row) for row in grid)


def snapshot(grid: list[list[float]]) -> list[list[float]]:
    """A copy of the field to keep in the history (``copy.deepcopy``: safe, and slow)."""
    return copy.deepcopy(grid)


def copy_rows(grid: list[list[float]]) -> list[list[float]]:
    """A copy of the field made row by row: a float is immutable, so nothing deeper is needed."""
    return [row[:] for row in grid]


def report(step: int, grid: list[list[float]]) -> str:
    """One line of diagnostics: the step, the total heat and the hottest point."""
    hottest = max(max(row) for row in grid)
    return f"step {step:5d}  total {total_heat(grid):12.6f}  max {hottest:.6f}"


def simulate(n: int, steps: int, every: int = 2, keep=snapshot) -> tuple[list, list, list]:
    """Run ``steps`` steps on an ``n`` x ``n`` grid; keep a copy and a report every ``every``.

    Returns the final grid, the kept copies and the report lines. ``keep`` is the
    function that copies the field for the history.
    """
    grid = initial_grid(n)
    history, lines = [], []
    for step in range(1, steps + 1):
        grid = jacobi_step(grid)
        if step % every == 0:
            history.append(keep(grid))
            lines.append(report(step, grid))
    return grid, history, lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=150, help="grid points per side")
    parser.add_argument("--steps", type=int, default=60, help="time steps")
    parser.add_argument("--every", type=int, default=2, help="steps between snapshots")
    args = parser.parse_args(argv)
    if args.n < 3 or args.steps < 1 or args.every < 1:
        parser.error("need --n >= 3, --steps >= 1 and --every >= 1")
    _, history, lines = simulate(args.n, args.steps, args.every)
    print(lines[-1] if lines else "no report", f"({len(history)} snapshots kept)")


if __name__ == "__main__":
    main()
