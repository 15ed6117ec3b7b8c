"""The heat stencil under MPI: row blocks, one halo row exchanged with each neighbour.

Rank ``r`` owns a block of interior rows and keeps one extra row above and below it.
Before each step it sends its first row up and its last row down and receives its halo
rows from its neighbours, with ``Sendrecv`` (a send and a receive that cannot deadlock
each other). At the grid's top and bottom the neighbour is ``MPI.PROC_NULL``: nothing
is sent, and the halo row stays the fixed boundary row.
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from ...problems import heat


def exchange_halos(comm: MPI.Comm, u: np.ndarray, up: int, down: int) -> None:
    """Fill ``u[0]`` from the rank above and ``u[-1]`` from the rank below."""
    comm.Sendrecv(u[1], dest=up, recvbuf=u[-1], source=down)  # my top row goes up
    comm.Sendrecv(u[-2], dest=down, recvbuf=u[0], source=up)  # my bottom row goes down


def my_block(comm: MPI.Comm, n: int):
    """This rank's share of the rows: the blocks, its ``(lo, hi)``, neighbours, and its rows.

    The rows come with a halo row on each side; ranks beyond the number of interior rows
    get none (``lo == hi``) and take no part in the exchange.
    """
    rank, size = comm.rank, comm.size
    blocks = heat.row_blocks(n, size)
    blocks += [(blocks[-1][1], blocks[-1][1])] * (size - len(blocks))  # idle ranks: no rows
    lo, hi = blocks[rank]
    working = [r for r, (a, b) in enumerate(blocks) if b > a]
    up = rank - 1 if hi > lo and rank > 0 else MPI.PROC_NULL
    down = rank + 1 if hi > lo and rank + 1 in working else MPI.PROC_NULL
    u = heat.initial(n)[lo - 1 : hi + 1].copy()  # my rows and a halo row on each side
    return blocks, (lo, hi), up, down, u


def gather_field(comm: MPI.Comm, n: int, blocks, u: np.ndarray, lo: int, hi: int):
    """The whole field on rank 0 (``None`` elsewhere): every block's rows by ``Gatherv``."""
    counts = [(b - a) * n for a, b in blocks]
    field = heat.initial(n) if comm.rank == 0 else None
    recv = (field[1 : n - 1].reshape(-1), counts) if comm.rank == 0 else None
    comm.Gatherv(u[1 : hi - lo + 1].reshape(-1), recv, root=0)
    return field


def solve(comm: MPI.Comm, n: int, steps: int) -> np.ndarray | None:
    blocks, (lo, hi), up, down, u = my_block(comm, n)
    new = u.copy()
    if hi > lo:
        for _ in range(steps):
            exchange_halos(comm, u, up, down)
            heat.step_rows(u, new, 1, hi - lo + 1)
            u, new = new, u
    return gather_field(comm, n, blocks, u, lo, hi)
