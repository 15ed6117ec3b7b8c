"""One process, as many threads as the job's cores: numba's and OpenMP's (Cython's)."""

import os
import time

import kernels
from kernels.core import machine

workers = machine.usable_cores()  # the allocation: SLURM_CPUS_PER_TASK and the affinity mask
cores = sorted(os.sched_getaffinity(0))
print(f"SLURM_CPUS_PER_TASK={os.environ.get('SLURM_CPUS_PER_TASK')}, "
      f"cores {cores} of {os.cpu_count()}: {workers} workers")  # fmt: skip
params = {"width": 600, "height": 400, "max_iter": 200}
want = kernels.reference("mandelbrot", **params)
for backend in ("numba-parallel", "cython-parallel"):
    kernels.run("mandelbrot", backend, workers=workers, **params)  # compile, warm up
    start = time.perf_counter()
    counts = kernels.run("mandelbrot", backend, workers=workers, **params)
    seconds = time.perf_counter() - start
    print(f"{backend} on {workers} threads: {seconds:.3f} s, "
          f"equal to the reference: {(counts == want).all()}")  # fmt: skip
