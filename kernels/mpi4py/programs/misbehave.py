"""A program that fails on purpose: to show (and test) what a failing or stuck rank does."""

from __future__ import annotations

import time

from mpi4py import MPI


def solve(comm: MPI.Comm, fail_rank: int = -1, stuck_rank: int = -1) -> int | None:
    """Rank ``fail_rank`` raises; rank ``stuck_rank`` never reaches the barrier."""
    if comm.rank == fail_rank:
        raise ValueError(f"rank {comm.rank} was told to fail")
    if comm.rank == stuck_rank:
        while True:  # the others wait for it in the barrier below, forever
            time.sleep(0.1)
    comm.Barrier()
    return comm.size if comm.rank == 0 else None
