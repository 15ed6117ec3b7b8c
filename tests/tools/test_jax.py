"""The JAX backends beyond the contract: device counts, the worker process, float64 scope."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kernels
from kernels.core import machine
from kernels.core.errors import WorkerDiedError
from kernels.jax import checks
from kernels.jax import compute as jax_kernels
from kernels.jax import devices as jax_devices
from kernels.jax import pinned as jax_pinned
from kernels.problems import mandelbrot


def test_dealt_rows_give_each_device_every_dth_row_in_image_order():
    im = np.arange(7.0) + 1.0
    assert jax_kernels.dealt_rows(im, 3)[:, 1].tolist() == [2.0, 5.0, 0.0]
    assert jax_kernels.dealt_rows(im, 3).ravel()[:7].tolist() == im.tolist()
    assert jax_kernels.dealt_rows(im, 1).ravel().tolist() == im.tolist()


@pytest.mark.parametrize(("width", "height", "max_iter"), [(37, 23, 50), (240, 180, 300)])
def test_the_accelerator_program_counts_exactly(width, height, max_iter):
    """``grid_counts`` is what a GPU runs, and no test machine has one: compiled here for
    the CPU, its counts must be the reference's, as the tiles' are."""
    import jax

    re, im = mandelbrot.coordinates(width, height)
    with jax.enable_x64(True):
        got = np.asarray(jax_kernels.jit_for_cpu(jax_kernels.grid_counts)(re, im, max_iter))
    np.testing.assert_array_equal(got, mandelbrot.reference(width, height, max_iter))


def test_chunk_table_pads_with_empty_chunks():
    chunks, sizes = jax_kernels.chunk_table(250_001, 4)
    assert chunks.tolist() == list(range(4))
    assert sizes.tolist() == [100_000, 100_000, 50_001, 0]


def test_float64_is_scoped_to_the_call():
    import jax.numpy as jnp

    kernels.run("mandelbrot", "jax", width=8, height=6, max_iter=10)
    assert jnp.zeros(1).dtype == jnp.float32


def test_monte_carlo_same_for_jax_and_any_device_count():
    params = {"samples": 350_001, "seed": 11}
    single = kernels.run("monte_carlo_pi", "jax", **params)
    for workers in (1, 2, 3):
        assert kernels.run("monte_carlo_pi", "jax-sharded", workers=workers, **params) == single


# JAX draws its own random numbers (threefry keys folded with the chunk number), so its
# estimate differs from NumPy's; pinned here, a change in JAX's bits or in the keys shows.
JAX_PI = {7: 3.142848, 8: 3.141344}  # samples=250_000


@pytest.mark.parametrize("backend", ["jax", "jax-sharded"])
def test_monte_carlo_golden_values_and_the_seed_matters(backend):
    for seed, expected in JAX_PI.items():
        for workers in [1] if backend == "jax" else [1, 2, 3]:
            got = kernels.run("monte_carlo_pi", backend, workers=workers, samples=250_000,
                              seed=seed)  # fmt: skip
            assert got == expected, (backend, workers, seed, got)


def test_prepare_after_jax_started_says_the_count_is_fixed():
    import jax

    jax.numpy.zeros(1).block_until_ready()  # JAX has started in this process
    count = len(jax.devices())
    assert kernels.prepare(64)["jax_cpu_devices"] == "fixed: JAX had already started"
    assert len(jax.devices()) == count


TILE_LOOP_PROGRAM = """
import os, sys
if sys.argv[1] == "unset":
    os.environ.pop("XLA_FLAGS", None)
else:
    os.environ["XLA_FLAGS"] = sys.argv[1]
from kernels.jax import compute  # sets XLA's option before JAX starts
import jax
from kernels.problems import mandelbrot
with jax.enable_x64(True):
    re, im = mandelbrot.coordinates(40, 30)
    text = compute.jit_for_cpu(compute.tile_counts).lower(re, im, 50).compile().as_text()
tile = f"c128[{compute.TILE_ROWS * compute.TILE_COLS}]"  # a tile's z
tile_loops = [line for line in text.splitlines() if tile in line and " call(" in line]
print(os.environ.get("XLA_FLAGS", ""))
print(sum('xla_cpu_small_call="true"' in line for line in tile_loops))
"""


def test_each_tile_loop_is_compiled_as_one_function_unless_the_reader_says_otherwise():
    def run(flags):
        done = subprocess.run([sys.executable, "-c", TILE_LOOP_PROGRAM, flags],
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.split("\n")[:2]

    flags, compiled_whole = run("unset")
    assert "xla_cpu_small_while_loop_byte_threshold=65536" in flags and int(compiled_whole) > 0
    theirs = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=1024"
    flags, compiled_whole = run(theirs)
    assert flags == theirs and int(compiled_whole) == 0
    flags, _ = run("--xla_cpu_enable_fast_math=false")
    assert flags.startswith("--xla_cpu_enable_fast_math=false --xla_backend_extra_options=")


def test_failing_worker_is_a_clear_error():
    with pytest.raises(WorkerDiedError, match="jax-sharded worker process .* failed"):
        jax_devices.run_in_worker("no-such-problem", 2, {})


def test_sharded_runs_in_this_process_when_it_has_the_devices():
    # A fresh interpreter that asks for 4 CPU devices first; a worker process there
    # would be an error.
    code = textwrap.dedent("""
        import os
        os.environ.pop("JAX_NUM_CPU_DEVICES", None)
        import kernels
        assert kernels.prepare(4)["jax_cpu_devices"] == 4
        import jax
        from kernels.jax import devices as jax_devices
        jax_devices.run_in_worker = None  # calling it would raise TypeError
        import numpy as np
        params = {"width": 37, "height": 23, "max_iter": 60}
        ref = kernels.reference("mandelbrot", **params)
        for d in (1, 2, 3, 4):
            assert (kernels.run("mandelbrot", "jax-sharded", workers=d, **params) == ref).all()
        # Each call writes into the image the last one returned (donated to it): the
        # next call must leave nothing of its counts, and not change what it returned.
        # (40 columns: whole tiles, so that the counts are not copied to trim them)
        from kernels.jax import compute
        whole_tiles = dict(params, width=40)
        fewer = dict(whole_tiles, max_iter=7)
        for d in (1, 2):
            first = kernels.run("mandelbrot", "jax-sharded", workers=d, **whole_tiles)
            lent = list(compute._last_images.values())
            second = kernels.run("mandelbrot", "jax-sharded", workers=d, **fewer)
            assert sum(image.is_deleted() for image in lent) == 1  # this mesh's, donated
            assert (second == kernels.reference("mandelbrot", **fewer)).all()
            assert (first == kernels.reference("mandelbrot", **whole_tiles)).all()
        # 40 steps: several halo exchanges (HALO_STEPS, or the block) and a remainder.
        fields = [kernels.run("heat", "jax-sharded", workers=d, n=19, steps=40)
                  for d in (1, 2, 3, 4)]
        reference = kernels.reference("heat", n=19, steps=40)
        assert max(np.abs(f - reference).max() for f in fields) < 1e-12
        assert all((f == fields[0]).all() for f in fields)  # any device count, same field
        print("in-process", len(jax.devices()))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "in-process 4" in out.stdout


def jitted_step(u):
    from kernels.problems import heat

    c = u[1:-1, 1:-1]
    new = c + heat.R * ((u[:-2, 1:-1] + u[2:, 1:-1]) + (u[1:-1, :-2] + u[1:-1, 2:]) - 4.0 * c)
    return u.at[1:-1, 1:-1].set(new)


def test_jax_checkers():
    import jax
    import jax.numpy as jnp
    from checker_cases import assert_checker_contract
    from jax import lax

    step = jax.jit(jitted_step)
    not_jitted = jitted_step
    wrong_step = jax.jit(lambda u: u * 0.5)
    interior_only = jax.jit(lambda u: jitted_step(u)[1:-1, 1:-1])
    boundary_zeroed = jax.jit(lambda u: jitted_step(u).at[0, :].set(0.0))
    assert_checker_contract(checks.check_jax_heat_step, step,
                            [not_jitted, wrong_step, interior_only, boundary_zeroed])  # fmt: skip

    def pi_estimate(key, samples):
        key_x, key_y = jax.random.split(key)
        x = jax.random.uniform(key_x, (samples,))
        y = jax.random.uniform(key_y, (samples,))
        return 4.0 * jnp.sum(x * x + y * y <= 1.0) / samples

    def pi_fixed_seed(key, samples):
        return pi_estimate(jax.random.key(0), samples)

    def pi_same_xy(key, samples):
        x = jax.random.uniform(key, (samples,))
        return 4.0 * jnp.sum(x * x + x * x <= 1.0) / samples

    def pi_numpy(key, samples):  # NumPy's generator: the key is ignored
        rng = np.random.default_rng()
        x, y = rng.random(samples), rng.random(samples)
        return 4.0 * np.count_nonzero(x * x + y * y <= 1.0) / samples

    def pi_times_two(key, samples):
        return pi_estimate(key, samples) / 2

    assert_checker_contract(checks.check_jax_pi, pi_estimate,
                            [pi_fixed_seed, pi_same_xy, pi_numpy, pi_times_two])  # fmt: skip

    def escape(cr, ci, max_iter):
        def keep_going(state):
            n, zr, zi = state
            return (n < max_iter) & (zr * zr + zi * zi <= 4.0)

        def iterate(state):
            n, zr, zi = state
            return n + 1, zr * zr - zi * zi + cr, 2.0 * zr * zi + ci

        return lax.while_loop(keep_going, iterate, (0, 0.0 * cr, 0.0 * cr))[0]

    grid = jax.jit(jax.vmap(jax.vmap(escape, (0, 0, None)), (0, 0, None)))
    rows_only = jax.vmap(escape, (0, 0, None))

    def python_loops(cr, ci, max_iter):  # no JAX loop: NumPy point by point
        cr, ci = np.asarray(cr), np.asarray(ci)
        out = np.zeros(cr.shape, dtype=np.int32)
        for index in np.ndindex(cr.shape):
            out[index] = int(escape(cr[index], ci[index], max_iter))
        return out

    def escape_strict(cr, ci, max_iter):
        def keep_going(state):
            n, zr, zi = state
            return (n < max_iter) & (zr * zr + zi * zi < 4.0)

        def iterate(state):
            n, zr, zi = state
            return n + 1, zr * zr - zi * zi + cr, 2.0 * zr * zi + ci

        return lax.while_loop(keep_going, iterate, (0, 0.0 * cr, 0.0 * cr))[0]

    strict = jax.vmap(jax.vmap(escape_strict, (0, 0, None)), (0, 0, None))
    assert_checker_contract(checks.check_jax_escape_grid, grid,
                            [rows_only, lambda *a: 0, python_loops, strict])  # fmt: skip
    assert np.isfinite(float(pi_estimate(jax.random.key(1), 1000)))


def test_pinned_devices_each_get_one_core_and_their_runs_alternate(monkeypatch):
    from kernels.jax import warm

    params = {"width": 64, "height": 40, "max_iter": 50}
    asked, run_warm = [], warm.run_warm

    def spy(problem, workers, params):
        asked.append((problem, workers, len(_warm_jax_workers())))
        return run_warm(problem, workers, params)

    monkeypatch.setattr(warm, "run_warm", spy)
    tables = jax_pinned.measure_pinned({"mandelbrot": params, "heat": {"n": 19, "steps": 40}},
                                       [1, 2], repeat=2)  # fmt: skip
    assert list(tables) == ["mandelbrot", "heat"]
    df = tables["mandelbrot"]
    assert df["workers"].tolist() == [1, 2]
    assert df["pinned"].tolist() == [True, machine.usable_cores() >= 2]
    assert df["checksum"].nunique() == 1
    assert df["checksum"].iloc[0] == kernels.reference("mandelbrot", **params).sum()
    assert df["self_speedup"].iloc[0] == 1.0 and (df["median_s"] > 0).all()
    assert (df["startup_s"] > 0).all()
    # Both workers started once for both problems; warm-ups, then the counts alternate.
    ran = [w for p, w, _ in asked if p == "mandelbrot"]
    assert ran == [1, 2, 1, 2, 1, 2]
    assert {running for *_, running in asked} == {2}
    assert _warm_jax_workers() == []


def test_pinning_refuses_no_devices_and_says_when_it_cannot_pin():
    with pytest.raises(ValueError, match="devices must be >= 1, got 0"):
        jax_pinned.pin_to_cores(0)
    assert jax_pinned.pin_to_cores(10_000) is False  # more devices than usable cores


SPREAD = """
import os, threading
from kernels.jax.pinned import spread_threads
cores = sorted(os.sched_getaffinity(0))
before = {int(tid) for tid in os.listdir("/proc/self/task")} - {os.getpid()}  # BLAS's, say
stop = threading.Event()
threads = [threading.Thread(target=stop.wait, daemon=True) for _ in range(2 * len(cores) + 1)]
for t in threads:
    t.start()
held = set()
spread_threads(held)
ids = sorted(t.native_id for t in threads)
assert held == set(ids) | before, (held, ids, before)
given = [os.sched_getaffinity(tid) for tid in ids]
assert all(len(g) == 1 for g in given), given
for k in range(len(ids) - len(cores) + 1):  # any len(cores) threads in a row: every core
    assert set().union(*given[k:k + len(cores)]) == set(cores), given
assert sorted(os.sched_getaffinity(0)) == cores  # the main thread keeps them all
os.sched_setaffinity(ids[0], cores)  # a held thread is left as it is
late = threading.Thread(target=stop.wait, daemon=True)
late.start()
spread_threads(held)
assert sorted(os.sched_getaffinity(ids[0])) == cores
assert late.native_id in held and len(os.sched_getaffinity(late.native_id)) == 1
stop.set()
print("spread", len(ids), "threads over", len(cores), "cores")
"""


def test_spread_threads_holds_each_new_thread_to_one_core_round_robin():
    # in a process of its own: the test's own threads keep all their cores
    done = subprocess.run([sys.executable, "-c", SPREAD], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"over {machine.usable_cores()} cores" in done.stdout


def test_a_pinned_measurement_of_an_unknown_problem_starts_no_worker(monkeypatch):
    from kernels.jax import warm

    monkeypatch.setattr(warm, "_start", lambda count: pytest.fail("a worker was started"))
    with pytest.raises(ValueError, match="unknown problem 'no-such-problem'; choose one of"):
        jax_pinned.measure_pinned({"no-such-problem": {}}, [1], repeat=1)


def _warm_jax_workers():
    import psutil

    found = []
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):  # a zombie of an earlier test, say
            if "kernels.jax.server" in " ".join(child.cmdline()):
                found.append(child)
    return found


def test_warm_devices_are_reused_held_to_their_cores_and_exact():
    from kernels.jax import warm

    params = {"width": 37, "height": 23, "max_iter": 60}
    image = kernels.reference("mandelbrot", **params)
    field = kernels.reference("heat", n=19, steps=40)
    with warm.warm_devices([1, 2]) as startup:
        assert set(startup) == {1, 2}
        running = _warm_jax_workers()
        assert len(running) == 2
        cores = sorted(len(p.cpu_affinity()) for p in running)
        assert cores == ([1, 2] if machine.usable_cores() >= 2 else [1, 1])  # one per device
        for devices in (1, 2, 2):
            assert (kernels.run("mandelbrot", "jax-sharded", workers=devices, **params)
                    == image).all()  # fmt: skip
            heat = kernels.run("heat", "jax-sharded", workers=devices, n=19, steps=40)
            assert np.abs(heat - field).max() < 1e-12
        assert {p.pid for p in _warm_jax_workers()} == {p.pid for p in running}
        two = max(running, key=lambda p: len(p.cpu_affinity()))
        held = [os.sched_getaffinity(t.id) for t in two.threads() if t.id != two.pid]
        if machine.usable_cores() >= 2:  # its threads, each on one core, on both cores
            assert all(len(cores) == 1 for cores in held), held
            assert set().union(*held) == set(two.cpu_affinity())
    assert _warm_jax_workers() == []


def test_a_failing_warm_worker_is_a_clear_error_and_is_dropped():
    from kernels.jax import warm

    with warm.warm_devices([1]):
        with pytest.raises(WorkerDiedError, match=r"warm jax-sharded worker \(1 CPU devices\)"):
            warm.run_warm("no-such-problem", 1, {})
        assert warm.run_warm("monte_carlo_pi", 1, {"samples": 10, "seed": 0}) is None
        assert _warm_jax_workers() == []
