"""Chapter 01's look at other interpreters: free-threaded builds and subinterpreters.

:mod:`.gil_probe` (standard library only) runs in every Python found on this machine and
reports what its threads do with pure Python code.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pandas as pd

from ..core.errors import CommandTimeoutError
from ..core.subprocesses import run_command

# Interpreters looked for on PATH besides this one: "t" is a free-threaded build.
CANDIDATES = ("python3.11", "python3.12", "python3.13", "python3.13t", "python3.14",
              "python3.14t")  # fmt: skip
PROBE = Path(__file__).with_name("gil_probe.py")


def interpreters() -> list[str]:
    """This Python and every other of :data:`CANDIDATES` on PATH, each once."""
    found, seen = [], set()
    for command in (sys.executable, *filter(None, map(shutil.which, CANDIDATES))):
        real = os.path.realpath(command)
        if real not in seen:
            seen.add(real)
            found.append(command)
    return found


def gil_across_interpreters(commands: list[str] | None = None) -> pd.DataFrame:
    """Run the probe in each interpreter; one row per interpreter that ran it.

    Returns
    -------
    pandas.DataFrame
        ``python``, ``free_threaded_build``, ``gil_enabled``, ``threads_speedup`` (1 thread's
        time over 2 threads'), ``interpreters_speedup`` (the same for subinterpreters, NaN
        where the interpreter has no ``InterpreterPoolExecutor``) and ``command``.
    """
    rows = []
    for command in commands or interpreters():
        try:
            done = run_command([command, str(PROBE)], timeout=120)
        except (OSError, CommandTimeoutError):
            continue
        if done.returncode != 0:  # e.g. a pyenv shim for a version not selected here
            continue
        report = json.loads(done.stdout.strip().splitlines()[-1])
        threads, subs = report["threads"], report["interpreters"]
        rows.append({
            "python": report["python"],
            "free_threaded_build": report["free_threaded_build"],
            "gil_enabled": report["gil_enabled"],
            "threads_speedup": threads["1"] / threads["2"],
            "interpreters_speedup": subs["1"] / subs["2"] if subs else float("nan"),
            "command": command,
        })  # fmt: skip
    # A shim or a second name for an interpreter already measured: keep the first.
    return pd.DataFrame(rows).drop_duplicates(["python", "free_threaded_build"], ignore_index=True)
