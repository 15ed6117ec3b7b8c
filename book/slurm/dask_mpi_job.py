"""A dask cluster inside one MPI job (dask-mpi): no scheduler to start by hand.

Every rank runs this file. ``initialize`` turns rank 0 into the scheduler and ranks 2 and
up into workers; only rank 1 goes on past it, as the client, and when it is done the
whole job ends.
"""

from dask_mpi import initialize
from distributed import Client
from mpi4py import MPI

import kernels

initialize(nthreads=1, dashboard=False)

with Client() as client:  # connects to the scheduler that initialize started
    workers = MPI.COMM_WORLD.size - 2
    client.wait_for_workers(workers, timeout=60)
    print(f"client on rank {MPI.COMM_WORLD.rank}, {workers} workers connected")
    params = {"width": 600, "height": 400, "max_iter": 200}
    address = client.scheduler.address
    counts = kernels.run("mandelbrot", "dask-distributed", workers=workers, address=address,
                         **params)  # fmt: skip
    print(f"mandelbrot on the MPI ranks, equal to the reference: "
          f"{(counts == kernels.reference('mandelbrot', **params)).all()}")  # fmt: skip
