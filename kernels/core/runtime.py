"""What must be decided before numba or JAX starts, in one explicit call.

numba sizes its thread pool and JAX splits the CPU into devices once, when each first
starts, from the environment (``NUMBA_NUM_THREADS``, ``JAX_NUM_CPU_DEVICES``); XLA reads
its options (``XLA_FLAGS``) when JAX first compiles. A notebook that uses them calls
:func:`prepare` first, instead of relying on the order in which modules happen to be
imported.
"""

from __future__ import annotations

import os
import sys

from .machine import usable_cores

# numba's pool is at least this large, so that the tests and chapters can ask for 4
# threads on a 2-core machine (and see what oversubscription does).
MIN_THREAD_POOL = 4
# What prepare reports for a setting that JAX, once started, no longer reads.
JAX_STARTED = "fixed: JAX had already started"

# XLA runs a CPU while_loop turn by turn, each turn a few calls from its runtime (the
# condition, then the body), unless the loop reads and writes at most this many bytes:
# then it compiles the whole loop into one function. Its default, 1 kB, leaves out the
# loop of one tile of the JAX Mandelbrot (kernels.jax.compute.tile_counts: 64 points, a
# few kB with their coordinates); at 64 kB each tile's loop runs as one call, and whole
# images' loops still turn by turn. At 1200x1000x500 on an AMD EPYC (Zen 5), one
# device: 0.060 s with it, 0.119 s without (8x8 tiles); 4 kB was not enough.
XLA_SMALL_LOOP_BYTES = 64 * 1024
XLA_SMALL_LOOP_OPTION = "xla_cpu_small_while_loop_byte_threshold"


def request_xla_options() -> str:
    """Add the book's XLA option (:data:`XLA_SMALL_LOOP_BYTES`) to ``XLA_FLAGS``.

    XLA reads ``XLA_FLAGS`` once, when JAX first compiles a program, so this must run
    before that; later it changes nothing (the programs stay exact, only slower). A
    reader's own ``--xla_backend_extra_options`` is kept as it is, not added to.

    Returns
    -------
    str
        ``XLA_FLAGS`` as it now is.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_extra_options" not in flags:
        option = f"--xla_backend_extra_options={XLA_SMALL_LOOP_OPTION}={XLA_SMALL_LOOP_BYTES}"
        os.environ["XLA_FLAGS"] = f"{flags} {option}".strip()
    return os.environ["XLA_FLAGS"]


def prepare(workers: int | None = None) -> dict[str, int | str]:
    """Size numba's thread pool and JAX's CPU devices for up to ``workers`` workers.

    Call it first, before anything uses numba or JAX. It sets ``NUMBA_NUM_THREADS`` and
    ``JAX_NUM_CPU_DEVICES`` (unless the reader has set them), and XLA's option for small
    loops (:func:`request_xla_options`), without importing either library. A library
    that has already started keeps what it has; the returned dict says so.

    Parameters
    ----------
    workers : int, optional
        The largest worker count to be used. Default: the usable cores, at least
        :data:`MIN_THREAD_POOL`.

    Returns
    -------
    dict
        ``{"numba_threads": ..., "jax_cpu_devices": ..., "xla_flags": ...}``: the value
        set, or a sentence saying why it could not change.

    Examples
    --------
    >>> sorted(prepare(4))
    ['jax_cpu_devices', 'numba_threads', 'xla_flags']
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
            done["jax_cpu_devices"] = JAX_STARTED
    else:
        os.environ.setdefault("JAX_NUM_CPU_DEVICES", str(want))
        done["jax_cpu_devices"] = int(os.environ["JAX_NUM_CPU_DEVICES"])
    # XLA has read its options once JAX has run something.
    started = done["jax_cpu_devices"] == JAX_STARTED
    done["xla_flags"] = JAX_STARTED if started else request_xla_options()
    return done
