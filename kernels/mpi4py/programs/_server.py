"""Ranks that stay up between calls: the SPMD side of :func:`kernels.mpi4py.warm.warm_ranks`.

Rank 0 connects back to the Python process that started ``mpiexec`` and waits for
requests ``(module, params)``; every rank then runs ``module.solve(comm, **params)``,
timed as :mod:`._program` times it, and rank 0 sends ``{"result", "compute_s"}`` back.
``None`` ends the ranks. Between requests the other ranks wait on a non-blocking barrier
with short sleeps, not in a blocking MPI call: MPICH's blocking calls poll, and idle
ranks would keep every core busy while other tools are measured.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback

from kernels.core.servers import connect_back

from ._program import ERROR_MARK

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
            module, params = request
            solve = importlib.import_module(module).solve
            comm.Barrier()
            start = MPI.Wtime()
            result = solve(comm, **params)
            elapsed = comm.reduce(MPI.Wtime() - start, op=MPI.MAX, root=0)
            if comm.rank == 0:
                link.send({"result": result, "compute_s": elapsed})
    except BaseException as exc:  # as in _program: one failing rank ends them all at once
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        sys.stderr.write(f"{ERROR_MARK} rank {comm.rank} of {comm.size}: {detail}\n")
        sys.stderr.write(traceback.format_exc())
        sys.stderr.flush()
        comm.Abort(1)
    if link is not None:
        link.close()


if __name__ == "__main__":
    serve(*sys.argv[1:3])
