"""Checkers for the JAX chapter: a pure stencil step, reproducible keys, a vmapped kernel."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..core.checking import (
    CheckResult,
    attempt,
    failed,
    fresh_rng,
    needs_function,
    passed,
    what_it_raised,
)
from ..problems import heat, mandelbrot, monte_carlo_pi


@needs_function
def check_jax_heat_step(func: Callable) -> CheckResult:
    """Check a jitted ``func(u)`` returns one heat step of ``u`` and leaves ``u`` unchanged."""
    import jax
    import jax.numpy as jnp

    if not hasattr(func, "lower"):
        return failed("your function is not compiled with jax.jit",
                       "decorate it with @jax.jit.")  # fmt: skip
    rng = fresh_rng()
    as_array = lambda *args: np.asarray(func(*args))  # noqa: E731
    with jax.enable_x64(True):
        for n in (3, *(int(v) for v in rng.integers(4, 48, 2))):
            start = rng.random((n, n))
            u = jnp.asarray(start)
            got = attempt(as_array, u, what=f"func(u) on a {n}x{n} grid",
                          hint="JAX arrays are immutable: a new array with some values "
                               "replaced comes from the .at property.")  # fmt: skip
            want = start.copy()
            heat.step_rows(start, want, 1, n - 1)
            if not np.array_equal(np.asarray(u), start):
                return failed("your function changed its input",
                               "return a new array; never modify u.")  # fmt: skip
            if got.shape != want.shape or not np.max(np.abs(got - want)) <= heat.TOLERANCE:
                return failed(f"on a {n}x{n} grid the step differs from the reference",
                               "update only the interior, from the old values, with the "
                               "specification's update (help(heat)); the boundary stays "
                               "as it is.")  # fmt: skip
    return passed("a pure, jitted stencil step: the input is untouched, the result right.")


@needs_function
def check_jax_pi(func: Callable) -> CheckResult:
    """Check ``func(key, samples)`` estimates pi reproducibly from the key alone."""
    import jax

    rng = fresh_rng()
    key = jax.random.key(int(rng.integers(2**31)))
    first, second = jax.random.split(key)
    samples = int(rng.integers(150_000, 300_000))
    hint = ("draw the points with jax.random from the key you are given, and return the "
            "estimate as a number.")  # fmt: skip
    # The same key three times: two estimates from an unseeded generator came out equal
    # twice in 180 checks (an audit of the near misses over many draws); three rarely.
    a, again, third, b = (attempt(lambda k: float(func(k, samples)), k,
                                  what=f"func(key, {samples})", hint=hint)
                          for k in (first, first, first, second))  # fmt: skip
    if not a == again == third:
        return failed(
            "the same key gave two different estimates",
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
            return failed(f"an estimate is further from pi than chance allows for {samples} "
                           "samples",
                           "x and y must be independent: drawing both from one key gives "
                           "the same numbers twice.")  # fmt: skip
    return passed("reproducible from the key, independent across keys, and close to pi.")


@needs_function
def check_jax_escape_grid(func: Callable) -> CheckResult:
    """Check ``func(cr, ci, max_iter)`` (vmap of a per-point loop) gives the reference counts."""
    import jax
    import jax.numpy as jnp

    rng = fresh_rng()
    as_array = lambda *args: np.asarray(func(*args))  # noqa: E731
    sizes = mandelbrot.checker_sizes(rng)
    with jax.enable_x64(True):
        try:
            traced = str(
                jax.make_jaxpr(func, static_argnums=2)(jnp.zeros((2, 3)), jnp.zeros((2, 3)), 5)
            )
        except Exception as exc:
            return failed(f"JAX cannot trace it: {what_it_raised(exc)}",
                           "write it with jax.numpy and lax only (no NumPy, no Python "
                           "loop over the points), so that jit and vmap can "
                           "transform it.")  # fmt: skip
        if "while[" not in traced:
            return failed("it has no lax.while_loop: the loop must be JAX's, not "
                           "Python's",
                           "one point's loop in lax.while_loop, then vmap over the "
                           "points.")  # fmt: skip
        for width, height, max_iter in sizes:
            re, im = mandelbrot.coordinates(width, height)
            cr, ci = np.meshgrid(re, im)
            got = attempt(as_array, jnp.asarray(cr), jnp.asarray(ci), max_iter,
                          what=f"func(cr, ci, {max_iter})",
                          hint="write the loop for one point, then map it over both axes "
                               "of the grid.")  # fmt: skip
            want = mandelbrot.reference(width, height, max_iter)
            if got.shape != want.shape:
                return failed(f"a grid of shape {want.shape} gave counts of shape "
                               f"{got.shape}",
                               "one vmap maps over one axis; the grid has "
                               "two.")  # fmt: skip
            differ = int(np.count_nonzero(got != want))
            if differ:
                return failed(f"{differ} of {want.size} counts differ ({width}x{height}, "
                               f"max_iter {max_iter})",
                               "compare with the specification (help(mandelbrot)): when "
                               "the loop stops, and how z is updated.")  # fmt: skip
    return passed("vmap turned the one-point loop into the whole image, count for count.")
