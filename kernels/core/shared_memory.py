"""NumPy arrays in :mod:`multiprocessing.shared_memory`, and a stencil run on them.

:func:`shared_arrays` owns the segments (a context manager); :func:`solve_in_blocks`
runs a stencil in worker processes that keep one row block each for the whole run.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import pools
from .pools import run_tasks


def _shared_memory(library: str) -> Any:
    """``multiprocessing.shared_memory`` or ``multiprocess``'s copy of it.

    Workers must use the module of the library that started them: each library has its
    own resource tracker, and a segment registered with a tracker the parent does not
    know about is unlinked as "leaked" when that worker exits.
    """
    return importlib.import_module(f"{library}.shared_memory")


@dataclass
class SharedArrays:
    """Float64 arrays in shared memory and the segment names workers attach to."""

    names: list[str]
    arrays: list[np.ndarray]
    segments: list[Any] = field(default_factory=list)


@contextlib.contextmanager
def shared_arrays(
    shape: tuple[int, ...], count: int, library: str = "multiprocessing"
) -> Iterator[SharedArrays]:
    """Create ``count`` float64 arrays of ``shape`` in shared memory; free them on exit.

    Copy out what you need before the block ends: the memory is unlinked on exit.
    ``library`` (``"multiprocessing"`` or ``"multiprocess"``) must be the one whose
    processes will attach.

    Examples
    --------
    >>> with shared_arrays((2, 3), 1) as shared:
    ...     shared.arrays[0][:] = 1.0
    ...     total = shared.arrays[0].sum()
    >>> float(total)
    6.0
    """
    nbytes = max(int(np.prod(shape)) * 8, 1)
    shared_memory = _shared_memory(library)
    segments = [shared_memory.SharedMemory(create=True, size=nbytes) for _ in range(count)]
    shared = SharedArrays(
        [s.name for s in segments],
        [np.ndarray(shape, dtype=np.float64, buffer=s.buf) for s in segments],
    )
    try:
        yield shared
    finally:
        shared.arrays.clear()  # drop our views so that the segments can be closed
        for segment in segments:
            segment.unlink()
            with contextlib.suppress(BufferError):  # the caller still holds a view
                segment.close()


def attach(
    names: list[str], shape: tuple[int, ...], library: str = "multiprocessing"
) -> SharedArrays:
    """In a worker: map the named segments. Keep the result alive while using the arrays."""
    shared_memory = _shared_memory(library)
    segments = [shared_memory.SharedMemory(name=name) for name in names]
    arrays = [np.ndarray(shape, dtype=np.float64, buffer=s.buf) for s in segments]
    return SharedArrays(names, arrays, segments)


# --- A stencil in processes that keep their row block for every step ----------------
#
# The two fields live in shared memory. Each worker owns one block of rows for the whole
# run and, after every step, waits at a barrier for the others: a block reads its
# neighbours' edge rows, so no one may start step k + 1 before all finished step k.
# Nothing but the block bounds ever crosses between processes, and the parent is not
# involved in the per-step synchronisation at all. Both process backends (chapters 03
# and 03) run the heat problem this way, each with its own library's pool.

# Set in each worker by attach_fields: the shared fields, the barrier, the update.
WORKER: dict[str, Any] = {}


def attach_fields(
    segment_names: list[str], shape: tuple[int, int], barrier: Any, library: str,
    step_rows: Callable[[np.ndarray, np.ndarray, int, int], None],
) -> None:  # fmt: skip
    """Pool initializer: map the two shared fields and keep the barrier and the update."""
    WORKER["fields"] = attach(segment_names, shape, library)
    WORKER["barrier"] = barrier
    WORKER["step_rows"] = step_rows


# What a block returns when it stopped because another block failed.
STOPPED = "stopped: another block failed"


def solve_block(task: tuple[int, int, int]) -> Exception | str | None:
    """One worker's whole run: update rows ``lo:hi`` for ``steps`` steps, meeting after each.

    Returns ``None`` when done. A block whose step raises aborts the barrier, which
    releases the other blocks waiting at it, and returns its error; those return
    :data:`STOPPED`. The error is returned, not raised, so that the caller reports the
    failing block's error (:func:`raise_failed_block`) whichever block's answer reaches
    it first.
    """
    lo, hi, steps = task
    fields, barrier = WORKER["fields"].arrays, WORKER["barrier"]
    step_rows = WORKER["step_rows"]
    try:
        for step in range(steps):
            step_rows(fields[step % 2], fields[1 - step % 2], lo, hi)
            barrier.wait()
    except threading.BrokenBarrierError:
        return STOPPED
    except Exception as exc:
        barrier.abort()  # release the other workers instead of leaving them waiting
        return exc
    except BaseException:
        barrier.abort()
        raise
    return None


def raise_failed_block(outcomes: list[Exception | str | None]) -> None:
    """Raise the error of the block that failed, if one did (:func:`solve_block`).

    Examples
    --------
    >>> raise_failed_block([STOPPED, ValueError("rows 10:19 failed")])
    Traceback (most recent call last):
    ...
    ValueError: rows 10:19 failed
    >>> raise_failed_block([None, None])
    """
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
    if STOPPED in outcomes:  # never silently: a broken barrier means a block did not finish
        raise RuntimeError("the blocks' barrier broke but no block reported an error")


def solve_attached_block(task: tuple) -> Exception | str | None:
    """One worker's whole run in a warm pool: attach the fields, then :func:`solve_block`.

    The barrier is the pool's own (:func:`kernels.core.pools.keep_barrier`), given to each
    worker as the pool started; the fields are attached for this task and let go after.
    """
    names, shape, library, step_rows, lo, hi, steps = task
    fields = attach(names, shape, library)
    WORKER.update(fields=fields, barrier=pools.POOL_BARRIER, step_rows=step_rows)
    try:
        return solve_block((lo, hi, steps))
    finally:
        WORKER.clear()
        fields.arrays.clear()  # no view may outlive the mapping
        for segment in fields.segments:
            segment.close()


def solve_in_blocks(
    open_pool: Callable[..., Any],
    library: str,
    start_method: str,
    initial: np.ndarray,
    blocks: list[tuple[int, int]],
    steps: int,
    step_rows: Callable[[np.ndarray, np.ndarray, int, int], None],
    warm_barrier: Callable[[int, str], Any] | None = None,
) -> np.ndarray:
    """Run a stencil with one long-lived task per row block; return the final field.

    Parameters
    ----------
    open_pool : callable
        ``open_pool(workers, start_method, initializer=..., initargs=...)``, a context
        manager giving a pool that :func:`~kernels.core.pools.run_tasks` accepts. The
        pool must run all its tasks at once (one per worker), as both process pools of
        the book do.
    library : {"multiprocessing", "multiprocess"}
        The pool's library: the barrier and the shared memory must come from it too.
    start_method : str
        How the workers start.
    initial : numpy.ndarray
        The field at step 0 (its boundary rows and columns never change).
    blocks : list of (int, int)
        The rows ``lo:hi`` each worker updates, one block per worker.
    steps : int
        Steps to take.
    step_rows : callable
        ``step_rows(src, dst, lo, hi)`` writes rows ``lo:hi`` of the next field; it must
        be importable by name (a function at the top level of a module).
    warm_barrier : callable, optional
        ``warm_barrier(workers, start_method)``: the barrier of a warm pool of that size
        (``pools.warm_barrier``), or ``None``. With one, the warm pool does the work, each
        worker attaching the fields for its task; without, a pool is started whose
        workers attach them as they start.
    """
    barrier = warm_barrier(len(blocks), start_method) if warm_barrier else None
    with shared_arrays(initial.shape, 2, library) as shared:
        shared.arrays[0][...] = initial
        shared.arrays[1][...] = initial
        if barrier is not None:
            barrier.reset()  # not broken by an earlier call that failed
            tasks = [(shared.names, initial.shape, library, step_rows, lo, hi, steps)
                     for lo, hi in blocks]  # fmt: skip
            with open_pool(len(blocks), start_method) as pool:  # the warm one, lent
                raise_failed_block(run_tasks(pool, solve_attached_block, tasks))
            return shared.arrays[steps % 2].copy()
        context = importlib.import_module(library).get_context(start_method)
        barrier = context.Barrier(len(blocks))
        initargs = (shared.names, initial.shape, barrier, library, step_rows)
        with open_pool(len(blocks), start_method, initializer=attach_fields,
                       initargs=initargs) as pool:  # fmt: skip
            raise_failed_block(run_tasks(pool, solve_block, [(lo, hi, steps) for lo, hi in blocks]))
        return shared.arrays[steps % 2].copy()
