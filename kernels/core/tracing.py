"""Where did the work run? Events that task functions record for the exercise checkers.

A checker that must see *who* did the work (which processes, which chunks) sets
``KERNELS_TRACE`` to a fresh folder with :func:`traced`; worker processes started while
it is set inherit it, and the book's task functions (:func:`kernels.core.tasks.longest_collatz`,
:func:`kernels.run`) append one line per call to ``<folder>/<pid>.jsonl``. Unset (always,
outside a checker), :func:`record` costs one dictionary lookup.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ENV = "KERNELS_TRACE"


def record(event: str, **details) -> None:
    """Append ``event`` with ``details`` and this process's PID to the trace, if one is on."""
    folder = os.environ.get(ENV)
    if not folder:
        return
    line = json.dumps({"event": event, "pid": os.getpid(), **details})
    with open(Path(folder) / f"{os.getpid()}.jsonl", "a") as out:
        out.write(line + "\n")


@dataclass
class Trace:
    """The events recorded while :func:`traced` was active (filled in when it ends)."""

    events: list[dict] = field(default_factory=list)

    def of(self, event: str) -> list[dict]:
        """The events named ``event``."""
        return [e for e in self.events if e["event"] == event]

    def pids(self, event: str) -> set[int]:
        """The processes that recorded ``event``."""
        return {e["pid"] for e in self.of(event)}


@contextlib.contextmanager
def traced() -> Iterator[Trace]:
    """Record the book's task calls, in this process and in workers started meanwhile.

    Examples
    --------
    >>> from kernels.core import tasks
    >>> with traced() as trace:
    ...     _ = tasks.longest_collatz(1, 10)
    >>> [(e["lo"], e["hi"]) for e in trace.of("longest_collatz")]
    [(1, 10)]
    """
    previous = os.environ.get(ENV)
    trace = Trace()
    with tempfile.TemporaryDirectory(prefix="kernels-trace-") as folder:
        os.environ[ENV] = folder
        try:
            yield trace
        finally:
            if previous is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = previous
            for path in sorted(Path(folder).glob("*.jsonl")):
                trace.events += [json.loads(line) for line in path.read_text().splitlines()]
