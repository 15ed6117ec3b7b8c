"""One way to run a command: with a time limit that stops its whole process tree.

MPI launches, the JAX worker, the C program, the chapters' demonstration scripts and the
machine probes all run through :func:`run_command`. On a timeout the command and every
process it started (``mpiexec``'s ranks, a script's pool workers) are stopped and waited
for, and :class:`~kernels.core.errors.CommandTimeoutError` says what ran too long.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import psutil

from .errors import CommandTimeoutError


def stop_pids(pids: Iterable[int], grace: float = 10.0) -> None:
    """Terminate the processes ``pids``; kill what is left after ``grace`` s, and wait.

    For processes this one did not start as :class:`subprocess.Popen` (daemons that
    wrote a pid file); a pid already gone is skipped.
    """
    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            procs.append(psutil.Process(pid))
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=grace)


def stop_process_trees(processes: Iterable[subprocess.Popen], grace: float = 10.0) -> None:
    """Terminate each process and all its descendants; kill what is left after ``grace`` s.

    Every process is waited for (no zombies), whether it exited by itself, on SIGTERM or
    on SIGKILL.
    """
    processes = list(processes)
    tree: list[int] = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            parent = psutil.Process(process.pid)
            tree += [parent.pid, *(child.pid for child in parent.children(recursive=True))]
    stop_pids(tree, grace)
    for process in processes:
        process.wait()


def run_command(
    command: Sequence[str],
    timeout: float,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    merge_output: bool = False,
    grace: float = 2.0,
    watch: Callable[[], str | None] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``command`` to the end and return its exit code and output (as text).

    Parameters
    ----------
    command : sequence of str
        The program and its arguments.
    timeout : float
        Seconds it may run. Past them the command and all its descendants are stopped
        (SIGTERM, then SIGKILL after ``grace`` seconds) and waited for.
    env, cwd
        As for :class:`subprocess.Popen`; standard input is always the null device.
    merge_output : bool
        Send standard error into standard output (one stream, in order).
    watch : callable, optional
        Called about once a second while the command runs; when it returns a reason
        (a string), the command is stopped as on a timeout and ``CommandTimeoutError``
        is raised with that reason.

    Raises
    ------
    CommandTimeoutError
        It ran past ``timeout``; ``.output`` holds what it printed until then.
    OSError
        The program could not be started.

    Examples
    --------
    >>> run_command([sys.executable, "-c", "print(6 * 7)"], timeout=60).stdout
    '42\\n'
    """
    process = subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_output else subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=None if env is None else dict(env),
        cwd=cwd,
    )
    deadline = time.monotonic() + timeout
    reason = None
    while True:
        left = deadline - time.monotonic()
        try:
            stdout, stderr = process.communicate(
                timeout=max(0.01, min(left, 1.0) if watch else left)
            )
            break
        except subprocess.TimeoutExpired:
            reason = watch() if watch else None
            if reason is None and time.monotonic() < deadline:
                continue
        stop_process_trees([process], grace=grace)
        stdout, stderr = process.communicate()
        error = CommandTimeoutError(reason or (
            f"`{Path(command[0]).name} {' '.join(command[1:3])} ...` ran longer than "
            f"{timeout:g} s and was stopped, with every process it started"))  # fmt: skip
        error.reason = reason
        error.output = "\n".join(part for part in (stdout, stderr) if part)
        raise error from None
    return subprocess.CompletedProcess(list(command), process.returncode, stdout, stderr or "")


def run_python(source: str, timeout: float = 60.0) -> tuple[int | None, str]:
    """Run ``source`` as a script in a fresh interpreter, in a temporary folder.

    Returns
    -------
    (int or None, str)
        The exit code (``None`` when it ran past ``timeout`` and was stopped, with its
        children) and its combined output.

    Examples
    --------
    >>> run_python("print('hello')")
    (0, 'hello\\n')
    """
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "script.py"
        script.write_text(source)
        try:
            done = run_command([sys.executable, str(script)], timeout, cwd=folder,
                               merge_output=True, grace=1.0)  # fmt: skip
        except CommandTimeoutError as exc:
            return None, exc.output
        return done.returncode, done.stdout
