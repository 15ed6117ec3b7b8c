"""A notebook kernel that exits when asked, after process pools ran in it.

A pool started with ``spawn`` or ``forkserver`` leaves helper processes for the rest of
the interpreter's life: the *resource tracker* (which removes the named semaphores and
shared memory a crashed program leaves behind; ``multiprocessing``, ``multiprocess`` and
joblib's loky have one each) and, for ``forkserver``, the *fork server*. Asked to shut
down, ipykernel (7.4) sends its child processes SIGTERM and waits for them to go, in
rounds of 0.01 to 3 s. A resource tracker ignores SIGTERM by design, and a fork server
that exits stays a zombie that no one waits for; so the kernel is still waiting when
Jupyter, after half of its 5 s shutdown wait, stops it with SIGTERM. Its exit handlers
never run, and what they would remove stays (``multiprocessing``'s folder in ``/tmp``).
Measured: a kernel that ran one ``spawn`` pool took 2.6 s to shut down and ended with
code -15; one that ran none, 0.1 s and code 0.

:func:`stop_helpers_at_shutdown` (called by ``import kernels``) has the kernel, when asked
to shut down, first do what its exit would do, then stop those helpers the way their own
code does when it is done with them (:func:`stop_helpers`). Outside a Jupyter kernel it
does nothing.
"""

from __future__ import annotations

import contextlib
import sys

# The standard library and its copy, multiprocess: each has a fork server and an exit
# function. The resource trackers' modules: theirs and joblib's loky's.
LIBRARIES = ("multiprocessing", "multiprocess")
TRACKERS = ("multiprocessing.resource_tracker", "multiprocess.resource_tracker",
            "joblib.externals.loky.backend.resource_tracker")  # fmt: skip


def stop_helpers() -> None:
    """Stop the fork servers, do the libraries' exit work, then stop the resource trackers.

    In that order: a fork server's socket is in the folder that the exit work removes,
    and the exit work (pools stopped, the finalizers of semaphores still referenced run)
    leaves the trackers nothing to clean up; stopped with semaphores still registered, a
    tracker removes them, warns, and their finalizers fail at exit. Only libraries
    already imported are looked at. The exit functions run once (the interpreter's exit
    then finds them done); ``_stop`` is what the libraries' own tests use to stop a
    helper. Neither has a public name.
    """
    from .pools import stop_forkserver

    for library in LIBRARIES:
        if f"{library}.forkserver" in sys.modules:
            stop_forkserver(library)
    for library in LIBRARIES:
        util = sys.modules.get(f"{library}.util")
        if util is not None:
            util._exit_function()
    for name in TRACKERS:
        module = sys.modules.get(name)
        stop = getattr(getattr(module, "_resource_tracker", None), "_stop", None)
        if stop is not None:
            with contextlib.suppress(OSError, ChildProcessError):
                stop()


def stop_helpers_at_shutdown() -> bool:
    """In a Jupyter kernel, run :func:`stop_helpers` when the kernel is asked to shut down.

    Wraps this kernel's ``do_shutdown`` (the method ipykernel has subclasses override
    for their own shutdown), once. Returns whether this process is such a kernel.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    kernel = getattr(shell, "kernel", None)
    if kernel is None or not hasattr(kernel, "do_shutdown"):
        return False
    original = kernel.do_shutdown
    if getattr(original, "stops_helpers", False):
        return True

    def do_shutdown(restart):
        stop_helpers()
        return original(restart)

    do_shutdown.stops_helpers = True
    kernel.do_shutdown = do_shutdown
    return True
