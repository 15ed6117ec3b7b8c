"""The specifications themselves: facts about the references that can be derived by hand."""

from __future__ import annotations

import itertools
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernels
from kernels.problems import heat, mandelbrot, monte_carlo_pi


def test_mandelbrot_known_points():
    counts = kernels.reference("mandelbrot", width=11, height=5, max_iter=50)
    re, im = mandelbrot.coordinates(11, 5)
    assert re[0] == -2.0 and im[0] == -1.25 and im[2] == 0.0
    # c = -2 + 0j: z = 0, -2, 2, 2, ... stays on |z|^2 = 4 <= 4, never escapes.
    assert counts[2, 0] == 50
    # c = -2 - 1.25j: |c|^2 = 5.5625 > 4 after the first update.
    assert counts[0, 0] == 1
    # c = 0 is in the set; c = 0.5 escapes after a few iterations (0.5, 0.75, 1.0625, 1.63, 3.15).
    assert counts[2, re.tolist().index(0.0)] == 50
    assert counts[2, -1] == 5


def test_mandelbrot_python_and_numpy_kernels_agree_bit_for_bit():
    rows = np.arange(0, 30, 7)
    assert np.array_equal(
        mandelbrot.rows_numpy(rows, 40, 30, 80), mandelbrot.rows_python(rows, 40, 30, 80)
    )


def scalar_counts(cr: float, ci: float, max_iter: int) -> int:
    zr = zi = 0.0
    n = 0
    while n < max_iter and zr * zr + zi * zi <= 4.0:
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
        n += 1
    return n


@pytest.mark.parametrize("points", [
    [(3.0, 0.0), (2.5, 1.0), (0.0, 3.0)],  # all escape at once: the loop stops early
    [(0.0, 0.0), (-1.0, 0.0), (-2.0, 0.0)],  # none escapes (-2 stays on |z|^2 = 4)
    [(0.5, 0.0), (0.0, 0.0), (0.3, 0.5), (-0.75, 0.1), (-2.0, 0.0), (2.1, 0.0)],  # mixed
])  # fmt: skip
def test_mandelbrot_numpy_counts_equal_the_scalar_loop(points):
    cr, ci = (np.array(column) for column in zip(*points, strict=True))
    counts = mandelbrot.escape_counts(cr, ci, 60)
    assert counts.tolist() == [scalar_counts(r, i, 60) for r, i in points]


def test_mandelbrot_rows_are_load_imbalanced():
    cost = kernels.reference("mandelbrot", width=60, height=40, max_iter=100).sum(axis=1)
    assert cost[len(cost) // 2] > 5 * cost[0]


def test_interleaved_rows_cover_each_row_once():
    parts = mandelbrot.interleaved_rows(10, 3)
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))
    assert len(mandelbrot.interleaved_rows(2, 8)) == 2


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_mandelbrot_plan_tasks_work_in_batches_of_rows(workers, monkeypatch):
    # A task's arrays must not grow with its size: with all its rows at once, fewer
    # workers meant larger tasks whose temporaries left the caches, and one worker's
    # plan took a third longer in all than two workers' (a self-efficiency of 1.3).
    from kernels.problems.plans import mandelbrot_plan

    sizes, escape_counts = [], mandelbrot.escape_counts

    def recorded(cr, ci, max_iter):
        sizes.append(cr.size)
        return escape_counts(cr, ci, max_iter)

    monkeypatch.setattr(mandelbrot, "escape_counts", recorded)
    width, height = 50, 400
    plan = mandelbrot_plan(workers, width, height, 30, "numpy")
    image = plan.combine([plan.func(task) for task in plan.tasks])
    np.testing.assert_array_equal(image, mandelbrot.reference(width, height, 30))
    assert max(sizes) == mandelbrot.BATCH_ROWS * width < height // (4 * workers) * width


def test_monte_carlo_chunks_follow_seedsequence_spawn():
    children = np.random.SeedSequence(5).spawn(3)
    x_spec = np.random.default_rng(children[2]).random(10)
    x, _ = monte_carlo_pi.chunk_points(2 * monte_carlo_pi.CHUNK_SAMPLES + 10, 5, 2)
    assert np.array_equal(x, x_spec)


def test_monte_carlo_estimate_is_close_to_pi():
    samples = 2_000_000
    estimate = kernels.reference("monte_carlo_pi", samples=samples, seed=11)
    assert abs(estimate - math.pi) < 6 * monte_carlo_pi.standard_error(samples)


@settings(max_examples=25, deadline=None)
@given(samples=st.integers(1, 700_000), tasks=st.integers(1, 16))
def test_monte_carlo_chunk_groups_partition_the_chunks(samples, tasks):
    groups = monte_carlo_pi.chunk_groups(samples, tasks)
    assert [k for g in groups for k in g] == list(range(monte_carlo_pi.n_chunks(samples)))
    sizes = [monte_carlo_pi.chunk_size(samples, k) for g in groups for k in g]
    assert sum(sizes) == samples


def test_heat_initial_condition_and_boundary():
    u0 = heat.initial(8)
    assert u0.sum() == 16.0 and u0[2:6, 2:6].min() == 1.0
    u = kernels.reference("heat", n=16, steps=20)
    assert (
        np.all(u[0] == 0) and np.all(u[-1] == 0) and np.all(u[:, 0] == 0) and np.all(u[:, -1] == 0)
    )


def test_heat_is_symmetric_and_obeys_the_maximum_principle():
    u = kernels.reference("heat", n=21, steps=30)
    assert np.array_equal(u, u.T)  # the update is symmetric bit for bit
    assert 0.0 <= u.min() and u.max() <= 1.0
    assert u.sum() < heat.initial(21).sum()  # heat leaves through the cold boundary


def test_heat_python_and_numpy_agree_bit_for_bit():
    assert np.array_equal(heat.solve_python(13, 9), heat.reference(13, 9))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(3, 200), blocks=st.integers(1, 12))
def test_heat_row_blocks_partition_the_interior(n, blocks):
    parts = heat.row_blocks(n, blocks)
    assert parts[0][0] == 1 and parts[-1][1] == n - 1
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(4, 40), steps=st.integers(1, 12), top=st.booleans(),
       bottom=st.booleans())  # fmt: skip
def test_heat_advance_skips_only_stale_rows(rows, steps, top, bottom):
    # A slab of a 40 x 40 field: halos at the ends that are not the grid's edges. The
    # trapezoid advance must equal every-row stepping on the rows it keeps exact.
    n = 40
    a = 10 if top else 0
    b = min(n, a + rows) if bottom else n
    slab = heat.initial(n)[a:b]
    if top and bottom and b == n:
        bottom = False  # the slab reaches the grid's bottom edge
    src, dst = slab.copy(), slab.copy()
    for _ in range(steps):
        heat.step_rows(src, dst, 1, slab.shape[0] - 1)
        src, dst = dst, src
    got = heat.advance(slab, steps, top_halo=top, bottom_halo=bottom)
    lo = steps if top else 0
    hi = slab.shape[0] - steps if bottom else slab.shape[0]
    # (without a halo at an end, the rows next to that fixed row must update every step)
    assert np.array_equal(got[lo : max(lo, hi)], src[lo : max(lo, hi)])


def test_heat_scratch_buffers_are_kept_per_thread():
    from concurrent.futures import ThreadPoolExecutor

    mine = heat.scratch_buffers(4, 10)
    assert heat.scratch_buffers(4, 10)[0] is mine[0]  # kept, not allocated again
    with ThreadPoolExecutor(1) as pool:
        theirs = pool.submit(heat.scratch_buffers, 4, 10).result()
    assert theirs[0] is not mine[0] and theirs[1] is not mine[1]  # threads never share
    assert heat.scratch_buffers(5, 10)[0].shape == (5, 10)  # another size: new buffers


def test_heat_scratch_buffers_pickle_as_new_empty_ones():
    # dill sends the module's dictionary with a notebook's closure (chapter 04's seed
    # sweep): the buffers must pickle, and not travel.
    import dill

    heat.scratch_buffers(4, 10)
    assert pickle.loads(pickle.dumps(heat._SCRATCH)).buffers is None
    assert dill.loads(dill.dumps(heat)) is heat
