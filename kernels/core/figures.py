"""Where and when a figure was measured: the last words of every caption.

These helpers only write text onto a figure they are given, so they need no plotting
library; the plots themselves are in :mod:`kernels.frontends.plot` and the chapters'
``demos.py``.
"""

from __future__ import annotations

import datetime

from .machine import machine_summary


def measured_on() -> str:
    """``"Measured <today> on <this machine>."``: the last words of every figure caption.

    Examples
    --------
    >>> measured_on().startswith("Measured ")
    True
    """
    return f"Measured {datetime.date.today():%Y-%m-%d} on {machine_summary()}."


def footnote(fig, what: str) -> None:
    """Write ``what`` and :func:`measured_on` under ``fig`` in small print."""
    fig.text(0.01, -0.02, f"{what} {measured_on()}", fontsize=8, ha="left", va="top", wrap=True)


def loglog_by(df, group: str, x: str, y: str, *, xlabel: str, ylabel: str, title: str,
              note: str, figsize=(7, 4)):  # fmt: skip
    """One log-log line of ``y`` against ``x`` per value of ``group``, with a footnote."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    for value, part in df.groupby(group, sort=False):
        ax.loglog(part[x], part[y], "o-", label=value)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    footnote(fig, note)
    return fig
