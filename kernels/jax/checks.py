"""Checkers for the JAX chapter: a pure stencil step, reproducible keys, a vmapped kernel."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..core.checking import CheckResult, call, failed, needs_function, passed
from ..problems import heat, mandelbrot, monte_carlo_pi


def _first_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"


@needs_function
def check_jax_heat_step(func: Callable) -> CheckResult:
    """Check a jitted ``func(u)`` returns one heat step of ``u`` and leaves ``u`` unchanged."""
    import jax
    import jax.numpy as jnp

    if not hasattr(func, "lower"):
        return failed("your function is not compiled with jax.jit",
                       "decorate it with @jax.jit.")  # fmt: skip
    rng = np.random.default_rng(2)
    with jax.enable_x64(True):
        for n in (3, 9, 32):
            start = rng.random((n, n))
            start[0, :] = start[-1, :] = start[:, 0] = start[:, -1] = 0.0
            u = jnp.asarray(start)
            try:
                got = np.asarray(call(func, u))
            except Exception as exc:
                return failed(f"func(u) on a {n}x{n} grid raised {_first_line(exc)}",
                               "JAX arrays are immutable: build the result with "
                               "u.at[1:-1, 1:-1].set(new_interior).")  # fmt: skip
            want = start.copy()
            heat.step_rows(start, want, 1, n - 1)
            if not np.array_equal(np.asarray(u), start):
                return failed("your function changed its input",
                               "return a new array; never modify u.")  # fmt: skip
            if got.shape != want.shape or not np.max(np.abs(got - want)) <= heat.TOLERANCE:
                return failed(f"on a {n}x{n} grid the step differs from the reference",
                               "update only the interior, from the old values, with "
                               "R = heat.R; keep the boundary as it is.")  # fmt: skip
    return passed("a pure, jitted stencil step: the input is untouched, the result right.")


@needs_function
def check_jax_pi(func: Callable) -> CheckResult:
    """Check ``func(key, samples)`` estimates pi reproducibly from the key alone."""
    import jax

    key = jax.random.key(42)
    first, second = jax.random.split(key)
    samples = 200_000
    try:
        a = float(call(func, first, samples))
        again = float(call(func, first, samples))
        b = float(call(func, second, samples))
    except Exception as exc:
        return failed(
            f"func(key, {samples}) raised {_first_line(exc)}",
            "split the key into two, draw x and y with "
            "jax.random.uniform(key_x, (samples,)), and return 4 * hits / samples.",
        )
    if a != again:
        return failed(
            f"the same key gave {a} and then {again}",
            "draw only from the key you are given (no NumPy or global state).",
        )
    if a == b:
        return failed(
            "two different keys gave exactly the same estimate",
            "use the key you are given; don't make a new one from a fixed seed.",
        )
    bound = 6 * monte_carlo_pi.standard_error(samples)
    for value in (a, b):
        if not abs(value - math.pi) <= bound:
            return failed(f"the estimate {value} is further than {bound:.3g} from pi",
                           "draw x and y independently (two keys, from jax.random.split) "
                           "and count x*x + y*y <= 1.")  # fmt: skip
    return passed("reproducible from the key, independent across keys, and close to pi.")


@needs_function
def check_jax_escape_grid(func: Callable) -> CheckResult:
    """Check ``func(cr, ci, max_iter)`` (vmap of a per-point loop) gives the reference counts."""
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(True):
        for width, height, max_iter in [(24, 16, 30), (5, 3, 1), (40, 21, 120)]:
            re, im = mandelbrot.coordinates(width, height)
            cr, ci = np.meshgrid(re, im)
            try:
                got = np.asarray(call(func, jnp.asarray(cr), jnp.asarray(ci), max_iter))
            except Exception as exc:
                return failed(f"func(cr, ci, {max_iter}) raised {_first_line(exc)}",
                               "write escape(cr, ci, max_iter) for one point with "
                               "lax.while_loop, then jax.vmap it twice (rows, then "
                               "columns).")  # fmt: skip
            want = mandelbrot.reference(width, height, max_iter)
            if got.shape != want.shape:
                return failed(f"shape {got.shape}, expected {want.shape}",
                               "vmap over both axes: jax.vmap(jax.vmap(escape, "
                               "(0, 0, None)), (0, 0, None)).")  # fmt: skip
            differ = int(np.count_nonzero(got != want))
            if differ:
                return failed(f"{differ} of {want.size} counts differ ({width}x{height}, "
                               f"max_iter {max_iter})",
                               "loop while n < max_iter and zr*zr + zi*zi <= 4.0, updating "
                               "zr and zi together.")  # fmt: skip
    return passed("vmap turned the one-point loop into the whole image, count for count.")
