"""Every rank runs this whole file; only its rank number tells it apart."""

from mpi4py import MPI

comm = MPI.COMM_WORLD  # every process started by this mpiexec
rank = comm.Get_rank()  # 0, 1, ..., size - 1
size = comm.Get_size()
print(f"hello from rank {rank} of {size} on {MPI.Get_processor_name()}")

if rank == 0:
    print(f"rank 0 often does the extra jobs: reading input, printing results ({size} ranks)")
