"""Run the profilers of chapter 02 on a call or a program, and turn their output into tables.

cProfile and tracemalloc are in the standard library; line_profiler and py-spy are
installed with the book (``pip install line_profiler py-spy``), imported or started only
when used.
"""

from __future__ import annotations

import cProfile
import io
import linecache
import os
import pstats
import shutil
import subprocess
import sys
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.timing import best_of


def profile_call(func: Callable, *args, **kwargs) -> pstats.Stats:
    """Run ``func(*args, **kwargs)`` under cProfile and return its :class:`pstats.Stats`."""
    profiler = cProfile.Profile()
    profiler.runcall(func, *args, **kwargs)
    return pstats.Stats(profiler, stream=io.StringIO())


def print_top(stats: pstats.Stats, sort: str = "tottime", lines: int = 8) -> None:
    """Print pstats' own table of the ``lines`` costliest functions by ``sort``.

    File names are shortened to the part after ``site-packages`` or the project folder,
    so the table fits on a page.
    """
    stream = io.StringIO()
    stats.stream = stream
    stats.sort_stats(sort).print_stats(lines)
    text = stream.getvalue()
    for prefix in sorted(_path_prefixes(), key=len, reverse=True):
        text = text.replace(prefix, "")
    print(text.strip("\n"))


def _path_prefixes() -> set[str]:
    root = str(Path(__file__).resolve().parents[2]) + os.sep
    stdlib = str(Path(os.__file__).parent) + os.sep
    return {root, stdlib, *(p + os.sep for p in sys.path if p.endswith("site-packages"))}


def stats_table(stats: pstats.Stats, top: int = 10):
    """The ``top`` functions by own time as a DataFrame: calls, own and cumulative seconds.

    ``own %`` is the share of the profile's total time spent in the function's own code;
    ``cumulative %`` includes the functions it calls.
    """
    import pandas as pd

    total = stats.total_tt
    rows = []
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        where = "built-in" if filename == "~" else f"{Path(filename).name}:{line}"
        rows.append({"function": name, "where": where, "calls": ncalls, "own s": tottime,
                     "cumulative s": cumtime})  # fmt: skip
    df = pd.DataFrame(rows).sort_values("own s", ascending=False).head(top)
    df["own %"] = 100 * df["own s"] / total
    df["cumulative %"] = 100 * df["cumulative s"] / total
    return df.reset_index(drop=True).round(3)


def cumulative_seconds(stats: pstats.Stats, name: str) -> float:
    """Seconds spent in the function called ``name`` and everything it calls (cumtime)."""
    found = [v[3] for (_, _, fname), v in stats.stats.items() if fname == name]
    if not found:
        raise ValueError(f"no function named {name!r} in the profile")
    return max(found)


def seconds_with_and_without_profiler(
    func: Callable, *args, repeat: int = 3
) -> tuple[float, float]:
    """The best time of ``func(*args)`` plain and under cProfile: the profiler's overhead."""

    plain = best_of(lambda: func(*args), repeat)
    profiled = best_of(lambda: cProfile.Profile().runcall(func, *args), repeat)
    return plain, profiled


def line_profile(func: Callable, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` under line_profiler, timing every line of ``func``.

    Returns the :class:`line_profiler.LineProfiler`, whose ``print_stats()`` prints the
    per-line report; :func:`line_table` turns it into a DataFrame.
    """
    from line_profiler import LineProfiler

    profiler = LineProfiler(func)
    profiler.runcall(func, *args, **kwargs)
    return profiler


def line_table(profiler):
    """The timed lines of a :func:`line_profile` run: hits, seconds and % of the function."""
    import pandas as pd

    stats = profiler.get_stats()
    rows = []
    for (filename, _, name), timings in stats.timings.items():
        total = sum(t for _, _, t in timings) or 1
        for line, hits, t in timings:
            rows.append({"function": name, "line": line, "hits": hits,
                         "seconds": t * stats.unit, "% of function": 100 * t / total,
                         "code": linecache.getline(filename, line).strip()})  # fmt: skip
    return pd.DataFrame(rows).round(3)


@dataclass(frozen=True)
class Sampled:
    """What py-spy saw: the samples per call stack and the flame graph it drew (SVG)."""

    stacks: Counter
    svg: str

    @property
    def samples(self) -> int:
        return sum(self.stacks.values())

    def share_inside(self, names: Sequence[str], within: str) -> dict[str, float]:
        """For each function name, its share of the samples taken inside ``within``.

        A sample counts for a function when the function is anywhere on its call stack
        (the function's own code or something it called), as cProfile's cumulative time.
        """
        inside = {s: n for s, n in self.stacks.items() if _calls(s, within)}
        total = max(1, sum(inside.values()))
        return {name: sum(n for s, n in inside.items() if _calls(s, name)) / total
                for name in names}  # fmt: skip


def _calls(stack: str, name: str) -> bool:
    """Whether the function ``name`` is a frame of a py-spy stack ("f (file:line);g (...)")."""
    return any(frame.split(" (", 1)[0] == name for frame in stack.split(";"))


_FAILED = ("Traceback (most recent call last)", "No module named", ": error: ")


def program_report(stderr: str) -> str:
    r"""The program's own error output from ``py-spy record``'s, without py-spy's lines.

    py-spy's progress lines start with ``py-spy>``; when the program exits before py-spy
    has read it, py-spy adds its own ``Error:`` and a backtrace after the program's
    report, which would push the report out of a message that keeps the last lines.

    Examples
    --------
    >>> program_report("py-spy> Sampling\npython: No module named m\nError: gone\n  0: x")
    'python: No module named m'
    """
    lines = []
    for line in stderr.splitlines():
        if line.startswith("Error: "):
            break
        if not line.startswith("py-spy>"):
            lines.append(line)
    return "\n".join(lines).strip()[-500:]


def py_spy_path() -> str:
    """The ``py-spy`` program beside this Python (or on ``PATH``); a clear error without it."""
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("py-spy is not installed: `pip install py-spy` (wheels for Linux, "
                           "macOS and Windows)")  # fmt: skip
    return found


def sample_program(
    module: str, args: Sequence[str], rate: int = 500, timeout: float = 120.0
) -> Sampled:
    """Run ``python -m module args`` under ``py-spy record`` and return what it sampled.

    py-spy starts the program itself, so it needs no special rights on Linux; on macOS
    it needs ``sudo`` (the error says so). ``rate`` is samples per second.
    """
    spy = py_spy_path()
    program = [sys.executable, "-m", module, *args]
    out = {}
    with _temporary_folder() as folder:
        for fmt, name in (("raw", "stacks.txt"), ("flamegraph", "flame.svg")):
            path = folder / name
            command = [spy, "record", "--rate", str(rate), "--function", "--nonblocking",
                       "--format", fmt, "-o", str(path), "--", *program]  # fmt: skip
            run = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            # py-spy exits 0 when the program it started fails: look for Python's report
            # (a traceback, a missing module, or argparse's usage error).
            if any(sign in run.stderr for sign in _FAILED):
                raise RuntimeError(f"the program failed under py-spy: {program_report(run.stderr)}")
            if run.returncode != 0 or not path.exists():
                hint = " (on macOS, py-spy needs sudo)" if sys.platform == "darwin" else ""
                raise RuntimeError(f"py-spy record failed{hint}: {run.stderr.strip()[-500:]}")
            out[fmt] = path.read_text()
    stacks = Counter()
    for line in out["raw"].splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            stacks[stack] += int(count)
    return Sampled(stacks=stacks, svg=out["flamegraph"])


def _temporary_folder():
    import tempfile

    return _PathDir(tempfile.TemporaryDirectory(prefix="kernels-py-spy-"))


class _PathDir:
    def __init__(self, tmp) -> None:
        self.tmp = tmp

    def __enter__(self) -> Path:
        return Path(self.tmp.__enter__())

    def __exit__(self, *exc) -> None:
        self.tmp.__exit__(*exc)


def peak_bytes(func: Callable, *args) -> int:
    """The most memory ``func(*args)`` held at once beyond what was allocated before.

    Measured with tracemalloc, which sees Python objects and NumPy's array buffers.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        func(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - before)


def top_allocations(func: Callable, *args, lines: int = 5):
    """Where the memory still held after ``func(*args)`` was allocated, by source line.

    Returns a DataFrame of the ``lines`` largest: file:line, MiB and the number of blocks.
    The result of the call is kept alive until the snapshot is taken.
    """
    import pandas as pd

    tracemalloc.start()
    try:
        result = func(*args)
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    snapshot = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    rows = []
    for stat in snapshot.statistics("lineno")[:lines]:
        frame = stat.traceback[0]
        rows.append({"where": f"{Path(frame.filename).name}:{frame.lineno}",
                     "code": linecache.getline(frame.filename, frame.lineno).strip(),
                     "MiB": stat.size / 2**20, "blocks": stat.count})  # fmt: skip
    del result
    return pd.DataFrame(rows).round(2)


def grid_bytes(n: int) -> dict[str, int]:
    """Bytes held by an ``n`` x ``n`` field as Python lists of floats and as a NumPy array."""
    return {"lists": peak_bytes(lambda: [[float(i + j) for j in range(n)] for i in range(n)]),
            "numpy": peak_bytes(lambda: np.ones((n, n)))}  # fmt: skip
