"""Ranks that stay up between calls: the SPMD side of :func:`kernels.mpi4py.warm.warm_ranks`.

Rank 0 connects back to the Python process that started ``mpiexec`` and waits for
requests ``(module, params)``; every rank then runs ``module.solve(comm, **params)``,
timed as :mod:`._program` times it, and rank 0 sends ``{"result", "compute_s"}`` back.
``None`` ends the ranks. Between requests the other ranks wait on a non-blocking barrier
with short sleeps, not in a blocking MPI call: MPICH's blocking calls poll, and idle
ranks would keep every core busy while other tools are measured.
"""

from __future__ import annotations

import sys
import time

from kernels.core.servers import connect_back

from ._program import abort_all, solve_timed

# Seconds an idle rank sleeps between looks at the barrier (the latency it adds to a call).
IDLE_SLEEP = 0.0005


def _next_request(comm, link):
    """The next request on every rank: rank 0 reads it, the others wait without spinning."""
    request = link.recv() if comm.rank == 0 else None
    waiting = comm.Ibarrier()
    while not waiting.Test():
        time.sleep(IDLE_SLEEP)
    return comm.bcast(request, root=0)


def serve(address: str, authkey_hex: str) -> None:
    """Answer requests until told to stop; any failure on any rank aborts every rank."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    link = None
    try:
        if comm.rank == 0:
            link = connect_back(address, authkey_hex)
        while (request := _next_request(comm, link)) is not None:
            result, elapsed = solve_timed(comm, *request)
            if comm.rank == 0:
                link.send({"result": result, "compute_s": elapsed})
    except BaseException as exc:  # as in _program: one failing rank ends them all at once
        abort_all(comm, exc)
    if link is not None:
        link.close()


if __name__ == "__main__":
    serve(*sys.argv[1:3])
