"""The harness every problem program runs in (see :func:`run`)."""

from __future__ import annotations

import importlib
import pickle
import sys
import traceback

# The line the launcher looks for in the output to name the rank that failed.
ERROR_MARK = "KERNELS-MPI-RANK-ERROR"


def run(module: str, payload_path: str, result_path: str) -> None:
    """Call ``module.solve(comm, **params)`` on every rank; rank 0 writes the result.

    The result file holds ``{"result": ..., "compute_s": ...}``: ``compute_s`` is the
    slowest rank's time from a barrier after start-up to the end of ``solve``, so the
    start-up of ``mpiexec`` and the interpreters is not in it.
    """
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    try:
        with open(payload_path, "rb") as f:
            params = pickle.load(f)
        solve = importlib.import_module(module).solve
        comm.Barrier()
        start = MPI.Wtime()
        result = solve(comm, **params)
        elapsed = comm.reduce(MPI.Wtime() - start, op=MPI.MAX, root=0)
        if comm.rank == 0:
            with open(result_path, "wb") as f:
                pickle.dump({"result": result, "compute_s": elapsed}, f)
    except BaseException as exc:  # any failure on any rank ends every rank at once
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        sys.stderr.write(f"{ERROR_MARK} rank {comm.rank} of {comm.size}: {detail}\n")
        sys.stderr.write(traceback.format_exc())
        sys.stderr.flush()
        comm.Abort(1)


if __name__ == "__main__":
    run(*sys.argv[1:4])
