"""``python -m kernels.jax.worker SPEC OUT``: run ``jax-sharded`` on N CPU devices.

``SPEC`` is JSON ``{"problem", "workers", "params"}``. The process holds itself to
``workers`` cores (one per device: :mod:`kernels.jax.pinned` says why), asks JAX for
``workers`` CPU devices before JAX starts, runs the sharded kernel, and saves the result
to ``OUT`` with ``numpy.save``. Started by :func:`kernels.jax.devices.run_in_worker`.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from .pinned import start_jax_on_cores


def main(argv: list[str]) -> int:
    """Run the spec in ``argv[0]`` and save the result to ``argv[1]``."""
    spec = json.loads(argv[0])
    start_jax_on_cores(spec["workers"])
    from .backend import run_sharded

    result = run_sharded(spec["problem"], spec["workers"], spec["params"])
    np.save(argv[1], np.asarray(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
