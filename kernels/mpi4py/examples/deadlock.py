"""Two ranks swap arrays. `python -m mpi4py deadlock.py broken N` can hang forever.

Each rank first sends, then receives. A blocking Send returns once its buffer may be
reused: a small message is copied into MPI's buffers at once ("eager"), but a large one
waits until the receiver has posted a matching Recv. Both ranks are in Send, neither
reaches its Recv: a deadlock. `fixed` uses Sendrecv, which does both at once.
"""

import sys

import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
mode, n = sys.argv[1], int(sys.argv[2])
partner = 1 - rank
mine = np.full(n, float(rank))
theirs = np.empty(n)

if mode == "broken":
    comm.Send(mine, dest=partner)  # large n: waits for the partner's Recv...
    comm.Recv(theirs, source=partner)  # ...which it never reaches: it is in Send too
else:
    comm.Sendrecv(mine, dest=partner, recvbuf=theirs, source=partner)
print(f"rank {rank} got {n:,} numbers from rank {partner} ({mode})")
