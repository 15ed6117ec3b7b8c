"""Shared fixtures: a headless plot backend and the no-leftover-process check."""

from __future__ import annotations

import multiprocessing.resource_tracker
import time

import matplotlib
import multiprocess.resource_tracker
import psutil
import pytest

# Only this process draws off-screen; notebook kernels keep their inline backend.
matplotlib.use("Agg")


def helper_pids() -> set[int]:
    """Long-lived helpers the standard library starts once per interpreter, not per call.

    The resource tracker (which unlinks leaked shared memory and semaphores if we crash)
    lives as long as the interpreter by design; it is not a worker of any call.
    ``multiprocess`` has its own.
    """
    pids = set()
    for module in (multiprocessing.resource_tracker, multiprocess.resource_tracker):
        pid = getattr(getattr(module, "_resource_tracker", None), "_pid", None)
        if pid:
            pids.add(pid)
    return pids


def live_children() -> list[psutil.Process]:
    """Child processes of this test process that are still running (zombies excluded)."""
    children = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.pid in helper_pids() or child.status() == psutil.STATUS_ZOMBIE:
                continue
        except psutil.NoSuchProcess:
            continue
        children.append(child)
    return children


@pytest.fixture(autouse=True)
def no_leftover_children():
    """Fail a test that leaves a child process running after it returns."""
    before = {p.pid for p in live_children()}
    yield
    deadline = time.monotonic() + 2.0  # processes that are exiting get a moment
    while True:
        left = [p for p in live_children() if p.pid not in before]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not left, f"child processes left running: {[(p.pid, p.cmdline()) for p in left]}"
