"""Chapter 02's figures and tables: a profile as bars, and Amdahl's law read from a profile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..core import figures, laws


def plot_profile(table, title: str):
    """Horizontal bars of each function's own and cumulative share of a profile's time.

    ``table`` is :func:`kernels.profiling.profilers.stats_table`'s DataFrame.
    """
    import matplotlib.pyplot as plt

    df = table.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(df) + 1.4))
    y = range(len(df))
    ax.barh([v + 0.2 for v in y], df["cumulative %"], height=0.4, color="#9ecae1",
            label="cumulative (with what it calls)")  # fmt: skip
    ax.barh([v - 0.2 for v in y], df["own %"], height=0.4, color="#08519c", label="own code")
    ax.set_yticks(list(y), [name[:40] for name in df["function"]])
    ax.set_xlabel("% of the profiled time")
    ax.set_title(title)
    ax.legend(loc="lower right")
    figures.footnote(fig, "cProfile")
    fig.tight_layout()
    return fig


def amdahl_from_shares(shares: Mapping[str, float], parallel: Sequence[str],
                       workers: Sequence[int] = (2, 4, 8, 16)):  # fmt: skip
    """The speedups Amdahl's law predicts when only the ``parallel`` functions are shared.

    ``shares`` maps function names to their share of the run time (a profile's
    cumulative fractions). Returns a DataFrame, one row per worker count, and the limit.
    """
    import pandas as pd

    serial = 1.0 - sum(shares[name] for name in parallel)
    rows = [{"workers": p, "predicted speedup": float(laws.amdahl_speedup(p, serial))}
            for p in workers]  # fmt: skip
    rows.append({"workers": "unlimited", "predicted speedup": 1.0 / serial})
    return pd.DataFrame(rows).round(2), serial
