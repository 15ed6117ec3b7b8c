"""Sub-communicators: a 2-D grid of ranks, and one communicator per row of it by Split."""

from mpi4py import MPI

comm = MPI.COMM_WORLD
cart = comm.Create_cart(MPI.Compute_dims(comm.size, 2), periods=[False, False])
row, col = cart.Get_coords(cart.rank)
up, down = cart.Shift(0, 1)  # MPI.PROC_NULL (a negative number) past the grid's edge

# Split: the ranks with the same colour form a new communicator, numbered by key.
row_comm = comm.Split(color=row, key=col)
in_row = row_comm.allreduce(comm.rank)  # a collective over this row's ranks only
print(
    f"at ({row}, {col}), up {up}, down {down}: rank {row_comm.rank} of {row_comm.size} "
    f"in row {row}, whose world ranks sum to {in_row}"
)
row_comm.Free()
cart.Free()
