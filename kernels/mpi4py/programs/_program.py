"""The harness every problem program runs in (see :func:`run`)."""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import sys
import traceback
from pathlib import Path

# The line the launcher looks for in the output to name the rank that failed.
ERROR_MARK = "KERNELS-MPI-RANK-ERROR"
# The folder (an environment variable the launcher sets) where a failing rank also
# writes that line, as rank-<rank>.txt: when several ranks abort at once, mpiexec can
# stop the others before their output reaches it, and the run's error output came back
# empty ("mpiexec exited with code 1", seen in a test run).
ERROR_DIR = "KERNELS_MPI_ERROR_DIR"


def solve_timed(comm, module: str, params: dict):
    """``module.solve(comm, **params)`` on this rank, and the slowest rank's seconds.

    The clock starts at a barrier, so the ranks' start-up is not in it; the time is the
    slowest rank's (on rank 0; ``None`` elsewhere).
    """
    from mpi4py import MPI

    solve = importlib.import_module(module).solve
    comm.Barrier()
    start = MPI.Wtime()
    result = solve(comm, **params)
    return result, comm.reduce(MPI.Wtime() - start, op=MPI.MAX, root=0)


def abort_all(comm, exc: BaseException) -> None:
    """End every rank at once, after writing this rank's error where the launcher looks
    (its error output, and the :data:`ERROR_DIR` folder if one is set)."""
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    line = f"{ERROR_MARK} rank {comm.rank} of {comm.size}: {detail}\n"
    folder = os.environ.get(ERROR_DIR)
    if folder:
        with contextlib.suppress(OSError):
            Path(folder, f"rank-{comm.rank}.txt").write_text(line)
    sys.stderr.write(line)
    sys.stderr.write(traceback.format_exc())
    sys.stderr.flush()
    comm.Abort(1)


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
        result, elapsed = solve_timed(comm, module, params)
        if comm.rank == 0:
            with open(result_path, "wb") as f:
                pickle.dump({"result": result, "compute_s": elapsed}, f)
    except BaseException as exc:  # any failure on any rank ends every rank at once
        abort_all(comm, exc)


if __name__ == "__main__":
    run(*sys.argv[1:4])
