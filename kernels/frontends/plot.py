"""Figures: speedup and efficiency from :func:`~kernels.core.bench.measure`, laws, pictures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..core.figures import footnote, measured_on
from ..core.laws import amdahl_speedup, fit_serial_fraction, gustafson_speedup

__all__ = ["caption", "footnote", "laws", "measured_on", "problem_pictures", "row_costs", "speedup"]


def caption(df: pd.DataFrame) -> str:
    """Where and on what the measurement in ``df`` was made, for a static page."""
    problem = ", ".join(sorted(set(df["problem"]))) if len(df) else "?"
    params = df["params"].iloc[0] if len(df) else {}
    shown = " ".join(f"{k}={v}" for k, v in params.items())
    repeats = len(df["seconds"].iloc[0]) if len(df) else 0
    scaling = df["scaling"].iloc[0] if len(df) else "strong"
    spread = "; bars: the fastest and slowest run" if repeats > 1 else ""
    return (
        f"{problem} ({shown}; {scaling} scaling), median of {repeats} after a warm-up"
        f"{spread}. " + measured_on()
    )


def run_spread(group: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest value of ``column`` over each point's timed runs.

    A speedup or an efficiency is inversely proportional to the time it is computed
    from (the median, ``median_s``): the slowest run gives the lowest value, the fastest
    the highest. Machines are noisy; the bars show how far one point could move.

    Examples
    --------
    >>> runs = pd.DataFrame({"median_s": [2.0], "seconds": [[1.0, 2.0, 4.0]], "s": [3.0]})
    >>> run_spread(runs, "s")
    (array([1.5]), array([6.]))
    """
    scale = group[column].to_numpy() * group["median_s"].to_numpy()
    slowest = np.array([max(runs) for runs in group["seconds"]])
    fastest = np.array([min(runs) for runs in group["seconds"]])
    return scale / slowest, scale / fastest


def speedup(df: pd.DataFrame, ax=None, relative_to: str = "self"):
    """Plot speedup (and efficiency) against workers for every backend in ``df``.

    Each point is the median run; a bar through it spans the fastest and the slowest.

    Parameters
    ----------
    df : pandas.DataFrame
        A table from :func:`kernels.core.bench.measure`.
    ax : matplotlib.axes.Axes, optional
        Draw only the speedup panel on this axes. By default a new figure with a speedup
        and an efficiency panel is made.
    relative_to : {"self", "baseline"}
        ``"self"``: each backend against its own 1-worker run (what Amdahl's law
        describes, fitted per backend with its serial fraction ``f``); ``"baseline"``:
        against the fastest 1-worker run in ``df``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, captioned with the machine (CPU model, cores) and the problem size.

    Examples
    --------
    >>> from kernels.core.bench import measure
    >>> df = measure("heat", ["numpy", "threads"], workers=[1, 2], repeat=1, n=32, steps=3)
    >>> fig = speedup(df)
    """
    if relative_to not in {"self", "baseline"}:
        raise ValueError(f"relative_to must be 'self' or 'baseline', got {relative_to!r}")
    column = "self_speedup" if relative_to == "self" else "speedup"
    weak = len(df) > 0 and (df["scaling"] == "weak").any()
    if ax is None:
        fig, (ax, ax_eff) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    else:
        fig, ax_eff = ax.figure, None
    max_workers = int(df["workers"].max()) if len(df) else 1
    ideal = np.arange(1, max_workers + 1)
    ax.plot(ideal, ideal, ":", color="grey", label="ideal")
    for name, group in df.groupby("backend", sort=False):
        group = group.sort_values("workers")
        p, s = group["workers"].to_numpy(), group[column].to_numpy()
        (line,) = ax.plot(p, s, "o-", label=name)
        ax.vlines(p, *run_spread(group, column), color=line.get_color(), alpha=0.5)
        if len(group) > 1 and not weak:
            f = fit_serial_fraction(p, group["self_speedup"].to_numpy())
            line.set_label(f"{name} (Amdahl fit f={f:.2f})")
            fine = np.linspace(1, max_workers, 50)
            scale = s[0] if relative_to == "baseline" else 1.0
            ax.plot(fine, scale * amdahl_speedup(fine, f), "--", lw=1, alpha=0.6,
                    color=line.get_color())  # fmt: skip
        if ax_eff is not None:
            eff = "self_efficiency" if relative_to == "self" else "efficiency"
            ax_eff.plot(p, group[eff], "o-", color=line.get_color(), label=name)
            ax_eff.vlines(p, *run_spread(group, eff), color=line.get_color(), alpha=0.5)
    what = "scaled speedup" if weak else "speedup"
    ax.set(
        xlabel="workers",
        ylabel=f"{what} ({'own 1-worker run' if relative_to == 'self' else 'best serial'} = 1)",
    )
    ax.set_xticks(ideal)
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    if ax_eff is not None:
        ax_eff.axhline(1.0, ls=":", color="grey")
        ax_eff.set(xlabel="workers", ylabel="parallel efficiency", ylim=(0, 1.2))
        ax_eff.set_xticks(ideal)
        ax_eff.grid(alpha=0.3)
        fig.suptitle(f"{what.capitalize()} on this machine", fontsize="medium")
    fig.text(0.5, -0.02, caption(df), ha="center", va="top", fontsize="x-small", wrap=True)
    return fig


def laws(serial_fractions=(0.01, 0.05, 0.1, 0.25), max_workers: int = 64):
    """Amdahl's (fixed size) and Gustafson's (scaled size) speedups side by side."""
    p = np.arange(1, max_workers + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained", sharey=True)
    for f in serial_fractions:
        left.plot(p, amdahl_speedup(p, f), label=f"f = {f:g}")
        right.plot(p, gustafson_speedup(p, f), label=f"f = {f:g}")
    for ax, title in ((left, "Amdahl: fixed problem"), (right, "Gustafson: problem grows with p")):
        ax.plot(p, p, ":", color="grey", label="ideal")
        ax.set(title=title, xlabel="workers p", xscale="log", yscale="log")
        ax.grid(alpha=0.3, which="both")
    left.set_ylabel("speedup")
    right.legend(title="serial fraction")
    return fig


def problem_pictures(mandelbrot_counts: np.ndarray, heat_field: np.ndarray):
    """The Mandelbrot escape counts and the heat field, side by side."""
    from ..problems import mandelbrot

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    extent = (*mandelbrot.REAL_RANGE, *mandelbrot.IMAG_RANGE)
    im = left.imshow(np.log1p(mandelbrot_counts), extent=extent, origin="lower", cmap="magma")
    left.set(title="mandelbrot: log(1 + escape count)", xlabel="Re c", ylabel="Im c")
    fig.colorbar(im, ax=left, shrink=0.8)
    im = right.imshow(heat_field, extent=(0, 1, 0, 1), origin="lower", cmap="inferno")
    right.set(title="heat: temperature after diffusion", xlabel="x", ylabel="y")
    fig.colorbar(im, ax=right, shrink=0.8)
    return fig


def row_costs(counts: np.ndarray, workers: int):
    """Work per row of the Mandelbrot image, and each worker's share for two splits."""
    from ..problems.mandelbrot import interleaved_rows

    cost = counts.sum(axis=1).astype(float)
    height = len(cost)
    blocks = np.array_split(np.arange(height), workers)
    interleaved = interleaved_rows(height, workers)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    left.plot(cost)
    left.set(title="iterations per row", xlabel="row", ylabel="iterations")
    x = np.arange(workers)
    right.bar(x - 0.2, [cost[b].sum() for b in blocks], 0.4, label="contiguous blocks")
    right.bar(x + 0.2, [cost[r].sum() for r in interleaved], 0.4, label="interleaved rows")
    right.set(title=f"work per worker ({workers} workers)", xlabel="worker", xticks=x)
    right.legend()
    return fig
