"""Links with latency where the kernel cannot add it: a small C delay line.

``tc qdisc ... netem delay 1ms`` is the usual way to give a link latency, but it needs
the kernel's ``sch_netem`` module, which many kernels (containers, some cloud VMs) lack.
``delayline.c`` (shipped with the package, compiled here on first use with the
machine's C compiler) does the same job from user space: it sits between a host's end
of its link and the switch, holds each frame the host sends for the delay, and passes
the rest at once. :class:`kernels.core.hosts.SimulatedHosts` uses it for ``delay=``.
"""

from __future__ import annotations

import functools
import re
import subprocess
from importlib.resources import files
from pathlib import Path

from .cprograms import build_c_program

SOURCE = files(__package__) / "delayline.c"
_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_LONGEST_NS = 1_000_000_000


class DelayLineUnavailable(RuntimeError):
    """The delay line cannot be built or started here (no C compiler, not root)."""


def delay_ns(text: str) -> int:
    """Nanoseconds in a delay written as ``tc`` writes it: ``"50us"``, ``"1ms"``, ``"0.2ms"``.

    Raises
    ------
    ValueError
        When ``text`` is not a number and a unit (ns, us, ms, s), or is not between 0
        and 1 s.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*(ns|us|ms|s)\s*", str(text))
    if match is None:
        raise ValueError(f"a delay is a number and a unit (ns, us, ms or s), got {text!r}")
    nanoseconds = round(float(match[1]) * _UNITS[match[2]])
    if not 0 <= nanoseconds <= _LONGEST_NS:
        raise ValueError(f"a delay must be between 0 and 1 s, got {text!r}")
    return nanoseconds


@functools.cache
def build() -> Path:
    """The compiled delay line's path: compiled once per machine and kept."""
    return build_c_program("delayline", {"delayline.c": SOURCE.read_text()}, ["-O2", "-Wall"],
                           DelayLineUnavailable, "for delayed links", "see the errors")  # fmt: skip


def start(into: str, out_of: str, nanoseconds: int) -> subprocess.Popen:
    """Start a delay line: frames arriving on ``into`` leave on ``out_of`` late.

    Returns once both interfaces are open. The caller stops it (terminate, then wait);
    it also stops by itself when the calling process exits.
    """
    process = subprocess.Popen([str(build()), into, out_of, str(nanoseconds)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    ready = process.stdout.readline().strip() == "ready"
    process.stdout.close()
    if not ready:
        process.wait()
        why = process.stderr.read().strip()
        process.stderr.close()
        raise DelayLineUnavailable(f"the delay line between {into} and {out_of} did not "
                                   f"start: {why}")  # fmt: skip
    process.stderr.close()  # it writes only when it cannot start
    return process
