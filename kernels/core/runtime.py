"""What must be decided before numba or JAX starts, in one explicit call.

numba sizes its thread pool and JAX splits the CPU into devices once, when each first
starts, from the environment (``NUMBA_NUM_THREADS``, ``JAX_NUM_CPU_DEVICES``). A
notebook that uses them calls :func:`prepare` first, instead of relying on the order in
which modules happen to be imported.
"""

from __future__ import annotations

import os
import sys

from .machine import usable_cores

# numba's pool is at least this large, so that the tests and chapters can ask for 4
# threads on a 2-core machine (and see what oversubscription does).
MIN_THREAD_POOL = 4


def prepare(workers: int | None = None) -> dict[str, int | str]:
    """Size numba's thread pool and JAX's CPU devices for up to ``workers`` workers.

    Call it first, before anything uses numba or JAX. It sets ``NUMBA_NUM_THREADS`` and
    ``JAX_NUM_CPU_DEVICES`` (unless the reader has set them) without importing either
    library. A library that has already started keeps what it has; the returned dict
    says so.

    Parameters
    ----------
    workers : int, optional
        The largest worker count to be used. Default: the usable cores, at least
        :data:`MIN_THREAD_POOL`.

    Returns
    -------
    dict
        ``{"numba_threads": ..., "jax_cpu_devices": ...}``: the value set, or a sentence
        saying why it could not change.

    Examples
    --------
    >>> sorted(prepare(4))
    ['jax_cpu_devices', 'numba_threads']
    """
    want = max(workers or 0, usable_cores(), MIN_THREAD_POOL)
    done: dict[str, int | str] = {}
    if sys.modules.get("numba") is not None:
        done["numba_threads"] = "fixed: numba had already started"
    else:
        os.environ.setdefault("NUMBA_NUM_THREADS", str(want))
        done["numba_threads"] = int(os.environ["NUMBA_NUM_THREADS"])
    jax = sys.modules.get("jax")  # None also where an import of it was blocked
    if jax is not None:
        try:
            jax.config.update("jax_num_cpu_devices", max(want, jax.config.jax_num_cpu_devices))
            done["jax_cpu_devices"] = want
        except RuntimeError:  # JAX has run something: its device count is fixed
            done["jax_cpu_devices"] = "fixed: JAX had already started"
    else:
        os.environ.setdefault("JAX_NUM_CPU_DEVICES", str(want))
        done["jax_cpu_devices"] = int(os.environ["JAX_NUM_CPU_DEVICES"])
    return done
