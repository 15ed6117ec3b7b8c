"""SPMD programs that ``mpiexec`` starts, one module per program.

Each problem module defines ``solve(comm, **params)``: every rank calls it, and rank 0
returns the result. :func:`kernels.mpi_launch.launch` runs a module under ``mpiexec``
through :mod:`._program`, which reads the parameters, times the computation inside the
ranks, writes rank 0's result, and turns an exception on any rank into a fast abort of
all ranks with that rank's message.
"""
