"""Exceptions raised by :mod:`kernels` with messages a learner can act on."""

from typing import Any


def require_count(name: str, value: Any) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is an int >= 1 (not a bool).

    Examples
    --------
    >>> require_count("repeat", 3)
    >>> require_count("repeat", True)
    Traceback (most recent call last):
    ...
    ValueError: repeat must be an int >= 1, got True
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


class KernelsError(Exception):
    """Base class of the errors that :mod:`kernels` raises on purpose."""


class BackendUnavailableError(KernelsError, ValueError):
    """A backend exists but cannot run on this machine (a library or tool is missing)."""


class ProblemTooLargeError(KernelsError, ValueError):
    """The requested problem would not fit in this machine's memory."""


class WorkerDiedError(KernelsError, RuntimeError):
    """A worker process died (killed, crashed, or unable to load its task)."""


class UnpicklableTaskError(KernelsError, TypeError):
    """A task function cannot be sent to worker processes with ``pickle``."""


class RankFailedError(KernelsError, RuntimeError):
    """An MPI rank raised an error (or ``mpiexec`` failed); every rank has been stopped."""


class CommandTimeoutError(KernelsError, RuntimeError):
    """A command ran past its time limit; it and every process it started were stopped.

    ``output`` holds what it printed; ``reason`` is the watch's reason when a watch, not
    the time limit, stopped it.
    """

    output: str = ""
    reason: str | None = None
