"""Checkers for the exercises: call ``check_...(answer)`` in a notebook.

Each checker returns a :class:`CheckResult`, shown as a clear pass or fail with a hint.
It is truthy when the answer passes, so ``assert check_...(answer)`` works too. The
checkers test the answer on cases of their own and never print the solution. One module
per chapter; all checkers are importable from here.
"""

from ._core import CheckResult
from .asynchronous import check_race_fixed, check_semaphore, check_timeout
from .choosing import check_break_even, check_karp_flatt, check_own_backend
from .cython import check_count_hits, check_escape_row, check_heat_step
from .dask import check_fare_by_zone, check_halo_step, check_sum_of_squares_graph
from .foundations import check_amdahl, check_balanced_rows, check_gustafson, check_timer
from .jax import check_jax_escape_grid, check_jax_heat_step, check_jax_pi
from .mpi import check_allreduce_pi, check_gatherv, check_swap
from .multiprocess import check_closure_map, check_needs_dill, check_seed_sweep
from .numba import check_escape_ufunc, check_histogram, check_race_free_hits
from .processes import check_chunksize, check_parallel_loop, check_spawn_fix

__all__ = [
    "CheckResult",
    "check_allreduce_pi",
    "check_amdahl",
    "check_balanced_rows",
    "check_break_even",
    "check_chunksize",
    "check_closure_map",
    "check_count_hits",
    "check_escape_row",
    "check_escape_ufunc",
    "check_fare_by_zone",
    "check_gatherv",
    "check_gustafson",
    "check_halo_step",
    "check_heat_step",
    "check_histogram",
    "check_jax_escape_grid",
    "check_jax_heat_step",
    "check_jax_pi",
    "check_karp_flatt",
    "check_needs_dill",
    "check_own_backend",
    "check_parallel_loop",
    "check_race_fixed",
    "check_race_free_hits",
    "check_seed_sweep",
    "check_semaphore",
    "check_spawn_fix",
    "check_sum_of_squares_graph",
    "check_swap",
    "check_timeout",
    "check_timer",
]
