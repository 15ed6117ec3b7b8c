"""The shared memory MPICH's ranks leave in ``/dev/shm`` when they are killed.

The ranks of one ``mpiexec`` on a machine share a segment, ``/dev/shm/mpich_shm_*``,
and the last rank to leave removes it. Ranks that are killed (a run stopped at its
timeout, a failed rank, a host cut off) leave it behind: 1 to 4 MB for each run, for
as long as the machine runs. The MPI launchers remove what their ranks left, and so
does the epilog of :class:`kernels.core.slurm.SingleNodeSlurm` after each job
(``python kernels/core/shm.py LISTING``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil

SHARED_MEMORY = Path("/dev/shm")


def segments() -> set[str]:
    """The names of MPICH's shared-memory segments in ``/dev/shm`` now."""
    try:
        return {p.name for p in SHARED_MEMORY.glob("mpich_shm_*")}
    except OSError:
        return set()


def _maps(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:  # the process has ended, or is not ours to read
        return ""


def mapped_by(pid: int) -> set[str]:
    """The segments that process ``pid`` or one of its descendants has mapped."""
    try:
        family = [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]
    except psutil.Error:
        return set()
    maps = "".join(_maps(p) for p in family)
    return {name for name in segments() if name in maps}


def remove_when_unmapped(names: set[str], wait: float = 2.0) -> list[str]:
    """Remove the segments ``names`` as soon as no running process has them mapped.

    Ranks still exiting keep theirs mapped for a moment: this waits up to ``wait``
    seconds for them, then leaves any segment still in use. Returns the names removed.
    """
    deadline = time.monotonic() + wait
    removed = []
    left = set(names)
    while left:
        maps = "".join(_maps(int(p.name)) for p in Path("/proc").glob("[0-9]*"))
        for name in sorted(n for n in left if n not in maps):
            (SHARED_MEMORY / name).unlink(missing_ok=True)
            removed.append(name)
        left -= set(removed)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return removed


def main(argv: list[str]) -> int:
    """``python shm.py LISTING``: remove the unmapped segments LISTING lacks.

    LISTING is a file of names in ``/dev/shm`` taken earlier (a job's prolog writes it):
    the segments made since that no process maps are removed. Always returns 0: it runs
    as SLURM's epilog, where a failure would take the node out of service.
    """
    try:
        before = set(Path(argv[0]).read_text().split())
    except (IndexError, OSError):
        before = set()
    remove_when_unmapped(segments() - before)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
