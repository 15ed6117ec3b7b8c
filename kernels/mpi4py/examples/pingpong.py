"""Ping-pong between ranks 0 and 1: pickled objects against raw buffers, by size."""

import numpy as np
from mpi4py import MPI


def pingpong(comm: MPI.Comm, sizes_bytes: list[int], repeat: int = 20) -> list[dict] | None:
    """Round-trip time of ``send``/``recv`` and ``Send``/``Recv`` for each message size.

    Call it on every rank (``run_function(pingpong, 2, sizes)``); rank 0 returns rows
    ``{"bytes", "method", "seconds"}`` (best of ``repeat`` round trips), others ``None``.
    """
    rank = comm.Get_rank()
    rows = []
    for size in sizes_bytes:
        data = np.ones(max(size // 8, 1))
        back = np.empty_like(data)
        for method in ("send/recv (pickled)", "Send/Recv (buffer)"):
            best = float("inf")
            for attempt in range(repeat + 1):  # the first round trip warms up, uncounted
                comm.Barrier()
                start = MPI.Wtime()
                if method.startswith("send"):
                    if rank == 0:
                        comm.send(data, dest=1)
                        back = comm.recv(source=1)
                    elif rank == 1:
                        comm.send(comm.recv(source=0), dest=0)
                else:
                    if rank == 0:
                        comm.Send(data, dest=1)
                        comm.Recv(back, source=1)
                    elif rank == 1:
                        comm.Recv(back, source=0)
                        comm.Send(back, dest=0)
                if attempt:
                    best = min(best, MPI.Wtime() - start)
            rows.append({"bytes": data.nbytes, "method": method, "seconds": best})
    return rows if rank == 0 else None


if __name__ == "__main__":  # python -m mpi4py pingpong.py BYTES...: one line per size
    import sys

    found = pingpong(MPI.COMM_WORLD, [int(b) for b in sys.argv[1:]], repeat=10)
    for row in found or []:
        if row["method"].startswith("Send"):
            print(f"{row['bytes']} {row['seconds']:.9f}")
