"""A race condition between threads, made visible, and its fix.

``counter.value += 1`` is three steps: read, add, write. If another thread writes
between a thread's read and its write, one update is lost. The window is tiny, so
:func:`increment_racily` widens it with ``time.sleep(0)`` (which lets another thread
run), as real code does when it does any work, I/O or a call into C between the read
and the write.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class Counter:
    """A shared counter, with a lock for those who use it."""

    value: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def increment_racily(counter: Counter, times: int) -> None:
    """Add 1 ``times`` times: read, let other threads run, write back. Loses updates."""
    for _ in range(times):
        seen = counter.value
        time.sleep(0)  # any work here lets another thread in between the read and the write
        counter.value = seen + 1


def increment_with_lock(counter: Counter, times: int) -> None:
    """The same, with the read-modify-write inside ``counter.lock``: nothing is lost."""
    for _ in range(times):
        with counter.lock:
            seen = counter.value
            time.sleep(0)
            counter.value = seen + 1


def count_with_threads(threads: int, times: int, safe: bool) -> int:
    """Final count after ``threads`` threads each add 1 ``times`` times."""
    counter = Counter()
    work = increment_with_lock if safe else increment_racily
    pool = [threading.Thread(target=work, args=(counter, times)) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return counter.value
