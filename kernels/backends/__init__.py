"""The backends. Importing this package registers them, in teaching order."""

# isort: skip_file
from . import python_loops
from . import numpy_vectorised
from . import threads
from . import multiprocessing_pool
from . import multiprocess_pool
from . import dask_local
from . import dask_distributed
from . import mpi
from . import cython_compiled
from . import numba_jit
from . import jax_backends

__all__ = [
    "cython_compiled",
    "dask_distributed",
    "dask_local",
    "jax_backends",
    "mpi",
    "multiprocess_pool",
    "multiprocessing_pool",
    "numba_jit",
    "numpy_vectorised",
    "python_loops",
    "threads",
]
