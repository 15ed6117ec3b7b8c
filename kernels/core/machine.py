"""What this machine offers: cores, CPU, libraries, MPI, a C compiler with OpenMP, a GPU.

:func:`usable_cores` is the one definition of how many cores this process may use (the
affinity mask, any cgroup CPU quota and a SLURM job's CPUs, as a container or a job
allocation set them); sizes, the command line and the notebooks all take it from here.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

import psutil

from .buildflags import OPENMP
from .errors import CommandTimeoutError
from .subprocesses import run_command

LIBRARIES = (
    "numpy", "pandas", "matplotlib", "ipywidgets", "threadpoolctl", "psutil", "tqdm",
    "multiprocess", "dask", "distributed", "mpi4py", "mpich", "cython", "numba", "jax",
    "jupyter-book",
)  # fmt: skip

OPENMP_TEST = """#include <omp.h>
int main(void) {
    int n = 0;
#pragma omp parallel reduction(+ : n)
    n += 1;
    return n > 0 ? 0 : 1;
}
"""


def cpuinfo() -> dict[str, str]:
    """``/proc/cpuinfo``'s first processor as ``{field: value}`` (empty where there is none)."""
    fields: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip().lower(), value.strip())
    return fields


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    info = cpuinfo()
    for field in ("model name", "hardware", "cpu model"):
        if info.get(field):
            return info[field]
    return platform.processor() or platform.machine() or "unknown CPU"


def cgroup_cpu_limit(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU quota of this process's cgroup in cores (``2.5``), or ``None`` if unlimited.

    Reads cgroup v2's ``cpu.max`` (``"250000 100000"``) or v1's ``cpu.cfs_quota_us`` and
    ``cpu.cfs_period_us``, as a container runtime or a batch system writes them.
    """
    with contextlib.suppress(OSError, ValueError):
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    with contextlib.suppress(OSError, ValueError):
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    return None


def slurm_cpus(environ: dict[str, str] | None = None) -> int | None:
    """The CPUs a SLURM job gave this task, or ``None`` outside a job.

    ``SLURM_CPUS_PER_TASK`` (set by ``--cpus-per-task``), else ``SLURM_CPUS_ON_NODE``
    (what the job holds on this node). Read only inside a job (``SLURM_JOB_ID`` set):
    a variable left in a login shell's environment says nothing.

    Examples
    --------
    >>> slurm_cpus({"SLURM_JOB_ID": "7", "SLURM_CPUS_PER_TASK": "4"})
    4
    >>> slurm_cpus({"SLURM_CPUS_PER_TASK": "4"}) is None
    True
    """
    environ = os.environ if environ is None else environ
    if not environ.get("SLURM_JOB_ID"):
        return None
    for name in ("SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE"):
        value = environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def usable_cores() -> int:
    """The cores this process may use: its affinity mask, capped by a cgroup CPU quota
    and, inside a SLURM job, by the CPUs the job gave its task (:func:`slurm_cpus`).

    ``os.cpu_count()`` counts the machine's cores, which a container, ``taskset`` or a
    job allocation may not give to this process. The book's default worker counts
    (``python -m kernels bench``, the thread pools) come from here.

    Examples
    --------
    >>> 1 <= usable_cores() <= (os.cpu_count() or 1)
    True
    """
    if hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    if limit is not None:
        count = min(count, max(1, math.ceil(limit)))
    allocated = slurm_cpus()
    if allocated is not None:
        count = min(count, allocated)
    return max(1, count)


def cores() -> dict[str, int | None]:
    """Logical and physical cores, and the cores this process may use (:func:`usable_cores`)."""
    return {
        "logical": psutil.cpu_count(logical=True),
        "physical": psutil.cpu_count(logical=False),
        "usable": usable_cores(),
    }


def machine_summary() -> str:
    """One line naming the CPU and core count, for figure captions."""
    c = cores()
    return f"{cpu_model()}, {c['usable']} usable cores ({c['physical']} physical)"


def library_versions() -> dict[str, str | None]:
    """Installed version of each library the book uses (``None`` when missing)."""
    import importlib.metadata  # only here: it costs a tenth of import kernels

    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def find_command(name: str) -> str | None:
    """The command ``name`` of this environment (next to Python first), else one on ``PATH``."""
    beside = Path(sysconfig.get_path("scripts")) / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def find_mpiexec() -> str | None:
    """The ``mpiexec`` of this environment, else one on ``PATH``."""
    return find_command("mpiexec")


def _first_line(cmd: list[str], prefer: str = "") -> str:
    try:
        out = run_command(cmd, timeout=20)
    except (OSError, CommandTimeoutError) as exc:
        return f"could not run: {exc}"
    lines = [ln.strip() for ln in (out.stdout or out.stderr).strip().splitlines() if ln.strip()]
    preferred = [ln for ln in lines if prefer and ln.startswith(prefer)]
    return (preferred or lines or [f"exit code {out.returncode}"])[0]


def mpi_status() -> str:
    """``mpiexec`` path and version, or how to install it."""
    mpiexec = find_mpiexec()
    if mpiexec is None:
        return "not found: `pip install mpich mpi4py` (or `make install`) provides mpiexec"
    return f"{mpiexec} ({_first_line([mpiexec, '--version'], prefer='Version:')})"


def c_compiler() -> str | None:
    """The C compiler: ``$CC``, else ``cc`` or ``gcc`` on PATH, else ``None``."""
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


def openmp_status() -> str:
    """Whether the C compiler builds and runs an OpenMP program (compiled here, now)."""
    cc = c_compiler()
    if cc is None:
        return "no C compiler found (install gcc)"
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "omp.c")
        source.write_text(OPENMP_TEST)
        exe = Path(tmp, "omp")
        try:
            build = run_command([cc, OPENMP, str(source), "-o", str(exe)], timeout=60)
            if build.returncode != 0:
                return f"{cc} without OpenMP (-fopenmp failed): compiled code runs serially"
            ok = run_command([str(exe)], timeout=20)
        except (OSError, CommandTimeoutError) as exc:
            return f"{cc}: could not run ({exc})"
        return f"{cc} with OpenMP" if ok.returncode == 0 else f"{cc}: OpenMP program failed"


def gpu_status() -> str:
    """A GPU visible through ``nvidia-smi``, or ``none found``."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return "none found (no nvidia-smi)"
    return _first_line([smi, "-L"])


def blas_threads() -> str:
    """The BLAS/OpenMP thread pools loaded in this process (threadpoolctl)."""
    from threadpoolctl import threadpool_info

    pools = threadpool_info()
    if not pools:
        return "none loaded"
    return "; ".join(f"{p['internal_api']} {p['num_threads']} threads" for p in pools)


def gil_status() -> str:
    """Whether this interpreter has the GIL enabled (free-threaded builds may not)."""
    check = getattr(sys, "_is_gil_enabled", None)
    if check is None:
        return "enabled (this Python has no free-threaded build)"
    return "enabled" if check() else "disabled (free-threaded)"


def graphviz_status() -> str:
    """Whether Graphviz's ``dot`` (which draws dask's task graphs) is installed, and which."""
    dot = shutil.which("dot")
    if dot is None:
        return "not installed: task graphs are listed as text (apt/brew/conda install graphviz)"
    return _first_line([dot, "-V"]) or dot
