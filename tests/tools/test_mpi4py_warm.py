"""Warm MPI ranks: started once, reused by every launch of their size, stopped after."""

from __future__ import annotations

import contextlib
import subprocess
import time

import numpy as np
import psutil
import pytest

import kernels
from kernels.core import mpich_leftovers, sizes
from kernels.core.errors import RankFailedError
from kernels.core.registry import get_problem
from kernels.mpi4py import launch as mpi_launch
from kernels.mpi4py import warm


def _mpiexecs() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):  # a zombie of an earlier test, say
            if child.status() != psutil.STATUS_ZOMBIE and child.name().startswith("mpiexec"):
                found.append(child)
    return found


def test_launches_reuse_the_warm_ranks_and_equal_the_reference():
    with warm.warm_ranks([2, 3]) as startup:
        assert set(startup) == {2, 3} and all(s > 0 for s in startup.values())
        running = {p.pid for p in _mpiexecs()}
        assert len(running) == 2
        for problem in kernels.problems():
            params = sizes.params(problem, "test")
            for ranks in (2, 3):
                for _ in range(2):
                    result = kernels.run(problem, "mpi", workers=ranks, **params)
                    expected = kernels.reference(problem, **params)
                    assert get_problem(problem).compare(result, expected, params, True) is None
        assert {p.pid for p in _mpiexecs()} == running  # no mpiexec started for a call
        cold = mpi_launch.launch("heat", 1, n=24, steps=5)  # another size: started anew
        assert cold.ranks == 1
    assert _mpiexecs() == [] and warm.lent(2) is None


def test_a_warm_launch_reports_compute_time_and_no_start_up():
    with warm.warm_ranks([2]):
        run = mpi_launch.launch("heat", 2, n=40, steps=30)
    np.testing.assert_array_equal(run.result, kernels.reference("heat", n=40, steps=30))
    assert 0 < run.compute_s <= run.wall_s


def test_a_failing_rank_names_itself_and_the_warm_ranks_are_dropped():
    before = mpich_leftovers.present()
    with warm.warm_ranks([2]):
        with pytest.raises(RankFailedError, match=r"MPI rank 1 of 2: ValueError: rank 1 was"):
            mpi_launch.launch("misbehave", 2, fail_rank=1)
        assert warm.lent(2) is None and _mpiexecs() == []
        # the failed ranks' shared memory and topology file are gone too
        assert not mpich_leftovers.present() - before
        assert mpi_launch.launch("misbehave", 2).result == 2  # a cold launch still works


def test_a_failing_warm_rank_is_named_when_its_output_is_lost(monkeypatch):
    real = warm.rank_failure

    def output_lost(completed, *args):  # as if mpiexec had stopped before forwarding it
        return real(subprocess.CompletedProcess([], completed.returncode, "", ""), *args)

    monkeypatch.setattr(warm, "rank_failure", output_lost)
    with warm.warm_ranks([2]):
        with pytest.raises(RankFailedError, match=r"MPI rank 1 of 2: ValueError: rank 1 was"):
            mpi_launch.launch("misbehave", 2, fail_rank=1)
        assert warm.lent(2) is None and _mpiexecs() == []


def test_a_stuck_rank_is_stopped_at_the_timeout():
    with warm.warm_ranks([2]):
        with pytest.raises(RankFailedError, match="did not finish within 3 s"):
            mpi_launch.launch("misbehave", 2, stuck_rank=1, timeout=3)
        assert warm.lent(2) is None and _mpiexecs() == []


def test_idle_warm_ranks_do_not_keep_the_cores_busy():
    with warm.warm_ranks([2]):
        ranks = [p for m in _mpiexecs() for p in m.children(recursive=True)
                 if "kernels.mpi4py.programs._server" in " ".join(p.cmdline())]  # fmt: skip
        assert len(ranks) == 2
        before = sum(sum(p.cpu_times()[:2]) for p in ranks)
        time.sleep(1.0)
        busy = sum(sum(p.cpu_times()[:2]) for p in ranks) - before
    # Two ranks polling in a blocking MPI call would use about 2 s of CPU in this second.
    assert busy < 0.5
