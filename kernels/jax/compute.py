"""The problems as JAX programs: pure functions of arrays, compiled by XLA with ``jax.jit``.

Each problem has a single-device function and a sharded one written with
:func:`jax.shard_map`: the same per-block code on every device of a :class:`jax.sharding.Mesh`,
with explicit communication (``lax.ppermute`` for the stencil's halo rows, ``lax.psum``
for the Monte Carlo total). Everything here runs in float64, which the backends switch on
with ``jax.config.update("jax_enable_x64", True)`` before calling: JAX's default, float32,
changes the Mandelbrot counts (chapter 10 shows how much).

* Mandelbrot: the first version iterates the whole grid together in a ``lax.while_loop``
  that stops when every point has escaped; escaped points keep their values
  (``jnp.where``). The one the backends run on a CPU cuts the image into square tiles,
  each with its own loop, run one after another (:func:`tile_counts`); on a GPU they
  iterate the whole grid in one loop (:func:`grid_counts`). Every count equals the
  reference's. Sharded, the rows are dealt round-robin to the devices (the expensive
  middle rows are shared) and each device stops on its own.
* Heat: ``lax.fori_loop`` over the steps, the new interior padded with the zero
  boundary. Sharded,
  each device holds a block of rows and receives one halo row from each neighbour per
  step.
* Monte Carlo: chunk ``k`` draws from ``jax.random.fold_in(key(seed), k)``: the numbers
  depend on the chunk, never on the device that draws them, so the estimate is the same
  for any device count (JAX's generator, not NumPy's: it agrees with the reference
  statistically).
"""

from __future__ import annotations

import functools
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..problems import heat, monte_carlo_pi

AXIS = "devices"

# --- Mandelbrot ---------------------------------------------------------------------


def escape_counts(cr: jax.Array, ci: jax.Array, max_iter) -> jax.Array:
    """Escape counts of the points ``cr + 1j*ci`` (same shape), all iterated together.

    Every product is rounded before it is added, as in the reference. XLA's CPU compiler
    otherwise contracts ``a * b + c`` into one fused multiply-add where the processor has
    FMA (AVX2, AVX-512), which rounds once instead of twice: on an AMD EPYC with AVX-512,
    19 of the 1.2 million counts at 1200x1000x500 came out different. Adding a zero that
    the compiler cannot see through (computed from the data) keeps each product rounded
    on its own; contracted or not, ``fma(a, b, 0)`` is ``round(a * b)``.
    """
    zero = cr - cr  # zeros, but not constants that XLA could fold away

    def keep_going(state):
        n, _, _, _, active = state
        return (n < max_iter) & jnp.any(active)

    def iterate(state):
        n, zr, zi, count, active = state
        zr2, zi2 = zr * zr + zero, zi * zi + zero
        active = active & (zr2 + zi2 <= 4.0)
        new_zi = (2.0 * zr * zi + zero) + ci
        new_zr = zr2 - zi2 + cr
        zr = jnp.where(active, new_zr, zr)
        zi = jnp.where(active, new_zi, zi)
        return n + 1, zr, zi, count + active.astype(jnp.int32), active

    zeros = jnp.zeros_like(cr)
    start = (0, zeros, zeros, jnp.zeros(cr.shape, jnp.int32), jnp.ones(cr.shape, bool))
    return lax.while_loop(keep_going, iterate, start)[3]


@jax.jit
def mandelbrot(re: jax.Array, im: jax.Array, max_iter) -> jax.Array:
    """The image's escape counts on one device: ``re`` (width) by ``im`` (height)."""
    cr = jnp.broadcast_to(re[None, :], (im.size, re.size))
    ci = jnp.broadcast_to(im[:, None], (im.size, re.size))
    return escape_counts(cr, ci, max_iter)


# Iterations per turn of a tile's loop: the stop test runs once per STEPS iterations,
# and XLA unrolls the STEPS iterations into one pass. Escaped points iterate at most
# STEPS - 1 times too often, which changes nothing.
STEPS = 4

# A tile is TILE_ROWS by TILE_COLS neighbouring points: a square of the image holds points
# of more alike counts than a strip of one row, so fewer of them wait for the slowest
# (at 1200x1000x500 a tile iterates 1.10x the useful iterations as 8x8 squares, 1.20x as
# 16x16, 1.74x as strips of 256 points of a row). Small tiles pay only because XLA
# compiles each tile's loop into one function (kernels.core.runtime.XLA_SMALL_LOOP_BYTES);
# without that option every turn costs calls from XLA's runtime, and 16x16 tiles of 8
# steps were best. Measured at 1200x1000x500 on an AMD EPYC (Zen 5), one device: 8x8
# tiles of 4 steps 0.060-0.063 s, of 8 steps 0.065 s, 16x16 of 8 steps 0.072 s;
# without the option, 16x16 of 8 steps 0.080 s and 8x8 of 4 steps 0.119 s.
TILE_ROWS = TILE_COLS = 8

# XLA's CPU compiler uses 256-bit vectors unless told otherwise, also where the processor
# has 512-bit ones (AVX-512). Asked per program, not for the whole process; measured at
# 1200x1000x500 on an AMD EPYC (Zen 4), tiles of 256 points: 0.17 s with 512-bit vectors,
# 0.23 s without.
CPU_OPTIONS = {"xla_cpu_prefer_vector_width": 512}


def escape_counts_unrolled(cr: jax.Array, ci: jax.Array, max_iter) -> jax.Array:
    """Escape counts of the points ``cr + 1j*ci``, iterated :data:`STEPS` at a time.

    The same arithmetic as :func:`escape_counts`, arranged for XLA:

    * ``z`` is one complex array, built from the real parts (``lax.complex``), so that one
      loop over the points updates both of its halves; the count is the only other state;
    * escaped points are not held back (no ``jnp.where``): once ``|z| > 2`` it only grows
      (to infinity, then NaN) and the test ``<= 4`` stays false, so the count stops where
      the reference's does;
    * the loop tests "is any point still going" once per :data:`STEPS` iterations, which
      XLA unrolls into one pass, then finishes one iteration at a time.
    """
    zero = cr - cr  # rounds each product on its own, as in escape_counts

    def iterate(z, count):
        zr, zi = jnp.real(z), jnp.imag(z)
        zr2, zi2 = zr * zr + zero, zi * zi + zero
        count = count + (zr2 + zi2 <= 4.0).astype(jnp.int32)
        return lax.complex(zr2 - zi2 + cr, (2.0 * zr * zi + zero) + ci), count

    def loop(steps):
        def keep_going(state):  # a point is still going while its count is n
            n, _, count = state
            return (n + steps <= max_iter) & jnp.any(count == n)

        def turn(state):
            n, z, count = state
            for _ in range(steps):  # unrolled while tracing
                z, count = iterate(z, count)
            return n + steps, z, count

        return keep_going, turn

    start = (0, lax.complex(zero, zero), jnp.zeros(cr.shape, jnp.int32))
    return lax.while_loop(*loop(1), lax.while_loop(*loop(STEPS), start))[2]


def tile_counts(re: jax.Array, im: jax.Array, max_iter) -> jax.Array:
    """The image's escape counts, tile by tile: squares of ``TILE_ROWS x TILE_COLS`` points.

    Each tile has its own ``while_loop`` (:func:`escape_counts_unrolled`), and a
    ``fori_loop`` runs the tiles one after another, so a tile whose points have all
    escaped stops costing, instead of being visited until the slowest point of the
    whole grid is done (:func:`counts_into`, here into an image of zeros).
    """
    image = jnp.zeros(padded_shape(im.size, re.size), jnp.int32)
    return counts_into(image, re, im, max_iter)[: im.size, : re.size]


def padded_shape(height: int, width: int) -> tuple[int, int]:
    """The image's shape rounded up to whole tiles, as :func:`counts_into` fills it.

    Examples
    --------
    >>> padded_shape(375, 1000)
    (376, 1000)
    """
    return -(-height // TILE_ROWS) * TILE_ROWS, -(-width // TILE_COLS) * TILE_COLS


def counts_into(image: jax.Array, re: jax.Array, im: jax.Array, max_iter) -> jax.Array:
    """``image`` (:func:`padded_shape`) with every tile's counts written into it.

    Each turn of the ``fori_loop`` slices its tile's coordinates out of ``re`` and ``im``
    and writes its counts into the image in place (``dynamic_update_slice``): what was
    in ``image`` before does not matter, and no array the size of the image is built,
    copied or rearranged. Such work XLA splits over its threads, which the devices of
    :func:`mandelbrot_program` share, and the device's program then continues on
    whichever thread finished last (:func:`mandelbrot_sharded` says what that cost).
    """
    rows, cols = image.shape[0] // TILE_ROWS, image.shape[1] // TILE_COLS
    re_pad = jnp.pad(re, (0, cols * TILE_COLS - re.size), mode="edge")
    im_pad = jnp.pad(im, (0, rows * TILE_ROWS - im.size), mode="edge")
    shape = (TILE_ROWS, TILE_COLS)

    def tile(k, image):
        top, left = (k // cols) * TILE_ROWS, (k % cols) * TILE_COLS
        cr = jnp.broadcast_to(lax.dynamic_slice(re_pad, (left,), (TILE_COLS,)), shape)
        ci = jnp.broadcast_to(lax.dynamic_slice(im_pad, (top,), (TILE_ROWS,))[:, None], shape)
        counts = escape_counts_unrolled(cr.ravel(), ci.ravel(), max_iter).reshape(shape)
        return lax.dynamic_update_slice(image, counts, (top, left))

    return lax.fori_loop(0, rows * cols, tile, image)


def grid_counts(re: jax.Array, im: jax.Array, max_iter) -> jax.Array:
    """The image's escape counts, every point in one loop: :func:`escape_counts_unrolled`
    over the whole grid.

    The program for a GPU, whose thousands of threads iterate the points together. XLA
    runs a GPU ``while_loop`` from the host: every turn launches the body and reads the
    stop test back, so :func:`tile_counts` would pay that once per turn of every tile,
    thousands of tiles per image. On a CPU a turn costs no launch, and the tiles win: a
    tile whose points have all escaped stops costing.
    """
    cr = jnp.broadcast_to(re[None, :], (im.size, re.size))
    ci = jnp.broadcast_to(im[:, None], (im.size, re.size))
    return escape_counts_unrolled(cr.ravel(), ci.ravel(), max_iter).reshape(cr.shape)


def counts_for(platform: str):
    """The Mandelbrot program for devices of ``platform``: :func:`tile_counts` on
    ``"cpu"``, :func:`grid_counts` on an accelerator (``"gpu"``, ``"tpu"``, ...).

    Examples
    --------
    >>> counts_for("cpu").__name__, counts_for("gpu").__name__
    ('tile_counts', 'grid_counts')
    """
    return tile_counts if platform == "cpu" else grid_counts


def jit_for_cpu(function, **options):
    """``jax.jit(function, **options)``, with :data:`CPU_OPTIONS` where JAX runs on the CPU."""
    compiler = CPU_OPTIONS if jax.default_backend() == "cpu" else {}
    return jax.jit(function, compiler_options=compiler, **options)


@functools.cache
def _counts_program(platform: str):
    return jit_for_cpu(counts_for(platform))


def mandelbrot_tiles(re, im, max_iter) -> jax.Array:
    """The image's escape counts, :func:`tile_counts` compiled (once) for this backend:
    on a CPU, the program :func:`mandelbrot_counts` runs."""
    return _counts_program("cpu")(re, im, max_iter)


def mandelbrot_counts(re, im, max_iter) -> jax.Array:
    """The ``jax`` backend's Mandelbrot on the default device: tiles on a CPU, the whole
    grid on an accelerator (:func:`counts_for`), compiled once."""
    return _counts_program(jax.default_backend())(re, im, max_iter)


def dealt_rows(im: np.ndarray, devices: int) -> np.ndarray:
    """The rows' imaginary parts dealt round-robin: column ``d`` holds rows ``d, d+D, ...``.

    A ``(rows, devices)`` array, padded with zeros up to a multiple of ``devices`` rows.
    Read row by row, it is ``im`` in its own order: sharded by columns, device ``d``
    gets every ``D``-th row, and the counts, sharded the same way, come back as the
    image without reordering.

    Examples
    --------
    >>> dealt_rows(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), 2).tolist()
    [[0.0, 1.0], [2.0, 3.0], [4.0, 0.0]]
    """
    rows = -(-im.size // devices)
    padded = np.zeros(rows * devices)
    padded[: im.size] = im
    return padded.reshape(rows, devices)


@functools.cache
def mandelbrot_program(mesh):
    """The compiled sharded Mandelbrot for ``mesh`` (built once per mesh).

    Device ``d`` gets column ``d`` of :func:`dealt_rows` (its rows, one in ``D``) and
    returns their counts as slice ``d`` of a ``(rows, D, width)`` image: laid out in
    memory, that is the image's rows in order, so that the shards are copied straight
    into place. (Dealt as one block of rows per device and put back in order on the
    host, the reordering took 0.4 ms of a 6 ms call at 800x600x200 on 2 CPU devices.)

    On CPU devices the program takes a fourth argument, the ``(rows, D, width)`` image
    padded to whole tiles (:func:`padded_shape`), and writes the counts into it
    (:func:`counts_into`); it is donated, so its buffers become the result's.
    """

    columns = jax.P(None, AXIS)
    if not on_cpu(mesh):

        @partial(jax.shard_map, mesh=mesh, check_vma=False,
                 in_specs=(jax.P(), columns, jax.P()), out_specs=columns)  # fmt: skip
        def rows(re, im_column, max_iter):
            return grid_counts(re, im_column[:, 0], max_iter)[:, None, :]

        return jit_for_cpu(rows)

    @partial(jax.shard_map, mesh=mesh, check_vma=False,
             in_specs=(jax.P(), columns, jax.P(), columns), out_specs=columns)  # fmt: skip
    def rows_into(re, im_column, max_iter, image):
        return counts_into(image[:, 0, :], re, im_column[:, 0], max_iter)[:, None, :]

    return jit_for_cpu(rows_into, donate_argnums=3)


def on_cpu(mesh) -> bool:
    """Whether the devices of ``mesh`` are CPU devices."""
    return mesh.devices.flat[0].platform == "cpu"


# The image each sharded CPU program returned last, by (mesh, shape): the next call
# writes its counts into it (mandelbrot_sharded).
_last_images: dict[tuple, jax.Array] = {}


def mandelbrot_sharded(re: np.ndarray, im: np.ndarray, max_iter: int, mesh) -> np.ndarray:
    """The escape counts with the rows dealt round-robin to the devices of ``mesh``.

    On CPU devices each call writes its counts into the image the last call returned
    (donated), instead of into an image of zeros made for it: zeroing an image is work
    XLA splits over its threads, and the device's tiles then ran on whichever thread
    finished last, at times on the other device's core. Measured at 1000x750x300 on an
    Intel Xeon (AVX-512), 2 devices on 2 cores, 60 calls inside one process, twice: with
    an image of zeros, medians of 18.1 and 21.3 ms and a slowest tenth from 29 ms (as
    long as one device's calls, 31 ms); without, 18.0 and 18.1 ms, and from 20 to 21 ms.
    """
    dealt = dealt_rows(im, mesh.devices.size)
    program = mandelbrot_program(mesh)
    if not on_cpu(mesh):
        counts = np.asarray(program(re, dealt, max_iter))
        return counts.reshape(-1, re.size)[: im.size]
    shape = padded_shape(dealt.shape[0], re.size)
    shape = (shape[0], mesh.devices.size, shape[1])
    image = _last_images.pop((mesh, shape), None)
    if image is None:
        sharding = jax.NamedSharding(mesh, jax.P(None, AXIS))
        image = jax.device_put(np.zeros(shape, np.int32), sharding)
    out = program(re, dealt, max_iter, image)
    # a copy of our own: the next call writes into out's buffers (one device's array
    # would be lent, not copied; several devices' are gathered into a new one)
    counts = np.asarray(out) if len(out.addressable_shards) > 1 else np.array(out)
    _last_images[mesh, shape] = out
    return np.ascontiguousarray(counts.reshape(-1, shape[2])[: im.size, : re.size])


# --- Heat ---------------------------------------------------------------------------


def heat_update(above: jax.Array, rows: jax.Array, below: jax.Array) -> jax.Array:
    """New values of ``rows`` (interior columns) from the rows around them."""
    c = rows[:, 1:-1]
    return c + heat.R * ((above[:, 1:-1] + below[:, 1:-1]) + (rows[:, :-2] + rows[:, 2:])
                         - 4.0 * c)  # fmt: skip


@jax.jit
def heat_run(u: jax.Array, steps) -> jax.Array:
    """``steps`` steps of the stencil on one device.

    Each step computes the new interior and pads it with the zero boundary (the
    specification holds the boundary at 0.0). Measured at n=1024, 600 steps: 0.21 s,
    against 1.61 s for the same update written ``u.at[1:-1, 1:-1].set(...)``, which
    XLA's CPU backend does not turn into one fused pass.
    """

    def step(_, u):
        return jnp.pad(heat_update(u[:-2], u[1:-1], u[2:]), 1)

    return lax.fori_loop(0, steps, step, u)


# Steps between halo exchanges of the sharded stencil (and rows in each halo). Every
# exchange is a collective the devices wait for: at n=1024 and 600 steps on 2 CPU
# devices, exchanging every step took 0.217 s against 0.202 s on one device; exchanging
# every HALO_STEPS steps costs 2 * HALO_STEPS recomputed rows per block instead.
HALO_STEPS = 16


@functools.cache
def heat_program(mesh, n: int):
    """The compiled sharded stencil for ``mesh`` and grid size ``n`` (built once).

    Each device holds a block of rows. Every ``k`` steps it receives ``k`` rows from each
    neighbour (``lax.ppermute``) and advances its block with those halos ``k`` steps on
    its own: the halo rows go stale one row per step from the outside in, and exactly
    the ``k`` of them are dropped afterwards, so the block is what a single device gets.
    """
    devices = mesh.devices.size
    block = -(-n // devices)
    k = max(1, min(HALO_STEPS, block))
    down = [(d, d + 1) for d in range(devices - 1)]  # my last rows go to the next device
    up = [(d + 1, d) for d in range(devices - 1)]  # my first rows go to the previous one

    @jax.jit
    @partial(jax.shard_map, mesh=mesh, check_vma=False, in_specs=(jax.P(AXIS), jax.P()),
             out_specs=jax.P(AXIS))  # fmt: skip
    def run(local, steps):
        first = lax.axis_index(AXIS) * block - k  # global row of the extended block's top
        row = first + jnp.arange(block + 2 * k)
        interior = ((row >= 1) & (row <= n - 2))[:, None]

        def step(_, rows):
            new = jnp.pad(heat_update(rows[:-2], rows[1:-1], rows[2:]), 1)
            return jnp.where(interior, new, rows)

        def exchange(done, local):
            above = lax.ppermute(local[-k:], AXIS, down)  # zeros on the first device
            below = lax.ppermute(local[:k], AXIS, up)  # zeros on the last device
            rows = jnp.concatenate([above, local, below])
            rows = lax.fori_loop(0, jnp.minimum(k, steps - done * k), step, rows)
            return rows[k:-k]

        return lax.fori_loop(0, -(-steps // k), exchange, local)

    return run


def heat_sharded(n: int, steps: int, mesh) -> np.ndarray:
    """The stencil with each device holding a block of rows and exchanging halo rows."""
    block = -(-n // mesh.devices.size)
    u = np.zeros((block * mesh.devices.size, n))
    u[:n] = heat.initial(n)
    return np.asarray(heat_program(mesh, n)(u, steps))[:n]


# --- Monte Carlo pi -----------------------------------------------------------------


def chunk_hits(key: jax.Array, chunk, size) -> jax.Array:
    """Hits among the first ``size`` points of chunk ``chunk``, drawn from its own key."""
    points = jax.random.uniform(jax.random.fold_in(key, chunk),
                                (2, monte_carlo_pi.CHUNK_SAMPLES), dtype=jnp.float64)  # fmt: skip
    x, y = points[0], points[1]
    inside = (x * x + y * y <= 1.0) & (jnp.arange(monte_carlo_pi.CHUNK_SAMPLES) < size)
    return jnp.sum(inside, dtype=jnp.int64)


def hits_of_chunks(seed, chunks: jax.Array, sizes: jax.Array) -> jax.Array:
    """Total hits of the given chunks (a loop, so memory stays one chunk's worth)."""
    key = jax.random.key(seed)

    def add(i, total):
        return total + chunk_hits(key, chunks[i], sizes[i])

    return lax.fori_loop(0, chunks.size, add, jnp.int64(0))


monte_carlo_hits = jax.jit(hits_of_chunks)


def chunk_table(samples: int, devices: int) -> tuple[np.ndarray, np.ndarray]:
    """Chunk indices and sizes, padded with empty chunks to a multiple of ``devices``."""
    total = monte_carlo_pi.n_chunks(samples)
    padded = -(-total // devices) * devices
    chunks = np.arange(padded, dtype=np.int64)
    sizes = np.array([monte_carlo_pi.chunk_size(samples, k) if k < total else 0
                      for k in range(padded)], dtype=np.int64)  # fmt: skip
    return chunks, sizes


@functools.cache
def monte_carlo_program(mesh):
    """The compiled sharded hit count for ``mesh`` (built once per mesh)."""

    @jax.jit
    @partial(jax.shard_map, mesh=mesh, check_vma=False,
             in_specs=(jax.P(), jax.P(AXIS), jax.P(AXIS)),
             out_specs=jax.P())  # fmt: skip
    def total(seed, chunks, sizes):
        return lax.psum(hits_of_chunks(seed, chunks, sizes), AXIS)

    return total


def monte_carlo_hits_sharded(samples: int, seed: int, mesh) -> int:
    """Total hits with the chunks split among the devices and the counts summed (psum)."""
    chunks, sizes = chunk_table(samples, mesh.devices.size)
    return int(monte_carlo_program(mesh)(seed, chunks, sizes))
