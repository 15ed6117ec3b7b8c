"""The heat stencil on a 2-D grid of ranks: a Cartesian communicator, blocks of rows and columns.

``MPI.Compute_dims`` picks a grid of ranks as square as the count allows (4 ranks: 2 x 2);
``Create_cart`` numbers the ranks on it, and ``Shift`` names each rank's neighbours up,
down, left and right (``MPI.PROC_NULL`` at the grid's edges). Each rank owns a block of
the interior with one halo row and column on each side. Rows are contiguous in memory
and travel as they are; a column is strided, so it is copied into a contiguous buffer
to send and copied out of one on arrival. The update is the specification's, so the
field equals the serial reference bit for bit, for any grid of ranks.
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from ...problems import heat


def exchange_halos(cart: MPI.Cartcomm, u: np.ndarray) -> None:
    """Fill the halo rows and columns of ``u`` from the four neighbours."""
    up, down = cart.Shift(0, 1)
    left, right = cart.Shift(1, 1)
    cart.Sendrecv(u[1], dest=up, recvbuf=u[-1], source=down)  # my top row goes up
    cart.Sendrecv(u[-2], dest=down, recvbuf=u[0], source=up)
    for send_col, recv_col, dest, source in ((1, -1, left, right), (-2, 0, right, left)):
        incoming = np.empty(u.shape[0])
        cart.Sendrecv(np.ascontiguousarray(u[:, send_col]), dest=dest, recvbuf=incoming,
                      source=source)  # fmt: skip
        if source != MPI.PROC_NULL:
            u[:, recv_col] = incoming


def solve(comm: MPI.Comm, n: int, steps: int) -> np.ndarray | None:
    dims = MPI.Compute_dims(comm.size, 2)
    if max(dims) > n - 2:
        raise ValueError(f"a {dims[0]} x {dims[1]} grid of ranks needs n >= {max(dims) + 2}, "
                         f"got n={n}: every rank must own at least one row and column")  # fmt: skip
    cart = comm.Create_cart(dims, periods=[False, False], reorder=False)
    row, col = cart.Get_coords(cart.rank)
    (r0, r1), (c0, c1) = heat.row_blocks(n, dims[0])[row], heat.row_blocks(n, dims[1])[col]
    u = heat.initial(n)[r0 - 1 : r1 + 1, c0 - 1 : c1 + 1].copy()  # with a halo all round
    new = u.copy()
    for _ in range(steps):
        exchange_halos(cart, u)
        heat.step_rows(u, new, 1, u.shape[0] - 1)
        u, new = new, u
    pieces = cart.gather(((r0, r1, c0, c1), u[1:-1, 1:-1]), root=0)
    if cart.rank != 0:
        return None
    field = heat.initial(n)
    for (a, b, c, d), block in pieces:
        field[a:b, c:d] = block
    return {"field": field, "dims": dims}
