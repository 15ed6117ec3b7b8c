"""Stopping OS processes together with every process they started."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterable

import psutil


def stop_process_trees(processes: Iterable[subprocess.Popen], grace: float = 10.0) -> None:
    """Terminate each process and all its descendants; kill what is left after ``grace`` s.

    Every process is waited for (no zombies), whether it exited by itself, on SIGTERM or
    on SIGKILL.
    """
    processes = list(processes)
    tree: list[psutil.Process] = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            parent = psutil.Process(process.pid)
            tree += [parent, *parent.children(recursive=True)]
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    _, alive = psutil.wait_procs(tree, timeout=grace)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=grace)
    for process in processes:
        process.wait()
