"""The ``mpiexec`` command lines the book runs, their environment, and their failures.

Shared by :mod:`.launch` (one ``mpiexec`` per call) and :mod:`.warm` (ranks kept
running between calls).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from ..core.errors import BackendUnavailableError, RankFailedError, require_count
from ..core.machine import find_mpiexec
from .programs._program import ERROR_DIR, ERROR_MARK


def mpiexec_path() -> str:
    """The ``mpiexec`` of this environment, or an error saying how to install one."""
    mpiexec = find_mpiexec()
    if mpiexec is None:
        raise BackendUnavailableError(
            "mpiexec was not found: `pip install mpich mpi4py` (or `make install`, or "
            "`conda install -c conda-forge mpich mpi4py`) provides it"
        )
    return mpiexec


def mpiexec_command(ranks: int, args: list[str], hosts=None) -> list[str]:
    """The ``mpiexec`` command line that runs ``args`` on ``ranks`` ranks (on ``hosts``)."""
    require_count("ranks", ranks)
    if hosts is None:
        return [mpiexec_path(), "-n", str(ranks), *args]
    # Across simulated hosts: hydra starts its proxy on each host through the hosts'
    # ssh-like launcher, talks to them over the bridge, and deals the ranks round-robin;
    # the ranks' messages go over TCP on each host's own interface. All hosts share this
    # machine's memory, so MPICH and UCX would pass messages through shared memory, never
    # touching the network: NOLOCAL and UCX's tcp transport make them cross it, as
    # between real machines.
    return [mpiexec_path(), "-launcher", "ssh", "-launcher-exec", hosts.launcher(),
            "-iface", hosts.bridge, "-hosts", ",".join(h.address for h in hosts),
            "-n", str(ranks), "-genv", "FI_PROVIDER", "tcp", "-genv", "FI_TCP_IFACE", "eth0",
            "-genv", "MPIR_CVAR_NOLOCAL", "1", "-genv", "UCX_TLS", "tcp,self",
            "-genv", "UCX_NET_DEVICES", "eth0",
            *args]  # fmt: skip


def rank_environment(error_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """This environment, with one BLAS thread per rank: N ranks already use N cores.

    With ``error_dir``, a rank that fails also writes its error there
    (:data:`~kernels.mpi4py.programs._program.ERROR_DIR`), for :func:`rank_failure`.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    if error_dir is not None:
        env[ERROR_DIR] = str(error_dir)
    return env


def output_tail(stdout: str, stderr: str, lines: int = 15) -> str:
    """The last ``lines`` lines of a command's output and errors together."""
    text = "\n".join(part for part in (stdout.strip(), stderr.strip()) if part)
    return "\n".join(text.splitlines()[-lines:])


def rank_failure(
    completed: subprocess.CompletedProcess, error_dir: str | os.PathLike | None = None
) -> RankFailedError:
    """The error for a run that failed: the failing rank's message, else the output's end.

    The message is looked for in the files the ranks wrote to ``error_dir`` (the lowest
    rank's first), then in the error output.
    """
    written = []
    if error_dir is not None:
        files = Path(error_dir).glob("rank-*.txt")
        for path in sorted(files, key=lambda p: int(p.stem.removeprefix("rank-"))):
            written.append(path.read_text())
    marked = re.findall(rf"{ERROR_MARK} (rank \d+ of \d+: .*)", "".join(written) + completed.stderr)
    if marked:
        return RankFailedError(f"MPI {marked[0]}")
    return RankFailedError(
        f"mpiexec exited with code {completed.returncode}:\n"
        + output_tail(completed.stdout, completed.stderr)
    )
