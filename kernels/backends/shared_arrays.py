"""NumPy arrays in :mod:`multiprocessing.shared_memory`, owned by a context manager."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


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
