"""The dask task graphs of the three problems, shared by both dask backends.

* Mandelbrot and Monte Carlo reuse the plans of the pool backends
  (:mod:`kernels.problems.plans`): one ``dask.delayed`` task per row set or chunk group.
* :func:`mandelbrot_array` is the same image as a ``dask.array`` built block by block
  (the chapter compares chunk sizes with it).
* :func:`heat_array` runs the stencil with ``map_overlap``: every block is extended by
  a halo of ``k`` rows from its neighbours and advanced ``k`` steps on its own, so the
  blocks meet once every ``k`` steps instead of every step. The rows near a block's
  edge go stale one row per step, are not computed (:func:`advance_block`), and exactly
  those ``k`` rows are trimmed off afterwards, so the result is bit for bit the serial
  one.
"""

from __future__ import annotations

import itertools
import math

import dask
import dask.array as da
import numpy as np

from ..core.plans import Plan
from ..problems import heat, mandelbrot
from ..problems.heat import advance, default_halo_steps


def delayed_tasks(plan: Plan) -> list:
    """One ``dask.delayed`` call per task of ``plan``, in task order (nothing runs yet)."""
    func = dask.delayed(plan.func, pure=True)
    return [func(task) for task in plan.tasks]


def compute_plan(plan: Plan, **compute_kwargs) -> object:
    """Run ``plan`` with :func:`dask.compute` (``scheduler=``, ``num_workers=`` ...)."""
    return plan.combine(list(dask.compute(*delayed_tasks(plan), **compute_kwargs)))


def mandelbrot_array(width: int, height: int, max_iter: int, chunk_rows: int) -> da.Array:
    """The escape-count image as a lazy ``dask.array``, ``chunk_rows`` rows per block.

    Each block is ``mandelbrot.rows_numpy`` of a range of row numbers; computing the
    array gives exactly :func:`kernels.problems.mandelbrot.reference`.
    """
    rows = da.arange(height, chunks=chunk_rows)
    return rows.map_blocks(
        mandelbrot.rows_numpy,
        width=width,
        height=height,
        max_iter=max_iter,
        new_axis=1,
        chunks=(rows.chunks[0], (width,)),
        dtype=np.int32,
        meta=np.empty((0, 0), dtype=np.int32),
    )


def initial_rows(n: int, lo: int, hi: int) -> np.ndarray:
    """Rows ``lo:hi`` of the initial heat field."""
    return heat.initial(n)[lo:hi]


def initial_block(n: int, block_info=None) -> np.ndarray:
    """The rows of the initial heat field that the block ``block_info`` describes."""
    (lo, hi), _ = block_info[None]["array-location"]
    return initial_rows(n, lo, hi)


def advance_block(block: np.ndarray, steps: int, block_info=None) -> np.ndarray:
    """:func:`~kernels.problems.heat.advance` for ``map_overlap``: which ends are halos.

    ``block_info`` (dask passes it) says where the block is: the first block has the
    grid's fixed top row at its top, the last one its fixed bottom row, and every other
    end is a halo from a neighbour.
    """
    where, count = block_info[0]["chunk-location"][0], block_info[0]["num-chunks"][0]
    return advance(block, steps, top_halo=where > 0, bottom_halo=where < count - 1)


def heat_array(n: int, steps: int, blocks: int, halo_steps: int | None = None) -> da.Array:
    """The heat field after ``steps`` steps as a lazy ``dask.array`` of ``blocks`` row blocks.

    Parameters
    ----------
    n, steps : int
        The problem's parameters.
    blocks : int
        Row blocks (the parallelism); each is ``ceil(n / blocks)`` rows.
    halo_steps : int, optional
        Steps between exchanges, and the halo depth in rows. ``1`` exchanges every
        step (the most communication, no redundant work); larger values trade
        recomputed halo rows for fewer exchanges. Default: :func:`default_halo_steps`.
    """
    rows = math.ceil(n / max(1, blocks))
    halo_steps = halo_steps or default_halo_steps(rows)
    # Each block makes its own rows of the initial field where it runs: a field built
    # here would travel inside the graph, to the scheduler and on to the workers.
    chunks = da.core.normalize_chunks((rows, n), shape=(n, n))
    u = da.map_blocks(initial_block, n, chunks=chunks, dtype=np.float64, meta=np.empty((0, 0)))
    done = 0
    while done < steps:
        k = min(halo_steps, steps - done)
        # boundary="none": the top and bottom blocks get no padding, so the grid's own
        # fixed rows are their first/last rows, which advance() never updates.
        u = u.map_overlap(
            advance_block,
            depth={0: k, 1: 0},
            boundary="none",
            steps=k,
            dtype=np.float64,
            meta=np.empty((0, 0)),
        )
        done += k
    return u


def advance_with_neighbours(steps: int, own: np.ndarray, above, below) -> np.ndarray:
    """Block ``own`` advanced ``steps`` steps, its halos cut from its neighbours' blocks.

    ``above`` and ``below`` are the neighbouring blocks (``None`` at the grid's top or
    bottom, whose fixed row is then the block's own first or last row).
    """
    slab = np.concatenate([*([above[-steps:]] if above is not None else []), own,
                           *([below[:steps]] if below is not None else [])])  # fmt: skip
    new = advance(slab, steps, top_halo=above is not None, bottom_halo=below is not None)
    top = steps if above is not None else 0
    return new[top : top + own.shape[0]]


def advance_from_initial(steps: int, n: int, lo: int, hi: int) -> np.ndarray:
    """Rows ``lo:hi`` of the field after ``steps`` steps from the initial field.

    The first round of :func:`heat_round_blocks`: the halos are rows of the initial
    field too, so the task builds them itself instead of waiting for its neighbours.
    """
    u = heat.initial(n)
    above = u[lo - steps : lo] if lo > 0 else None
    below = u[hi : hi + steps] if hi < n else None
    return advance_with_neighbours(steps, u[lo:hi], above, below)


def heat_round_blocks(
    n: int, steps: int, blocks: int, halo_steps: int | None = None, pure: bool = True
) -> list:
    """The heat field's row blocks after ``steps`` steps, as ``dask.delayed`` graphs of
    one task per block and round (:func:`heat_rounds` joins them into the field).

    :func:`heat_array`'s ``map_overlap`` makes each round several small tasks in a row
    (cut the halo rows, join them to the neighbour's block, advance, trim), and on a
    ``distributed`` cluster every task is a message to the scheduler and back. Here a
    round is one task per block: it gets its own block and its neighbours' whole blocks
    (:func:`advance_with_neighbours` cuts the halos), so the blocks meet once per round.
    The price is that a neighbour's whole block travels, not only its edge rows. The
    first round needs no neighbours: its halos are rows of the initial field, which
    each task builds itself (:func:`advance_from_initial`). The blocks are as even as
    the rows allow (their sizes differ by one at most), the rounds as even as the steps
    allow, and a halo is never deeper than the smallest block. One block is one task for
    all steps. Joined, the blocks are exactly :func:`kernels.problems.heat.reference`.

    With ``pure=False`` every task gets a new key. A client kept between calls needs
    that: with the same keys as its last call, whose results the cluster may still hold
    while their release is on its way, a call was answered from those results in 8 ms
    instead of computing (0.5 s), or failed when they were forgotten under it
    ("Couldn't gather keys").
    """
    blocks = max(1, min(blocks, n))
    bounds = [n * b // blocks for b in range(blocks + 1)]
    smallest = min(b - a for a, b in itertools.pairwise(bounds))
    depth = steps if blocks == 1 else min(halo_steps or default_halo_steps(smallest), smallest)
    rounds = -(-steps // depth)
    ends = [steps * r // rounds for r in range(rounds + 1)]
    start = dask.delayed(advance_from_initial, pure=pure)
    field = [start(ends[1], n, a, b) for a, b in itertools.pairwise(bounds)]
    advance_one = dask.delayed(advance_with_neighbours, pure=pure)
    for k in (b - a for a, b in itertools.pairwise(ends[1:])):
        field = [advance_one(k, own, field[i - 1] if i > 0 else None,
                             field[i + 1] if i + 1 < blocks else None)
                 for i, own in enumerate(field)]  # fmt: skip
    return field


def heat_rounds(n: int, steps: int, blocks: int, halo_steps: int | None = None, pure: bool = True):
    """The heat field after ``steps`` steps: :func:`heat_round_blocks` joined by one more
    task. (``dask-distributed`` gathers the blocks and joins them in the caller instead,
    saving a block's trip to the joining worker.)"""
    return dask.delayed(np.concatenate, pure=pure)(
        heat_round_blocks(n, steps, blocks, halo_steps, pure)
    )
