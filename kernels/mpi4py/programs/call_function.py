"""Run a function sent with ``dill`` on every rank; gather the return values to rank 0."""

from __future__ import annotations

from mpi4py import MPI


class RecordingComm:
    """A communicator that notes the name of every method called on it, then calls it.

    The exercise checkers hand this to a learner's function, so that they see which
    communication it really did (a ``Gatherv``, an ``allreduce``), not which words its
    source contains. ``calls`` has the names in order; ``posted`` the requests that the
    calls returned (``Isend``, ``Irecv``), for a checker to see which are still pending.
    """

    def __init__(self, comm: MPI.Comm) -> None:
        self._comm = comm
        self.calls: list[str] = []
        self.posted: list[MPI.Request] = []

    def __getattr__(self, name: str):
        value = getattr(self._comm, name)
        if not callable(value):
            return value

        def recorded(*args, **kwargs):
            self.calls.append(name)
            result = value(*args, **kwargs)
            if isinstance(result, MPI.Request):
                self.posted.append(result)
            return result

        return recorded


def solve(comm: MPI.Comm, function: bytes, args: bytes, record: bool = False) -> list | None:
    import dill

    func = dill.loads(function)
    if not record:
        return comm.gather(func(comm, *dill.loads(args)), root=0)
    recording = RecordingComm(comm)
    value = func(recording, *dill.loads(args))
    return comm.gather((value, recording.calls), root=0)
