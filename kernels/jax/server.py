"""``python -m kernels.jax.server ADDRESS AUTHKEY DEVICES``: a warm ``jax-sharded`` worker.

The process holds itself to ``DEVICES`` cores (one per CPU device, as
:mod:`kernels.jax.pinned` explains), starts JAX with that many CPU devices, connects back
to the process that started it, and runs each request ``{"problem", "params"}`` with
:func:`kernels.jax.backend.run_sharded` until told to stop. After each request, every
thread but the main one is held to one of the cores
(:func:`~kernels.jax.pinned.spread_threads`). Started by
:func:`kernels.jax.warm.warm_devices`; compiled programs stay cached between requests.
"""

from __future__ import annotations

import sys

import numpy as np

from ..core.servers import connect_back, serve_requests
from .pinned import spread_threads, start_jax_on_cores


def main(argv: list[str]) -> int:
    """Pin, start JAX with the devices, connect back, and answer until told to stop."""
    address, authkey, count = argv[0], argv[1], int(argv[2])
    pinned = start_jax_on_cores(count)
    from .backend import run_sharded

    held: set[int] = set()

    def answer(request: dict) -> np.ndarray:
        result = np.asarray(run_sharded(request["problem"], count, request["params"]))
        if pinned and count > 1:
            spread_threads(held)  # those XLA started for this request too
        return result

    serve_requests(connect_back(address, authkey), answer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
