"""Measurements chapter 04 shows live: what pickle and dill send, and pool start-up.

Each ``measure_...`` function returns a :class:`pandas.DataFrame`; each ``plot_...``
draws it with a caption naming the machine.
"""

from __future__ import annotations

import functools
import pickle
from typing import TYPE_CHECKING, Any

import dill

from ..core import tasks
from ..core.figures import footnote
from ..core.timing import best_of
from ..core.watched_pool import watched_pool

if TYPE_CHECKING:
    import pandas as pd


def measure_serialisation(objects: dict[str, Any], repeat: int = 5) -> pd.DataFrame:
    """Size and time of ``dumps`` + ``loads`` with ``pickle`` and with ``dill``.

    Returns
    -------
    pandas.DataFrame
        Columns ``object``, ``library``, ``bytes`` and ``seconds`` (best of ``repeat``),
        or ``error`` where the library cannot serialise the object.
    """
    rows = []
    for label, obj in objects.items():
        for library in (pickle, dill):
            try:
                data = library.dumps(obj)
            except Exception as exc:  # what cannot be serialised is the lesson
                rows.append(
                    {
                        "object": label,
                        "library": library.__name__,
                        "bytes": None,
                        "seconds": None,
                        "error": f"{type(exc).__name__}: {exc}"[:90],
                    }
                )
                continue
            seconds = best_of(functools.partial(_round_trip, library, obj), repeat)
            rows.append({"object": label, "library": library.__name__, "bytes": len(data),
                         "seconds": seconds, "error": ""})  # fmt: skip
    import pandas as pd

    return pd.DataFrame(rows)


def plot_serialisation(df: pd.DataFrame):
    """Bars of dumps + loads time per object for pickle and dill (missing: cannot)."""
    ok = df[df["seconds"].notna()]
    table = ok.pivot(index="object", columns="library", values="seconds")
    table = table.reindex([o for o in dict.fromkeys(df["object"]) if o in table.index])
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    table.mul(1e3).plot.barh(ax=ax, logx=True)
    ax.set_xlabel("milliseconds for dumps + loads (log scale; no bar: cannot serialise)")
    ax.set_ylabel("")
    ax.set_title("pickle vs dill")
    footnote(fig, "Best of repeats, in this process.")
    return fig


def _round_trip(library: Any, obj: Any) -> Any:
    return library.loads(library.dumps(obj))


def measure_pool_startup(workers: int, repeat: int = 3) -> pd.DataFrame:
    """Seconds to start a ``spawn`` pool, run one tiny task per worker and shut down."""
    rows = []
    for library in ("multiprocessing", "multiprocess"):

        def cycle(library: str = library) -> None:
            with watched_pool(workers, "spawn", library) as pool:
                pool.map(tasks.square, range(workers))

        rows.append({"library": library, "workers": workers, "seconds": best_of(cycle, repeat)})
    import pandas as pd

    return pd.DataFrame(rows)
