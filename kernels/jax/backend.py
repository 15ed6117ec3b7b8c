"""``jax`` and ``jax-sharded``: the problems as XLA-compiled array programs.

``jax`` runs :mod:`kernels.jax.compute` on one device (the CPU here, a GPU where JAX
has one). ``jax-sharded`` splits the work over ``workers`` devices with a
:class:`jax.sharding.Mesh` and :func:`jax.shard_map`; where this process has fewer
devices than ``workers`` (JAX fixes the count when it starts), it runs in a worker
process started with that many CPU devices and held to as many cores
(:mod:`kernels.jax.devices`), or inside :func:`kernels.jax.warm.warm_devices` in one
kept running. Both run in float64 (``jax.enable_x64``), scoped to the call.
"""

from __future__ import annotations

import numpy as np

from ..problems import heat, mandelbrot, monte_carlo_pi
from .devices import devices, run_in_worker


def run_single(problem: str, params: dict):
    """One device: the jitted functions of :mod:`kernels.jax.compute`, in float64."""
    import jax

    from . import compute as jax_kernels

    with jax.enable_x64(True):
        if problem == "mandelbrot":
            re, im = mandelbrot.coordinates(params["width"], params["height"])
            return np.asarray(jax_kernels.mandelbrot_counts(re, im, params["max_iter"]))
        if problem == "heat":
            u = heat.initial(params["n"])
            return np.asarray(jax_kernels.heat_run(u, params["steps"]))
        chunks, sizes = jax_kernels.chunk_table(params["samples"], 1)
        hits = int(jax_kernels.monte_carlo_hits(params["seed"], chunks, sizes))
        return monte_carlo_pi.estimate(hits, params["samples"])


def run_sharded(problem: str, workers: int, params: dict):
    """``workers`` devices of this process (it must have them), in float64."""
    import jax
    from jax.sharding import AxisType

    from . import compute as jax_kernels

    mesh = jax.make_mesh((workers,), (jax_kernels.AXIS,), axis_types=(AxisType.Auto,),
                         devices=devices(workers))  # fmt: skip
    with jax.enable_x64(True):
        if problem == "mandelbrot":
            re, im = mandelbrot.coordinates(params["width"], params["height"])
            return jax_kernels.mandelbrot_sharded(re, im, params["max_iter"], mesh)
        if problem == "heat":
            return jax_kernels.heat_sharded(params["n"], params["steps"], mesh)
        hits = jax_kernels.monte_carlo_hits_sharded(params["samples"], params["seed"], mesh)
        return monte_carlo_pi.estimate(hits, params["samples"])


def _sharded(problem: str, workers: int, params: dict):
    from .warm import run_warm

    warm = run_warm(problem, workers, params)
    if warm is not None:
        return warm
    if devices(workers) is None:
        return run_in_worker(problem, workers, params)
    return run_sharded(problem, workers, params)


def mandelbrot_jax(workers: int, width: int, height: int, max_iter: int) -> np.ndarray:
    """Tiles of 8x8 points, each in its own ``lax.while_loop``, in a ``lax.fori_loop``
    (on a GPU, the whole grid in one ``while_loop``)."""
    return run_single("mandelbrot", {"width": width, "height": height, "max_iter": max_iter})


def mandelbrot_jax_sharded(workers: int, width: int, height: int, max_iter: int) -> np.ndarray:
    """Rows dealt round-robin to the devices; each device runs its rows tile by tile
    (a GPU, all of its rows at once)."""
    params = {"width": width, "height": height, "max_iter": max_iter}
    return _sharded("mandelbrot", workers, params)


def heat_jax(workers: int, n: int, steps: int) -> np.ndarray:
    """``lax.fori_loop`` over the steps, the interior replaced with ``.at[].set()``."""
    return run_single("heat", {"n": n, "steps": steps})


def heat_jax_sharded(workers: int, n: int, steps: int) -> np.ndarray:
    """Row blocks per device; halo rows passed with ``lax.ppermute`` every step."""
    return _sharded("heat", workers, {"n": n, "steps": steps})


def monte_carlo_pi_jax(workers: int, samples: int, seed: int) -> float:
    """Chunk ``k`` drawn from ``fold_in(key(seed), k)``; hits counted in a loop."""
    return run_single("monte_carlo_pi", {"samples": samples, "seed": seed})


def monte_carlo_pi_jax_sharded(workers: int, samples: int, seed: int) -> float:
    """The chunks split among the devices; hit counts summed with ``lax.psum``."""
    return _sharded("monte_carlo_pi", workers, {"samples": samples, "seed": seed})
