"""Checkers for the MPI chapter: they run your function on real ranks with mpiexec."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from ..core.checking import CheckResult, failed, needs_function, passed
from ..core.errors import RankFailedError
from ..problems import monte_carlo_pi
from .launch import run_function

# A swap this large does not fit MPI's eager buffers: the wrong order deadlocks.
SWAP_NUMBERS = 1_000_000
# Seconds before a swap counts as deadlocked (a working swap takes well under one).
SWAP_TIMEOUT = 30.0


def _on_ranks(func: Callable, ranks: int, *args, timeout: float = 60.0):
    """Rank by rank results of ``func(comm, *args)``, or a failed CheckResult."""
    try:
        return run_function(func, ranks, *args, timeout=timeout)
    except RankFailedError as exc:
        first = str(exc).splitlines()[0]
        if "did not finish" in first:
            return failed(f"on {ranks} ranks the run did not finish within {timeout:g} s: "
                           "every rank is waiting for another (a deadlock)",
                           "a blocking Send of a large array waits for the matching Recv; "
                           "use comm.Sendrecv, or Isend + Recv + Wait.")  # fmt: skip
        return failed(f"on {ranks} ranks: {first}",
                       "run the function on every rank: it gets the communicator as "
                       "its first argument.")  # fmt: skip


@needs_function
def check_swap(func: Callable) -> CheckResult:
    """Check ``func(comm, n)``: ranks 2k and 2k+1 swap arrays of ``n`` floats, no deadlock."""
    for ranks in (2, 4):
        got = _on_ranks(func, ranks, SWAP_NUMBERS, timeout=SWAP_TIMEOUT)
        if isinstance(got, CheckResult):
            return got
        for rank, received in enumerate(got):
            partner = rank ^ 1
            if not isinstance(received, np.ndarray) or received.shape != (SWAP_NUMBERS,):
                return failed(f"rank {rank} of {ranks} returned {type(received).__name__}"
                               f" {getattr(received, 'shape', '')}",
                               f"return the array of {SWAP_NUMBERS:,} numbers received "
                               "from the partner.")  # fmt: skip
            if not np.all(received == partner):
                return failed(f"rank {rank} of {ranks} received numbers other than its "
                               f"partner's ({partner})",
                               "the partner of rank r is r ^ 1 (0<->1, 2<->3); send "
                               "np.full(n, float(rank)).")  # fmt: skip
    return passed("the ranks swapped a million numbers without deadlocking.")


def _uneven_rows(rank: int, width: int) -> np.ndarray:
    return np.full((rank + 1, width), float(rank))


@needs_function
def check_gatherv(func: Callable) -> CheckResult:
    """Check ``func(comm, width)`` gathers every rank's ``rank + 1`` rows on rank 0 with Gatherv."""
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        source = ""
    if "Gatherv" not in source:
        return failed("the function does not call comm.Gatherv",
                       "the point of the exercise: one Gatherv with the row counts of "
                       "every rank instead of a loop of Recv on rank 0.")  # fmt: skip
    for ranks in (1, 2, 3):
        got = _on_ranks(func, ranks, 4)
        if isinstance(got, CheckResult):
            return got
        want = np.concatenate([_uneven_rows(r, 4) for r in range(ranks)])
        if not isinstance(got[0], np.ndarray) or got[0].shape != want.shape:
            return failed(f"on {ranks} ranks rank 0 returned "
                           f"{getattr(got[0], 'shape', type(got[0]).__name__)}, expected an "
                           f"array of shape {want.shape}",
                           "counts[r] = (r + 1) * width numbers from rank r; reshape the "
                           "received buffer to (-1, width).")  # fmt: skip
        if not np.array_equal(got[0], want):
            return failed(f"on {ranks} ranks the rows are not in rank order",
                           "Gatherv places rank r's numbers after those of ranks "
                           "0..r-1.")  # fmt: skip
    return passed("one Gatherv collected the uneven rows in rank order.")


@needs_function
def check_allreduce_pi(func: Callable) -> CheckResult:
    """Check ``func(comm, samples, seed)`` returns the same exact estimate on every rank."""
    samples, seed = 450_000, 11
    want = monte_carlo_pi.reference(samples, seed)
    for ranks in (1, 2, 3):
        got = _on_ranks(func, ranks, samples, seed)
        if isinstance(got, CheckResult):
            return got
        if any(value != want for value in got):
            return failed(f"on {ranks} ranks the ranks returned {got}, expected {want} "
                           "on every rank",
                           "count hits with monte_carlo_pi.hits_numpy over the chunks "
                           "rank, rank + size, ...; sum with comm.allreduce; then "
                           "monte_carlo_pi.estimate(total, samples).")  # fmt: skip
    return passed("every rank has the same estimate, equal to the reference.")
