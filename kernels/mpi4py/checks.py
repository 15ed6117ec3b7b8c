"""Checkers for the MPI chapter: they run your function on real ranks with mpiexec.

The communicator your function receives notes every method called on it, so a checker
sees the communication that really happened (a ``Gatherv``, a reduction) rather than
the words in the source. Sizes and seeds are drawn afresh on every call; messages never
show the expected values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core.checking import CheckResult, failed, fresh_rng, needs_function, passed
from ..core.errors import RankFailedError
from ..problems import monte_carlo_pi
from .launch import run_function

# A swap this large does not fit MPI's eager buffers: the wrong order deadlocks.
SWAP_NUMBERS = 1_000_000
# Seconds before a swap counts as deadlocked (a working swap takes well under one).
SWAP_TIMEOUT = 30.0
# Communicator methods that only ask a question: no message is sent.
QUERIES = {"Get_rank", "Get_size", "Get_name", "Get_topology", "Get_group", "Barrier", "barrier"}


def _on_ranks(func: Callable, ranks: int, *args, timeout: float = 60.0):
    """Rank by rank ``(value, calls)`` of ``func(comm, *args)``, or a failed CheckResult."""
    try:
        return run_function(func, ranks, *args, timeout=timeout, record=True)
    except RankFailedError as exc:
        first = str(exc).splitlines()[0]
        if "did not finish" in first:
            return failed(f"on {ranks} ranks the run did not finish within {timeout:g} s: "
                           "every rank is waiting for another (a deadlock)",
                           "a blocking send of a large array waits until the partner "
                           "receives; look for an MPI call that sends and receives at "
                           "once, or one that does not block.")  # fmt: skip
        return failed(f"on {ranks} ranks: {first}",
                       "run the function on every rank: it gets the communicator as "
                       "its first argument.")  # fmt: skip


def _messages(calls: list[str]) -> list[str]:
    return [name for name in calls if name not in QUERIES]


@needs_function
def check_swap(func: Callable) -> CheckResult:
    """Check ``func(comm, n)``: ranks 2k and 2k+1 swap arrays of ``n`` floats, no deadlock."""
    n = SWAP_NUMBERS + int(fresh_rng().integers(0, 100_000))
    for ranks in (2, 4):
        got = _on_ranks(func, ranks, n, timeout=SWAP_TIMEOUT)
        if isinstance(got, CheckResult):
            return got
        for rank, (received, calls) in enumerate(got):
            if not _messages(calls):
                return failed(f"rank {rank} of {ranks} sent and received nothing",
                               "the numbers must travel between the ranks: each rank's "
                               "array exists only on that rank.")  # fmt: skip
            if not isinstance(received, np.ndarray) or received.shape != (n,):
                return failed(f"rank {rank} of {ranks} returned {type(received).__name__}"
                               f" {getattr(received, 'shape', '')} for n={n}",
                               "return the array of n numbers received from the "
                               "partner.")  # fmt: skip
            if not np.all(received == rank ^ 1):
                return failed(f"rank {rank} of {ranks} did not receive its partner's numbers",
                               "the partner of rank r is r ^ 1 (0<->1, 2<->3); each rank "
                               "sends np.full(n, float(rank)).")  # fmt: skip
    return passed("the ranks swapped a million numbers without deadlocking.")


def _uneven_rows(rank: int, width: int) -> np.ndarray:
    return np.full((rank + 1, width), float(rank))


@needs_function
def check_gatherv(func: Callable) -> CheckResult:
    """Check ``func(comm, width)`` gathers every rank's ``rank + 1`` rows on rank 0 by Gatherv."""
    width = int(fresh_rng().integers(2, 50))
    for ranks in (1, 3):
        got = _on_ranks(func, ranks, width)
        if isinstance(got, CheckResult):
            return got
        value, _ = got[0]
        want = np.concatenate([_uneven_rows(r, width) for r in range(ranks)])
        if not isinstance(value, np.ndarray) or value.shape != want.shape:
            return failed(f"on {ranks} ranks rank 0 returned "
                           f"{getattr(value, 'shape', type(value).__name__)} for width "
                           f"{width}: not every rank's rows, one row per line",
                           "rank r sends (r + 1) * width numbers; reshape what rank 0 "
                           "received to (-1, width).")  # fmt: skip
        if not np.array_equal(value, want):
            return failed(f"on {ranks} ranks the rows are not in rank order",
                           "Gatherv places rank r's numbers after those of ranks "
                           "0..r-1.")  # fmt: skip
        missing = [rank for rank, (_, calls) in enumerate(got) if "Gatherv" not in calls]
        if missing:
            return failed(f"on {ranks} ranks, rank(s) {missing} never called comm.Gatherv",
                           "the point of the exercise: one collective call on every rank, "
                           "with the count of every rank given at the root, instead of a "
                           "loop of receives or a pickled gather.")  # fmt: skip
    return passed("one Gatherv on every rank collected the uneven rows in rank order.")


REDUCTIONS = {"allreduce", "Allreduce"}


@needs_function
def check_allreduce_pi(func: Callable) -> CheckResult:
    """Check ``func(comm, samples, seed)`` returns the same exact estimate on every rank."""
    rng = fresh_rng()
    samples = int(rng.integers(200_000, 600_000))
    seed = int(rng.integers(10**6))
    want = monte_carlo_pi.reference(samples, seed)
    for ranks in (1, 3):
        got = _on_ranks(func, ranks, samples, seed)
        if isinstance(got, CheckResult):
            return got
        values = [value for value, _ in got]
        if any(value is None for value in values):
            return failed(f"on {ranks} ranks some ranks returned None",
                           "every rank must end with the estimate, not only rank "
                           "0.")  # fmt: skip
        if any(value != want for value in values):
            return failed(f"on {ranks} ranks the estimate differs from the reference for "
                           f"samples={samples}, seed={seed}",
                           "count the hits of chunks rank, rank + size, ... with "
                           "monte_carlo_pi.hits_numpy, and turn the total into an estimate "
                           "with monte_carlo_pi.estimate.")  # fmt: skip
        lacking = [rank for rank, (_, calls) in enumerate(got) if not REDUCTIONS & set(calls)]
        if ranks > 1 and lacking:
            return failed(f"on {ranks} ranks, rank(s) {lacking} took part in no reduction "
                           "that leaves the total on every rank",
                           "every rank counts its own chunks; one collective both adds the "
                           "counts and gives the sum to every rank.")  # fmt: skip
    return passed("every rank has the same estimate, equal to the reference.")


BLOCKING = {"Send", "Recv", "Sendrecv", "send", "recv", "sendrecv", "Ssend", "Bsend", "Rsend"}


def _overlap_harness(comm, sent: bytes, n: int, steps: int):
    """Rank side of :func:`check_overlapped_step`: ``steps`` steps by ``func``, watched.

    Returns rank 0's field (``None`` elsewhere), the communicator methods called, how many
    interior updates ran while this rank's requests were still pending, how many steps
    had interior rows, and how many requests were never completed.
    """
    import dill
    from mpi4py import MPI

    from ..problems import heat
    from .programs.call_function import RecordingComm
    from .programs.heat import gather_field, my_block

    func = dill.loads(sent)  # sent with the globals it uses (a notebook's `MPI`, say)

    watched, overlapped, with_interior, unfinished = RecordingComm(comm), 0, 0, 0
    blocks, (lo, hi), up, down, u = my_block(comm, n)
    m = hi - lo

    def step(src, dst, a, b):
        nonlocal overlapped
        if a >= 2 and b <= m and b > a and any(r != MPI.REQUEST_NULL for r in watched.posted):
            overlapped += 1  # interior rows computed while messages were in flight
        heat.step_rows(src, dst, a, b)

    new = u.copy()
    if m:
        for _ in range(steps):
            watched.posted.clear()
            func(watched, u, new, up, down, step)
            unfinished += sum(r != MPI.REQUEST_NULL for r in watched.posted)
            with_interior += m >= 3
            u, new = new, u
    field = gather_field(comm, n, blocks, u, lo, hi)
    return field, watched.calls, overlapped, with_interior, unfinished


@needs_function
def check_overlapped_step(func: Callable) -> CheckResult:
    """Check ``func(comm, u, new, up, down, step)``: non-blocking halos, interior in between."""
    import dill

    from ..problems import heat

    rng = fresh_rng()
    n, steps = int(rng.integers(20, 60)), int(rng.integers(5, 15))
    want = heat.reference(n, steps)
    for ranks in (2, 3):
        got = _on_ranks(_overlap_harness, ranks, dill.dumps(func, recurse=True), n, steps)
        if isinstance(got, CheckResult):
            return got
        (field, *_), _ = got[0]
        results = [value for value, _ in got]
        calls = {name for _, names, *_ in results for name in names}
        if not {"Isend", "Irecv"} <= calls:
            return failed(f"on {ranks} ranks the halos did not travel by Isend and Irecv",
                          "post the receives and the sends without blocking; each returns "
                          "a request to complete later.")  # fmt: skip
        if calls & BLOCKING:
            return failed(f"a blocking call ({', '.join(sorted(calls & BLOCKING))}) was made",
                          "the exercise is to exchange without blocking.")  # fmt: skip
        if any(unfinished for *_, unfinished in results):
            return failed("some requests were never completed",
                          "wait for every request (Waitall) before the step ends.")  # fmt: skip
        if not isinstance(field, np.ndarray) or not np.array_equal(field, want):
            return failed(f"after {steps} steps on {ranks} ranks the field differs from the "
                          "reference",
                          "the first and last rows of a block need their halos: compute them "
                          "only after the messages have arrived.")  # fmt: skip
        if any(overlapped < interior for _, _, overlapped, interior, _ in results):
            return failed("the interior rows were not computed while the messages travelled",
                          "compute the rows that need no halo between posting the requests "
                          "and waiting for them.")  # fmt: skip
    return passed("halos exchanged without blocking, the interior computed meanwhile, exact.")
