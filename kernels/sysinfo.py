"""What this machine offers: cores, CPU, libraries, MPI, a C compiler with OpenMP, a GPU."""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import psutil

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


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def cores() -> dict[str, int | None]:
    """Logical and physical cores, and the cores this process may run on."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "logical": psutil.cpu_count(logical=True),
        "physical": psutil.cpu_count(logical=False),
        "usable": usable,
    }


def machine_summary() -> str:
    """One line naming the CPU and core count, for figure captions."""
    c = cores()
    return f"{cpu_model()}, {c['usable']} usable cores ({c['physical']} physical)"


def library_versions() -> dict[str, str | None]:
    """Installed version of each library the book uses (``None`` when missing)."""
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
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
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
            build = subprocess.run(
                [cc, "-fopenmp", str(source), "-o", str(exe)],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{cc}: could not run ({exc})"
        if build.returncode != 0:
            return f"{cc} without OpenMP (-fopenmp failed): compiled code runs serially"
        ok = subprocess.run([str(exe)], capture_output=True, timeout=20, check=False)
        return f"{cc} with OpenMP" if ok.returncode == 0 else f"{cc}: OpenMP program failed"


def compiled_status() -> str:
    """How the Cython extensions were built: with OpenMP (and its version) or serial."""
    from .backends.cython_compiled import extensions_missing

    why = extensions_missing()
    if why is not None:
        return f"not built: {why}"
    from .compiled import openmp

    version = openmp.openmp_version()
    if version == 0:
        return "built without OpenMP: cython-parallel gives the right answers on one thread"
    return f"built with OpenMP {version} ({openmp.max_threads()} threads by default)"


def numba_status() -> str:
    """numba's version and the size of its thread pool (fixed when it is imported)."""
    if importlib.util.find_spec("numba") is None:
        return "not installed: `pip install numba` (or `make install`)"
    # numba_kernels first: it sets the pool size before numba is imported.
    from .numba_kernels import numba

    return f"numba {numba.__version__}, thread pool of {numba.config.NUMBA_NUM_THREADS}"


def jax_status() -> str:
    """JAX's version, platform and devices (starting JAX: call it after choosing devices)."""
    if importlib.util.find_spec("jax") is None:
        return "not installed: `pip install jax` (or `make install`)"
    import jax

    kinds = sorted({d.platform for d in jax.devices()})
    return f"jax {jax.__version__}, {len(jax.devices())} device(s): {', '.join(kinds)}"


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


def info() -> dict[str, object]:
    """Everything ``python -m kernels info`` prints, as a dict."""
    from . import api, sizes

    memory = psutil.virtual_memory()
    return {
        "cpu": cpu_model(),
        "cores": cores(),
        "memory_gib": round(memory.total / 2**30, 1),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "gil": gil_status(),
        "blas": blas_threads(),
        "libraries": library_versions(),
        "mpiexec": mpi_status(),
        "c_openmp": openmp_status(),
        "cython_extensions": compiled_status(),
        "numba": numba_status(),
        "jax": jax_status(),
        "graphviz": graphviz_status(),
        "gpu": gpu_status(),
        "sizes": sizes.size_name() + " (KERNELS_QUICK=1 selects quick sizes)",
        "backends": {p: api.backends(p) for p in api.problems()},
    }
