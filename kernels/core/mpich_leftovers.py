"""What MPICH leaves behind when its processes are killed, and its removal.

- **Shared memory.** The ranks of one ``mpiexec`` on a machine share a segment,
  ``/dev/shm/mpich_shm_*``, and the last rank to leave removes it. Ranks that are
  killed (a run stopped at its timeout, a failed rank, a host cut off) leave it behind:
  1 to 4 MB for each run, for as long as the machine runs.
- **Topology files.** hydra's proxy writes the machine's topology to
  ``/tmp/hydra_hwloc_xmlfile_*`` for its ranks to read as they start MPI, and removes
  it when they end well. After a rank fails (``MPI_Abort``) it stays: one 5 KB file per
  failed run (MPICH 5.0.2).

The MPI launchers remove what their ranks left, and so does the epilog of
:class:`kernels.core.slurm.SingleNodeSlurm` after each job (``python
kernels/core/mpich_leftovers.py LISTING``). A topology file is read only as the ranks
start; a rank whose file is gone finds the topology itself (a run with ``HWLOC_XMLFILE``
naming a missing file started its ranks as fast, bound to the same cores).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SHARED_MEMORY = Path("/dev/shm")
# hydra names its topology files in /tmp, whatever TMPDIR says.
TOPOLOGY_FOLDER = Path("/tmp")
TOPOLOGY_FILES = "hydra_hwloc_xmlfile_*"


@dataclass(frozen=True)
class Leftovers:
    """MPICH's shared-memory segments (in ``/dev/shm``) and hydra's topology files (in
    ``/tmp``), by name.

    Examples
    --------
    >>> before = Leftovers({"mpich_shm_1"}, set())
    >>> after = Leftovers({"mpich_shm_1", "mpich_shm_2"}, {"hydra_hwloc_xmlfile_a"})
    >>> after - before
    Leftovers(segments={'mpich_shm_2'}, topology_files={'hydra_hwloc_xmlfile_a'})
    >>> bool(before - before)
    False
    """

    segments: set[str]
    topology_files: set[str]

    def __sub__(self, other: Leftovers) -> Leftovers:
        return Leftovers(self.segments - other.segments,
                         self.topology_files - other.topology_files)  # fmt: skip

    def __bool__(self) -> bool:
        return bool(self.segments or self.topology_files)


def present() -> Leftovers:
    """The segments and topology files there are now."""
    return Leftovers(segments(), topology_files())


def remove(left: Leftovers, wait: float = 2.0) -> None:
    """Remove the topology files ``left`` names, and its segments once no process maps
    them (:func:`remove_when_unmapped`)."""
    for name in left.topology_files:
        (TOPOLOGY_FOLDER / name).unlink(missing_ok=True)
    remove_when_unmapped(left.segments, wait)


def topology_files() -> set[str]:
    """The names of hydra's topology files in ``/tmp`` now."""
    try:
        return {p.name for p in TOPOLOGY_FOLDER.glob(TOPOLOGY_FILES)}
    except OSError:
        return set()


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
    """``python mpich_leftovers.py LISTING``: remove what MPICH left that LISTING lacks.

    LISTING is a file of names in ``/dev/shm`` and ``/tmp`` taken earlier (a job's prolog
    writes it): the topology files made since, and the segments made since that no
    process maps, are removed. Always returns 0: it runs as SLURM's epilog, where a
    failure would take the node out of service.
    """
    try:
        names = set(Path(argv[0]).read_text().split())
    except (IndexError, OSError):
        names = set()
    remove(present() - Leftovers(names, names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
