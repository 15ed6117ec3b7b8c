"""Rules every exercise checker keeps, read from the checkers' source.

The behaviour of each checker (right answers pass, near misses fail) is tested with its
tool in ``tests/tools``; here: no message or hint can show the answer, and every
checker draws fresh cases.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import time

import pytest
from checker_cases import ANSWER_FORMULAS, assert_no_formula
from conftest import ROOT

CHECK_MODULES = sorted(p for p in (ROOT / "kernels").glob("*/checks.py"))


def _strings(path) -> list[str]:
    """Every string the module could show a learner (literals and f-string parts)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
    return found


def _messages(path) -> str:
    """The text of every failed(...) and passed(...) call of a module, joined."""
    tree = ast.parse(path.read_text())
    parts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in {"failed", "passed"}:
            for arg in ast.walk(node):
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    parts.append(arg.value)
    return "".join(parts)


@pytest.mark.parametrize("path", CHECK_MODULES, ids=lambda p: p.parent.name)
def test_no_message_shows_an_answer_formula(path):
    assert_no_formula(_messages(path))


@pytest.mark.parametrize("path", CHECK_MODULES, ids=lambda p: p.parent.name)
def test_messages_do_not_print_expected_values(path):
    # "expected {want}" and the like hand the answer to a table of copied values.
    for text in _strings(path):
        assert "expected {" not in text and "{want" not in text, text


@pytest.mark.parametrize("path", CHECK_MODULES, ids=lambda p: p.parent.name)
def test_every_checker_draws_fresh_cases(path):
    module = importlib.import_module(f"kernels.{path.parent.name}.checks")
    checkers = [name for name, value in vars(module).items()
                if name.startswith("check_") and value.__module__ == module.__name__]  # fmt: skip
    source = path.read_text()
    assert checkers
    for name in checkers:
        body = ast.get_source_segment(source, next(
            n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name
        ))  # fmt: skip
        helpers = [n for n in ("_cases(", "_case(", "_row_costs(", "fresh_rng()") if n in body]
        assert helpers, f"{name} uses fixed cases"


def test_the_formula_patterns_have_teeth():
    leaks = ["f = (1/S - 1/p) / (1 - 1/p)", "t = o * E / (1 - E)",
             "n_tasks / (4 * workers)", "1 / (f + (1 - f) / p)",
             "`total += 1` makes it a reduction"]  # fmt: skip
    for text in leaks:
        assert any(p.search(text) for p in ANSWER_FORMULAS), text


def test_a_failed_check_in_an_assert_says_why(capsys):
    from kernels.core.checking import failed, passed

    with pytest.raises(AssertionError):
        assert failed("the rows are out of order", "keep the order of the input.")
    assert "the rows are out of order" in capsys.readouterr().err
    assert passed("all rows")
    assert capsys.readouterr().err == ""


def _raises_bare(*args):
    raise ValueError


def _raises_at_length(*args):
    raise ValueError("the first line\n" + "a detail from deep inside\n" * 40)


@pytest.mark.parametrize("module, name", [("multiprocessing", "check_chunksize"),
                                          ("foundations", "check_workers_needed"),
                                          ("choosing", "check_karp_flatt")])  # fmt: skip
def test_an_answer_that_raises_gets_one_line_naming_the_error(module, name):
    check = getattr(importlib.import_module(f"kernels.{module}.checks"), name)
    bare, long = check(_raises_bare), check(_raises_at_length)  # no IndexError on ""
    assert not bare.passed and "raised ValueError" in bare.message
    assert not long.passed and "raised ValueError: the first line" in long.message
    assert "a detail" not in long.message


def test_most_cores_stops_at_its_time_limit():
    from kernels.core.checking import most_cores

    runs = []

    def serial():  # one core busy for 0.31 s, never the two asked for: one call a try
        runs.append(1)
        end = time.perf_counter() + 0.31
        while time.perf_counter() < end:
            pass

    cores = most_cores(serial, enough=1.9, tries=10, time_limit=0.5)
    assert 0 < cores < 1.9 and len(runs) == 2  # the second try ends past the time limit
    runs.clear()
    most_cores(serial, enough=1.9, tries=3)
    assert len(runs) == 3  # without a time limit: every try


CHILD_WATCH = """
import os, sys, time
from kernels.core.checking import ChildWatch

def fork(then):
    pid = os.fork()
    if pid == 0:
        then()
        os._exit(0)
    return pid

def exec_as_tracker():  # caught before its exec, it shows this script's command line
    time.sleep(0.1)
    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(0.2)",
                              "resource_tracker"])

with ChildWatch() as tracker:
    os.waitpid(fork(exec_as_tracker), 0)
with ChildWatch() as worker:
    pid = fork(lambda: time.sleep(0.1))
    os.waitpid(pid, 0)
print(len(tracker.pids), worker.pids == {pid})
"""


def test_child_watch_counts_workers_not_a_tracker_caught_before_its_exec():
    """A resource tracker sampled between its fork and its exec is not a worker (a
    one-worker dask cluster passed for two so); a fork worker, which never execs, is."""
    done = subprocess.run([sys.executable, "-c", CHILD_WATCH], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True"], done.stdout


class _Child:
    """A child process whose command line, one sample after another, is ``commands``."""

    def __init__(self, pid: int, commands: list[list[str]]) -> None:
        self.pid, self._commands = pid, commands

    def cmdline(self) -> list[str]:
        return self._commands.pop(0) if len(self._commands) > 1 else self._commands[0]


def test_child_watch_counts_python_workers_only(monkeypatch):
    """Linux shows an empty command line for a moment inside ``exec`` (seen in 197 of
    200 forks sampled in a tight loop); a tracker caught then is still not a worker, nor
    is a program that is not Python (a dask worker's ``uname -p``). A spawned worker is."""
    import psutil

    from kernels.core import checking

    own = psutil.Process().cmdline()
    tracker = _Child(4242, [own, [], [sys.executable, "-c", "...", "resource_tracker"]])
    uname = _Child(4343, [["uname", "-p"]])
    worker = _Child(4444, [[sys.executable, "-c", "from multiprocessing.spawn import ..."]])
    samples = [[], [tracker], [tracker, uname], [tracker, worker], []]

    class Me:
        def __init__(self, pid=None) -> None:
            pass

        def cmdline(self) -> list[str]:
            return own

        def children(self, recursive: bool = False) -> list[_Child]:
            return samples.pop(0)

    monkeypatch.setattr(checking.psutil, "Process", Me)
    watch = checking.ChildWatch()
    for _ in range(5):  # as the sampler's thread would, without its timing
        watch.sample()
    assert watch.pids == {4444} and watch.most == 1
