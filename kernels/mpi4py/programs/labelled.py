"""Run a script on every rank with each line it prints prefixed by its rank: ``[r] ...``.

``mpiexec -n N python -m mpi4py -m kernels.mpi_programs.labelled script.py args``. Whole
lines are written at once, so the lines of different ranks never mix.
"""

from __future__ import annotations

import io
import runpy
import sys


class RankLines(io.TextIOBase):
    """A text stream that writes whole lines to ``stream``, each prefixed with ``label``."""

    def __init__(self, stream, label: str):
        self.stream, self.label, self.pending = stream, label, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        if lines:
            self.stream.write("".join(f"{self.label}{line}\n" for line in lines))
            self.stream.flush()
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.write("\n")
        self.stream.flush()


def main() -> None:
    from mpi4py import MPI

    label = f"[{MPI.COMM_WORLD.rank}] "
    sys.stdout = RankLines(sys.__stdout__, label)
    sys.stderr = RankLines(sys.__stderr__, label)
    script, *args = sys.argv[1:]
    sys.argv = [script, *args]
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == "__main__":
    main()
