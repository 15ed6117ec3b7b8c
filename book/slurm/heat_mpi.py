"""The heat problem on MPI ranks, as a batch job runs it (``srun`` starts one copy per task).

Usage: ``python heat_mpi.py N STEPS`` under ``srun`` or ``mpiexec``.
"""

import os
import sys

from mpi4py import MPI

import kernels
from kernels.mpi4py.programs import heat as heat_mpi

comm = MPI.COMM_WORLD
n, steps = int(sys.argv[1]), int(sys.argv[2])
where = f"rank {comm.rank} of {comm.size} on {MPI.Get_processor_name()}, "
where += f"cores {sorted(os.sched_getaffinity(0))}"
for line in comm.gather(where) or []:  # rank 0 prints every rank's line, in order
    print(line)
comm.Barrier()
start = MPI.Wtime()
field = heat_mpi.solve(comm, n, steps)
seconds = comm.reduce(MPI.Wtime() - start, op=MPI.MAX)
if comm.rank == 0:
    exact = (field == kernels.reference("heat", n=n, steps=steps)).all()
    print(f"heat {n}x{n}, {steps} steps, {comm.size} ranks: {seconds:.3f} s")
    print(f"equal to the reference: {exact}")
