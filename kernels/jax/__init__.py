"""Chapter 10, JAX: XLA-compiled array programs on devices.

``backend.py`` (the ``jax`` and ``jax-sharded`` backends), ``compute.py`` (the jitted
kernels), ``devices.py`` (device counts and the worker process), ``worker.py`` and
``checks.py``.
"""

from ..core.runtime import request_xla_options

# Before any module here imports JAX: XLA reads its options when JAX first compiles.
request_xla_options()
