"""Collective operations: every rank of the communicator takes part in the same call."""

import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()

# bcast: rank 0's object to everyone.
config = comm.bcast({"samples": 1000} if rank == 0 else None, root=0)

# scatter: one item of rank 0's list to each rank; gather: one item from each to rank 0.
mine = comm.scatter([f"task-{r}" for r in range(size)] if rank == 0 else None, root=0)
everyone = comm.gather(f"{mine} done by {rank}", root=0)

# reduce: combine one value from each rank (here a sum) on rank 0; allreduce: on all.
total = comm.reduce(rank + 1, op=MPI.SUM, root=0)
biggest = comm.allreduce(rank, op=MPI.MAX)
print(f"config={config} mine={mine} biggest={biggest}")
if rank == 0:
    print("gathered:", everyone)
    print("sum of rank + 1:", total)

# Scatterv: uneven pieces of one array. Rank r gets r + 1 numbers.
counts = [r + 1 for r in range(size)]
send = np.arange(sum(counts), dtype=np.float64) if rank == 0 else None
piece = np.empty(counts[rank])
comm.Scatterv((send, counts) if rank == 0 else None, piece, root=0)
print("Scatterv piece:", piece)

# Gatherv: the uneven pieces back, doubled, in rank order on rank 0.
back = np.empty(sum(counts)) if rank == 0 else None
comm.Gatherv(2 * piece, (back, counts) if rank == 0 else None, root=0)
if rank == 0:
    print("Gatherv result:", back)
