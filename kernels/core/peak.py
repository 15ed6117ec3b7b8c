"""The core's peak double-precision rate, from what the machine reports.

The compiled backends are compared with C, but C is not the limit: the processor is.
The useful work of a Mandelbrot image is known exactly (every escape count is a number
of iterations, each of :data:`MANDELBROT_FLOPS` floating-point operations), so a run's
rate can be set against the core's peak.

The peak is *estimated*: clock × doubles per vector instruction × vector FP units ×
(2 with fused multiply-add). The assumptions are stated in :attr:`Peak.assumptions` and
the chapter prints them; a machine's manual (or a measured FLOPS benchmark) is the
authority.
"""

from __future__ import annotations

from dataclasses import dataclass

import psutil

from . import machine

# One Mandelbrot iteration: zr*zr, zi*zi, 2*zr*zi (4 multiplies); the escape test
# zr*zr + zi*zi, zr*zr - zi*zi + cr, ... + ci (4 adds). The book's kernels are compiled
# without contracting these into fused multiply-adds, so each is an instruction.
MANDELBROT_FLOPS = 8

# Vector floating-point pipes per core that can take a multiply or an add each cycle:
# Intel server cores since Skylake-SP have two (FMA units, each a multiply or an add);
# AMD's Zen cores have four (two multiply/FMA and two add pipes), so a balanced mix of
# multiplies and adds, as here, issues four per cycle.
FP_UNITS = {"GenuineIntel": 2, "AuthenticAMD": 4}

# AMD's CPU family of Zen 5 (0x1A): its server and desktop cores execute a 512-bit
# vector instruction in one pass; Zen 4 (family 0x19) splits it into two 256-bit halves.
ZEN5_FAMILY = 26


@dataclass(frozen=True)
class Peak:
    """The estimated peak of one core: ``ghz`` × ``doubles`` × ``units`` (× 2 with FMA)."""

    ghz: float
    doubles: int
    units: int
    fma: bool
    assumptions: str

    def flops(self, fused: bool = False) -> float:
        """Peak double-precision operations per second of one core.

        ``fused`` counts an FMA as two operations (the figure vendors quote); the book's
        kernels issue separate multiplies and adds, so their ceiling is ``fused=False``.
        """
        return self.ghz * 1e9 * self.doubles * self.units * (2 if fused and self.fma else 1)


def core_peak(cpuinfo: dict[str, str] | None = None, mhz: float | None = None) -> Peak:
    """Estimate one core's peak from ``/proc/cpuinfo`` (flags, vendor) and the clock.

    Parameters
    ----------
    cpuinfo : dict, optional
        ``/proc/cpuinfo``'s first processor as ``{field: value}`` (read here if not given).
    mhz : float, optional
        The clock; default psutil's maximum frequency, else the current one.

    Examples
    --------
    >>> intel = {"vendor_id": "GenuineIntel", "flags": "sse2 avx avx2 fma avx512f"}
    >>> core_peak(intel, mhz=2000.0).flops() / 1e9
    32.0
    >>> zen4 = {"vendor_id": "AuthenticAMD", "cpu family": "25", "flags": "avx2 fma avx512f"}
    >>> core_peak(zen4, mhz=2000.0).flops() / 1e9
    32.0
    >>> zen5 = {"vendor_id": "AuthenticAMD", "cpu family": "26", "flags": "avx2 fma avx512f"}
    >>> core_peak(zen5, mhz=2000.0).flops() / 1e9
    64.0
    """
    info = machine.cpuinfo() if cpuinfo is None else cpuinfo
    flags = set(info.get("flags", "").split())
    vendor = info.get("vendor_id", "")
    if mhz is None:
        freq = psutil.cpu_freq()
        mhz = (freq.max or freq.current) if freq else float(info.get("cpu mhz", 0) or 0)
    family = int(info.get("cpu family", "0") or 0)
    if "avx512f" in flags and vendor != "AuthenticAMD":
        doubles, isa = 8, "AVX-512 (512-bit vectors)"
    elif "avx512f" in flags and family >= ZEN5_FAMILY:
        doubles, isa = 8, "AVX-512 on Zen 5's 512-bit datapaths (laptop Zen 5 has 256)"
    elif "avx512f" in flags:
        doubles, isa = 4, "AVX-512 on Zen 4's 256-bit datapaths (4 doubles per cycle per unit)"
    elif "avx" in flags:
        doubles, isa = 4, "AVX/AVX2 (256-bit vectors)"
    else:
        doubles, isa = 2, "SSE2 (128-bit vectors)"
    units = FP_UNITS.get(vendor, 2)
    fma = "available" if "fma" in flags else "absent"
    assumptions = (f"{mhz / 1000:.2f} GHz (the clock the system reports), {isa}, {units} "
                   f"vector pipes per core for multiplies and adds, FMA {fma}")  # fmt: skip
    return Peak(ghz=mhz / 1000, doubles=doubles, units=units, fma="fma" in flags,
                assumptions=assumptions)  # fmt: skip


def share_of_peak(iterations: int, seconds: float, threads: int, peak: Peak) -> float:
    """The fraction of ``threads`` cores' peak (without FMA) that useful iterations used.

    Examples
    --------
    >>> p = Peak(ghz=1.0, doubles=4, units=2, fma=True, assumptions="")
    >>> share_of_peak(iterations=10**9, seconds=1.0, threads=1, peak=p)
    1.0
    """
    return iterations * MANDELBROT_FLOPS / (seconds * threads * peak.flops(fused=False))


def rates(runs, iterations: int, peak: Peak | None = None):
    """Each run's useful rate and its share of the cores' peak, added to a copy of ``runs``.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run of the same image, with ``threads`` and ``seconds`` (other
        columns are kept).
    iterations : int
        The image's escape counts summed: the iterations each run did.
    peak : Peak, optional
        One core's peak; :func:`core_peak` by default.

    Returns
    -------
    pandas.DataFrame
        ``runs`` with ``gflops`` (useful operations per second, in billions) and
        ``of_peak`` (the share of ``threads`` cores' peak without FMA).

    Examples
    --------
    >>> import pandas as pd
    >>> p = Peak(ghz=1.0, doubles=4, units=2, fma=True, assumptions="")
    >>> rates(pd.DataFrame({"threads": [1, 2], "seconds": [2.0, 0.5]}), 10**9, p)
       threads  seconds  gflops  of_peak
    0        1      2.0     4.0      0.5
    1        2      0.5    16.0      1.0
    """
    peak = peak or core_peak()
    out = runs.copy()
    out["gflops"] = iterations * MANDELBROT_FLOPS / out["seconds"] / 1e9
    out["of_peak"] = [
        share_of_peak(iterations, float(seconds), int(threads), peak)
        for threads, seconds in zip(out["threads"], out["seconds"], strict=True)
    ]
    return out
