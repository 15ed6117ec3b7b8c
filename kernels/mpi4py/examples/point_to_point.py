"""Two ways to send: pickled Python objects (send/recv) and raw buffers (Send/Recv)."""

import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()

# Lower case: any picklable object. Convenient; the object is pickled and unpickled.
if rank == 0:
    comm.send({"step": 1, "note": "a dict travels pickled"}, dest=1, tag=11)
elif rank == 1:
    message = comm.recv(source=0, tag=11)
    print("rank 1 received", message)

# Upper case: a buffer (a NumPy array) sent as bytes, no pickling. The receiver
# allocates the array first: it must know the shape and dtype.
if rank == 0:
    comm.Send(np.arange(5, dtype=np.float64), dest=1, tag=22)
elif rank == 1:
    data = np.empty(5, dtype=np.float64)
    comm.Recv(data, source=0, tag=22)
    print("rank 1 received", data)
