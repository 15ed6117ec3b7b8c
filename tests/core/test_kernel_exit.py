"""The pools' helper processes are stopped when a notebook kernel is asked to shut down.

The kernels themselves are tested in tests/book/test_notebooks.py (a kernel that ran a
``spawn`` pool, with and without ``import kernels``); here, the parts.
"""

from __future__ import annotations

import json

from kernels.core import kernel_exit
from kernels.core.subprocesses import run_python

HELPERS = """
import json, os
import multiprocess, multiprocessing
from kernels.core import kernel_exit


def children():  # by /proc, which lists zombies too
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit()
                  and open(f"/proc/{p}/stat").read().split()[3] == str(os.getpid()))


if __name__ == "__main__":
    for library in (multiprocessing, multiprocess):
        for method in ("spawn", "forkserver"):
            with library.get_context(method).Pool(1) as pool:
                pool.map(abs, [-1])
    before = children()
    kernel_exit.stop_helpers()
    print(json.dumps({"before": before, "after": children()}))
"""


def test_stop_helpers_stops_and_waits_for_every_tracker_and_fork_server():
    # Two resource trackers and two fork servers (multiprocessing's and multiprocess's),
    # children of the process that used the pools; afterwards no child is left, not even
    # a zombie. The last pool's semaphores are still referenced: their finalizers ran
    # first, so no tracker found them leaked, and the exit after is quiet.
    code, output = run_python(HELPERS, timeout=120)
    assert code == 0, output
    children = json.loads(output.strip().splitlines()[-1])
    assert len(children["before"]) == 4, output
    assert children["after"] == []
    assert "leaked" not in output and "Traceback" not in output, output


def test_outside_a_jupyter_kernel_nothing_is_wrapped():
    assert kernel_exit.stop_helpers_at_shutdown() is False
