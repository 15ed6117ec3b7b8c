"""Ranks started once and reused: MPI's answer to a warm pool.

A long-running MPI program starts its ranks once and computes many times; starting
``mpiexec`` and N interpreters for every call (what :func:`~kernels.mpi4py.launch.launch`
does on its own) measures the start-up, not the tool. Inside :func:`warm_ranks`, every
``launch`` on one of its rank counts (on this machine) is sent to ranks already running
(:mod:`.programs._server`) instead, as the process pools lend a warm pool. Its answer is
the same in every way: rank 0's result and the ranks' compute time.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator

from ..core import mpich_leftovers
from ..core.errors import RankFailedError
from ..core.servers import ServedProcess
from ..core.warm import WarmSet
from .commands import mpiexec_command, rank_environment, rank_failure

# Seconds to wait for the ranks to start and connect.
START_TIMEOUT = 120.0

# The rank sets kept running by warm_ranks(), by rank count.
_WARM = WarmSet()


class RankServer:
    """``ranks`` ranks under one ``mpiexec``, answering requests until closed."""

    def __init__(self, ranks: int) -> None:
        self.ranks = ranks
        # where a failing rank writes its error (rank_failure reads it)
        self._errors = tempfile.TemporaryDirectory(prefix="kernels-mpi-errors-")
        errors = self._errors.name
        files_before = mpich_leftovers.topology_files()

        def command(address: str, authkey: str) -> list[str]:
            server = [sys.executable, "-m", "kernels.mpi4py.programs._server", address, authkey]
            return mpiexec_command(ranks, server)

        def failure(code: int, stderr: str) -> RankFailedError:
            return rank_failure(subprocess.CompletedProcess([], code, "", stderr), errors)

        try:
            self._served = ServedProcess(command, failure, f"{ranks} warm MPI ranks",
                                         START_TIMEOUT, rank_environment(errors))  # fmt: skip
        except TimeoutError as exc:
            self._errors.cleanup()
            raise RankFailedError(str(exc)) from None
        except BaseException:
            self._errors.cleanup()
            raise
        # The ranks have started MPI and connected: their shared memory is mapped now, and
        # their topology file written; both are known when they are gone (a failed rank
        # ends them all, and leaves both).
        self._leftovers = mpich_leftovers.Leftovers(
            mpich_leftovers.mapped_by(self._served.pid),
            mpich_leftovers.topology_files() - files_before,
        )

    def call(self, module: str, params: dict, timeout: float) -> dict:
        """Run ``module.solve`` on every rank; ``{"result", "compute_s"}`` from rank 0."""
        try:
            return self._served.call((module, params), timeout)
        except TimeoutError:
            raise RankFailedError(
                f"{module} did not finish within {timeout:g} s on {self.ranks} warm ranks; "
                "they were stopped. A deadlock looks exactly like this."
            ) from None

    def close(self, graceful: bool = True) -> None:
        """Tell the ranks to stop (``graceful``), then stop whatever is left of them.

        Shared memory and a topology file that stopped ranks left behind are removed.
        """
        self._served.close(graceful)
        mpich_leftovers.remove(self._leftovers)
        self._errors.cleanup()


def lent(ranks: int) -> RankServer | None:
    """The warm rank set of this size, if :func:`warm_ranks` keeps one."""
    return _WARM.lend(ranks)


def discard(ranks: int) -> None:
    """Stop and forget a warm rank set: at once after a failure (ranks gone or stuck)."""
    _WARM.discard(ranks)


@contextlib.contextmanager
def warm_ranks(rank_counts: Iterable[int]) -> Iterator[dict[int, float]]:
    """Start one set of ranks per count now; ``launch`` reuses them inside the block.

    Yields the seconds each set took to start (``mpiexec``, the interpreters, the
    connection back), by rank count. On exit every rank is stopped and waited for.

    Examples
    --------
    >>> from kernels.mpi4py.launch import launch
    >>> with warm_ranks([2]) as startup:
    ...     runs = [launch("monte_carlo_pi", 2, samples=1000, seed=1) for _ in range(2)]
    >>> [run.result for run in runs]
    [3.192, 3.192]
    """

    def start(stack: contextlib.ExitStack, ranks: int):
        server = RankServer(ranks)
        stack.callback(server.close, graceful=True)
        server.call("kernels.mpi4py.programs.where", {}, START_TIMEOUT)  # all ranks up
        return ranks, server

    with _WARM.keep(rank_counts, start) as startup:
        yield startup
