"""Everything ``python -m kernels info`` prints: the machine, the libraries, the backends.

It asks the tools about themselves (how the Cython extensions were built, numba's thread
pool, JAX's devices), so it is a front end: it may import any tool, and does so only
when the tool's library is installed.
"""

from __future__ import annotations

import importlib.util
import platform

import psutil

from ..core import api, machine, sizes
from ..core.registry import install_hint


def numba_status() -> str:
    """numba's version and the size of its thread pool (fixed when it is imported)."""
    if importlib.util.find_spec("numba") is None:
        return f"not installed: {install_hint('compiled')}"
    import numba

    return f"numba {numba.__version__}, thread pool of {numba.config.NUMBA_NUM_THREADS}"


def jax_status() -> str:
    """JAX's version, platform and devices (this starts JAX: call :func:`kernels.prepare` first)."""
    if importlib.util.find_spec("jax") is None:
        return f"not installed: {install_hint('jax')}"
    import jax

    kinds = sorted({d.platform for d in jax.devices()})
    return f"jax {jax.__version__}, {len(jax.devices())} device(s): {', '.join(kinds)}"


def cython_status() -> str:
    """How the Cython extensions were built (with OpenMP, serial, or not at all)."""
    from ..cython.backend import extensions_status

    return extensions_status()


def missing_backends() -> dict[str, str]:
    """Each backend name that cannot run here, with why and the ``pip install`` that fixes it."""
    missing = {}
    for problem in api.problems():
        for name, why in api.unavailable(problem).items():
            missing.setdefault(name, why)
    return missing


def info() -> dict[str, object]:
    """Everything ``python -m kernels info`` prints, as a dict."""
    memory = psutil.virtual_memory()
    return {
        "cpu": machine.cpu_model(),
        "cores": machine.cores(),
        "memory_gib": round(memory.total / 2**30, 1),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "gil": machine.gil_status(),
        "blas": machine.blas_threads(),
        "libraries": machine.library_versions(),
        "mpiexec": machine.mpi_status(),
        "c_openmp": machine.openmp_status(),
        "cython_extensions": cython_status(),
        "numba": numba_status(),
        "jax": jax_status(),
        "graphviz": machine.graphviz_status(),
        "gpu": machine.gpu_status(),
        "sizes": sizes.size_name() + " (KERNELS_QUICK=1 selects quick sizes)",
        "backends": {p: api.backends(p) for p in api.problems()},
        "missing": missing_backends(),
    }
