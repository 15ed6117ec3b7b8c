"""Chapter 09's measurement of ``nogil=True``: Python threads running compiled code.

The book's :func:`~kernels.numba.compute.mandelbrot_counts` is compiled with
``nogil=True``; the same Python function compiled without it holds the GIL for the
whole call. Rows dealt to a
``ThreadPoolExecutor`` then run at the same time, or one after another.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pandas as pd

from ..core.checking import cores_used
from ..core.timing import best_of
from ..problems import mandelbrot


def rows_on_threads(kernel, width: int, height: int, max_iter: int, workers: int):
    """The image with rows dealt round-robin to ``workers`` threads.

    Thread ``t`` makes one call, ``kernel(re, im[t::workers], max_iter, out[t::workers])``:
    its rows as strided views, so each thread crosses into compiled code once.
    """
    re, im = mandelbrot.coordinates(width, height)
    out = np.empty((height, width), dtype=np.int32)

    def rows(first: int) -> None:
        kernel(re, im[first::workers], max_iter, out[first::workers])

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(rows, range(workers)))
    return out


def gil_and_threads(workers: list[int], width: int, height: int, max_iter: int):
    """Seconds and cores used by :func:`rows_on_threads`, kernel with and without the GIL.

    Returns
    -------
    pandas.DataFrame
        ``kernel`` (``"nogil=True"`` or ``"holds the GIL"``), ``threads``, ``seconds``
        (best of 3 calls), ``cores`` (CPU time over wall time, over about 0.3 s of calls;
        thread start-up distorts it for short calls) and ``speedup`` (against the same
        kernel on 1 thread).
    """
    import numba

    from . import compute

    kernels = {"nogil=True": compute.mandelbrot_counts,
               "holds the GIL": numba.njit(compute.mandelbrot_counts.py_func)}  # fmt: skip
    expected = mandelbrot.reference(width, height, max_iter)
    rows = []
    for name, kernel in kernels.items():
        for count in workers:
            args = (kernel, width, height, max_iter, count)
            assert (rows_on_threads(*args) == expected).all()  # compiled, and exact
            _, cores = cores_used(rows_on_threads, *args)
            best = best_of(partial(rows_on_threads, *args), 3)
            rows.append({"kernel": name, "threads": count, "seconds": best,
                         "cores": round(cores, 2)})  # fmt: skip
    df = pd.DataFrame(rows)
    one = df[df["threads"] == 1].set_index("kernel")["seconds"]
    df["speedup"] = df["kernel"].map(one) / df["seconds"]
    return df
