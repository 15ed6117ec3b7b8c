"""run_command: time limits, and a watch that stops a command for a reason of its own."""

from __future__ import annotations

import sys
import time

import pytest

from kernels.core.errors import CommandTimeoutError
from kernels.core.subprocesses import run_command

SLEEPER = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print("started", flush=True)
time.sleep(60)
"""


def test_a_watch_that_finds_a_reason_stops_the_command_and_its_children():
    calls = []

    def watch():
        calls.append(time.monotonic())
        return "the watched thing is gone" if len(calls) >= 2 else None

    with pytest.raises(CommandTimeoutError, match="the watched thing is gone") as stopped:
        run_command([sys.executable, "-c", SLEEPER], timeout=120, watch=watch)
    assert stopped.value.reason == "the watched thing is gone"
    assert "started" in stopped.value.output
    assert len(calls) == 2  # and the no-leftover fixture checks the grandchild is gone


def test_a_quiet_watch_lets_the_command_finish_and_the_timeout_still_holds():
    done = run_command([sys.executable, "-c", "import time; time.sleep(1.5); print(7)"],
                       timeout=60, watch=lambda: None)  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "7"
    with pytest.raises(CommandTimeoutError, match="ran longer than 1 s") as late:
        run_command([sys.executable, "-c", SLEEPER], timeout=1, watch=lambda: None)
    assert late.value.reason is None
