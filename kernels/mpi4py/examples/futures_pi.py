"""mpi4py.futures: a pool of MPI worker ranks behind the concurrent.futures interface.

Run with `mpiexec -n 3 python -m mpi4py.futures futures_pi.py`: rank 0 runs this script,
the other ranks become the pool's workers.
"""

from mpi4py import MPI
from mpi4py.futures import MPIPoolExecutor

from kernels.problems import monte_carlo_pi

SAMPLES, SEED = 2_000_000, 2024


def count(chunks):
    return monte_carlo_pi.hits_numpy(chunks, SAMPLES, SEED), MPI.COMM_WORLD.Get_rank()


if __name__ == "__main__":
    n = monte_carlo_pi.n_chunks(SAMPLES)
    groups = [range(k, n, 8) for k in range(8)]
    with MPIPoolExecutor() as pool:
        results = list(pool.map(count, groups))
    print("tasks done by worker ranks:", sorted({rank for _, rank in results}))
    hits = sum(h for h, _ in results)
    print(
        "pi ~",
        monte_carlo_pi.estimate(hits, SAMPLES),
        "| reference",
        monte_carlo_pi.reference(SAMPLES, SEED),
    )
