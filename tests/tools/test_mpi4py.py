"""The mpi backend and launcher with a real mpiexec: results, failures, timeouts, cleanup."""

from __future__ import annotations

import contextlib
import subprocess

import numpy as np
import pytest
from checker_cases import assert_checker_contract, case_id

import kernels
from kernels.core import machine, mpich_leftovers, registry, sizes
from kernels.core.errors import RankFailedError
from kernels.core.registry import get_problem
from kernels.core.timing import checksum
from kernels.mpi4py import checks, examples
from kernels.mpi4py import launch as mpi_launch
from kernels.mpi4py import warm as mpi_warm


@pytest.mark.parametrize("ranks", [1, 2, 4])
@pytest.mark.parametrize("problem", kernels.problems())
def test_mpi_backend_equals_the_reference(problem, ranks):
    params = sizes.params(problem, "test")
    result = kernels.run(problem, "mpi", workers=ranks, **params)
    expected = kernels.reference(problem, **params)
    assert get_problem(problem).compare(result, expected, params, True) is None


def test_launch_reports_compute_time_inside_the_ranks():
    run = mpi_launch.launch("heat", 2, n=40, steps=30)
    np.testing.assert_array_equal(run.result, kernels.reference("heat", n=40, steps=30))
    assert run.ranks == 2
    assert 0 < run.compute_s < run.wall_s
    assert run.startup_s == pytest.approx(run.wall_s - run.compute_s)


def test_a_failing_rank_fails_the_call_with_its_message():
    before = mpich_leftovers.present()
    with pytest.raises(kernels.RankFailedError, match=r"MPI rank 1 of 3: ValueError: rank 1 was"):
        mpi_launch.launch("misbehave", 3, fail_rank=1, timeout=300)
    # no shared memory left in /dev/shm, no topology file in /tmp
    assert not mpich_leftovers.present() - before


def test_a_stuck_rank_is_stopped_at_the_timeout_with_all_the_others():
    # The conftest fixture checks that mpiexec, its proxy and every rank are gone after;
    # here, that the killed ranks' shared memory is gone from /dev/shm too, and hydra's
    # topology file from /tmp.
    before = mpich_leftovers.present()
    with pytest.raises(kernels.RankFailedError, match="did not finish within 3 s"):
        mpi_launch.launch("misbehave", 2, stuck_rank=1, timeout=3)
    assert not mpich_leftovers.present() - before


def test_misbehave_program_completes_when_told_nothing():
    assert mpi_launch.launch("misbehave", 2).result == 2


def test_without_mpiexec_the_backend_is_left_out_and_says_how_to_install(monkeypatch):
    real = registry.find_command
    monkeypatch.setattr(
        registry, "find_command", lambda name: None if name == "mpiexec" else real(name)
    )
    monkeypatch.setattr(machine, "find_mpiexec", lambda: None)
    assert "mpi" not in kernels.backends("heat")
    assert "parallel-python-kernels[mpi]" in kernels.unavailable("heat")["mpi"]
    with pytest.raises(
        kernels.BackendUnavailableError, match=r"pip install 'parallel-python-kernels\[mpi\]'"
    ):
        kernels.run("heat", "mpi", workers=2)
    assert "pip install mpich mpi4py" in machine.mpi_status()


def test_bad_rank_counts_are_refused():
    with pytest.raises(ValueError, match="ranks must be an int >= 1, got 0"):
        mpi_launch.launch("heat", 0, n=5, steps=1)


def test_run_script_labels_each_line_with_its_rank(tmp_path):
    script = tmp_path / "hello.py"
    script.write_text(
        "from mpi4py import MPI\n"
        "comm = MPI.COMM_WORLD\n"
        "print(f'hello from {comm.rank} of {comm.size}')\n"
    )
    output = mpi_launch.sorted_by_rank(mpi_launch.run_script(script, 3))
    assert output.splitlines() == [f"[{r}] hello from {r} of 3" for r in range(3)]


def test_run_script_raises_with_the_output_of_a_failing_script(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("from mpi4py import MPI\nif MPI.COMM_WORLD.rank == 1:\n    1 / 0\n"
                      "MPI.COMM_WORLD.Barrier()\n")  # fmt: skip
    before = mpich_leftovers.present()
    with pytest.raises(kernels.RankFailedError, match="(?s)broken.py failed on 2 ranks.*Zero"):
        mpi_launch.run_script(script, 2, timeout=120)
    assert not mpich_leftovers.present() - before


def test_run_function_sends_a_closure_to_every_rank():
    factor = 10

    def scaled_rank(comm, offset):
        return comm.rank * factor + offset

    assert mpi_launch.run_function(scaled_rank, 3, 1) == [1, 11, 21]


def test_measure_separates_compute_from_start_up():
    df = mpi_launch.measure("monte_carlo_pi", [1, 2], repeat=1, samples=200_000, seed=3)
    assert df["workers"].tolist() == [1, 2]
    assert (df["median_s"] > 0).all() and (df["startup_s"] > 0).all()
    assert (df["wall_s"] > df["median_s"]).all()
    assert df["self_speedup"].iloc[0] == 1.0
    assert df["checksum"].nunique() == 1  # the same estimate on 1 and 2 ranks


def test_measure_problems_serves_every_problem_from_one_start_per_rank_count():
    problems = {"monte_carlo_pi": {"samples": 200_000, "seed": 3}, "heat": {"n": 48, "steps": 6}}
    tables = mpi_launch.measure_problems(problems, [1, 2], repeat=1)
    assert list(tables) == ["monte_carlo_pi", "heat"]
    pi, heat = tables.values()
    assert pi["problem"].eq("monte_carlo_pi").all() and heat["problem"].eq("heat").all()
    # One set of ranks per count ran both problems: the same start-up in both tables.
    assert pi["startup_s"].tolist() == heat["startup_s"].tolist()
    assert heat["checksum"].nunique() == 1
    assert heat["checksum"].iloc[0] == checksum(kernels.reference("heat", n=48, steps=6))


def test_measure_problems_warms_each_problem_up_at_its_quick_sizes(monkeypatch):
    """One uncounted run per problem and visit, at the quick sizes; then the timed runs.

    The counts are visited there and back, half the runs each time, each visit on ranks
    of its own: the rows' times are all their count's runs, and their start-up the
    median of their count's.
    """
    calls, starts = [], iter([0.2, 0.3, 0.5, 0.4])

    @contextlib.contextmanager
    def started(counts):
        calls.append(("start", counts))
        yield {count: next(starts) for count in counts}

    def launched(problem, ranks, **params):
        calls.append((problem, ranks, params))
        return mpi_launch.MPIRun(np.zeros(2), 0.5 + 0.1 * len(calls), 0.6, ranks)

    monkeypatch.setattr(mpi_warm, "warm_ranks", started)
    monkeypatch.setattr(mpi_launch, "launch", launched)
    heat = {"n": 512, "steps": 40}
    df = mpi_launch.measure_problems({"heat": heat}, [1, 2], repeat=4)["heat"]
    quick = sizes.params("heat", "quick")
    visit = [("heat", None, quick), ("heat", None, heat), ("heat", None, heat)]
    expected = [[("start", [n]), *[(p, n, q) for p, _, q in visit]] for n in (1, 2, 2, 1)]
    assert calls == [call for calls_of_visit in expected for call in calls_of_visit]
    # a run takes 0.5 s + 0.1 s per call so far: 1 rank's runs are calls 3, 4, 15 and 16
    assert df["seconds"].tolist() == [pytest.approx([0.8, 0.9, 2.0, 2.1]),
                                      pytest.approx([1.2, 1.3, 1.6, 1.7])]  # fmt: skip
    assert df["startup_s"].tolist() == pytest.approx([0.3, 0.4])


def test_visits_go_there_and_back_only_with_runs_to_share():
    assert mpi_launch.visits([1, 2, 4], 3) == [(1, 2), (2, 2), (4, 2), (4, 1), (2, 1), (1, 1)]
    assert mpi_launch.visits([2, 1, 2], 2) == [(2, 1), (1, 1), (1, 1), (2, 1)]
    assert mpi_launch.visits([1, 2], 1) == [(1, 1), (2, 1)]


def from_notebook(func):
    """Make ``func`` travel by value, as a function defined in a notebook cell does.

    (This test module is not importable on the ranks; ``__main__`` functions are sent
    whole by dill.)
    """
    func.__module__ = "__main__"
    return func


@from_notebook
def swap(comm, n):
    partner = comm.rank ^ 1
    theirs = np.empty(n)
    comm.Sendrecv(np.full(n, float(comm.rank)), dest=partner, recvbuf=theirs, source=partner)
    return theirs


@from_notebook
def swap_deadlocks(comm, n):
    partner = comm.rank ^ 1
    theirs = np.empty(n)
    comm.Send(np.full(n, float(comm.rank)), dest=partner)
    comm.Recv(theirs, source=partner)
    return theirs


@from_notebook
def gather_rows(comm, width):
    from mpi4py import MPI  # noqa: F401  (what a learner's cell would have imported)

    mine = np.full((comm.rank + 1, width), float(comm.rank))
    counts = [(r + 1) * width for r in range(comm.size)]
    out = np.empty(sum(counts)) if comm.rank == 0 else None
    comm.Gatherv(mine.ravel(), (out, counts) if comm.rank == 0 else None, root=0)
    return out.reshape(-1, width) if comm.rank == 0 else None


@from_notebook
def gather_rows_with_a_loop(comm, width):
    mine = np.full((comm.rank + 1, width), float(comm.rank))
    rows = comm.gather(mine, root=0)  # pickled objects, one per rank
    return np.concatenate(rows) if comm.rank == 0 else None


@from_notebook
def pi_allreduce(comm, samples, seed):
    from kernels.problems import monte_carlo_pi as mc

    chunks = range(comm.rank, mc.n_chunks(samples), comm.size)
    return mc.estimate(comm.allreduce(mc.hits_numpy(chunks, samples, seed)), samples)


@from_notebook
def pi_on_rank_zero_only(comm, samples, seed):
    value = pi_allreduce(comm, samples, seed)
    return value if comm.rank == 0 else None


@pytest.fixture
def quick_deadlock_detection(monkeypatch):

    monkeypatch.setattr(checks, "SWAP_TIMEOUT", 5.0)


@from_notebook
def swap_without_sending(comm, n):  # the partner's numbers made up, not received
    return np.full(n, float(comm.rank ^ 1))


@from_notebook
def gather_rows_with_receives(comm, width):  # the loop of the exercise, unchanged
    mine = np.full((comm.rank + 1, width), float(comm.rank))
    if comm.rank != 0:
        comm.Send(mine, dest=0)
        return None
    rows = [mine]
    for r in range(1, comm.size):
        theirs = np.empty((r + 1, width))
        comm.Recv(theirs, source=r)
        rows.append(theirs)
    return np.concatenate(rows)


@from_notebook
def gather_rows_naming_gatherv(comm, width):
    # comm.Gatherv would be faster here; a gather of objects does the job.
    return gather_rows_with_a_loop(comm, width)


@from_notebook
def gather_rows_counts_off_by_one(comm, width):
    mine = np.full((comm.rank + 1, width), float(comm.rank))
    counts = [r * width for r in range(comm.size)]
    out = np.empty(sum(counts)) if comm.rank == 0 else None
    comm.Gatherv(mine.ravel(), (out, counts) if comm.rank == 0 else None, root=0)
    return out.reshape(-1, width) if comm.rank == 0 else None


@from_notebook
def pi_by_broadcast(comm, samples, seed):  # rank 0 does all the work
    from kernels.problems import monte_carlo_pi as mc

    value = None
    if comm.rank == 0:
        value = mc.estimate(mc.hits_numpy(range(mc.n_chunks(samples)), samples, seed), samples)
    return comm.bcast(value, root=0)


@from_notebook
def pi_every_rank_everything(comm, samples, seed):  # the chunks counted size times
    from kernels.problems import monte_carlo_pi as mc

    hits = comm.allreduce(mc.hits_numpy(range(mc.n_chunks(samples)), samples, seed))
    return mc.estimate(hits, samples)


CASES = [
    (checks.check_swap, swap, [swap_deadlocks, from_notebook(lambda comm, n: np.zeros(n)),
                               swap_without_sending]),
    (checks.check_gatherv, gather_rows, [gather_rows_with_a_loop, gather_rows_with_receives,
                                         gather_rows_naming_gatherv,
                                         gather_rows_counts_off_by_one]),
    (checks.check_allreduce_pi, pi_allreduce, [pi_on_rank_zero_only, pi_by_broadcast,
                                               pi_every_rank_everything]),
]  # fmt: skip


@pytest.mark.parametrize(("check", "right", "wrongs"), CASES, ids=case_id)
def test_checkers_pass_right_and_fail_wrong_answers(check, right, wrongs, quick_deadlock_detection):
    assert_checker_contract(check, right, wrongs)


def test_swap_checker_names_the_deadlock(quick_deadlock_detection):
    assert "a deadlock" in checks.check_swap(swap_deadlocks).message


@from_notebook
def _post(comm, u, up, down):
    return [comm.Irecv(u[0], source=up), comm.Irecv(u[-1], source=down),
            comm.Isend(u[1], dest=up), comm.Isend(u[-2], dest=down)]  # fmt: skip


@from_notebook
def overlapped(comm, u, new, up, down, step):
    from mpi4py import MPI

    m = len(u) - 2
    requests = _post(comm, u, up, down)
    step(u, new, 2, m)
    MPI.Request.Waitall(requests)
    step(u, new, 1, 2)
    if m > 1:
        step(u, new, m, m + 1)


@from_notebook
def blocking_exchange(comm, u, new, up, down, step):
    comm.Sendrecv(u[1], dest=up, recvbuf=u[-1], source=down)
    comm.Sendrecv(u[-2], dest=down, recvbuf=u[0], source=up)
    step(u, new, 1, len(u) - 1)


@from_notebook
def waits_before_computing(comm, u, new, up, down, step):
    from mpi4py import MPI

    MPI.Request.Waitall(_post(comm, u, up, down))
    step(u, new, 1, len(u) - 1)


@from_notebook
def every_row_before_the_halos(comm, u, new, up, down, step):
    from mpi4py import MPI

    requests = _post(comm, u, up, down)
    step(u, new, 1, len(u) - 1)
    MPI.Request.Waitall(requests)


@from_notebook
def never_waits(comm, u, new, up, down, step):
    m = len(u) - 2
    _post(comm, u, up, down)
    step(u, new, 2, m)
    step(u, new, 1, 2)
    if m > 1:
        step(u, new, m, m + 1)


def test_overlapped_step_checker():
    assert_checker_contract(checks.check_overlapped_step, overlapped,
                            [blocking_exchange, waits_before_computing,
                             every_row_before_the_halos, never_waits])  # fmt: skip


@pytest.mark.parametrize("ranks", [1, 2, 3, 4])
def test_the_overlapping_program_is_the_reference_bit_for_bit(ranks):
    params = sizes.params("heat", "test")
    got = mpi_launch.launch("heat_overlap", ranks, **params).result
    assert np.array_equal(got, kernels.reference("heat", **params))


@pytest.mark.parametrize(("ranks", "dims"), [(1, [1, 1]), (2, [2, 1]), (4, [2, 2]), (6, [3, 2])])
def test_the_cartesian_stencil_is_the_reference_on_every_grid_of_ranks(ranks, dims):
    params = {"n": 23, "steps": 9}
    got = mpi_launch.launch("heat_cart", ranks, **params).result
    assert got["dims"] == dims
    assert np.array_equal(got["field"], kernels.reference("heat", **params))


def test_the_cartesian_stencil_refuses_too_many_ranks_for_the_grid():
    with pytest.raises(RankFailedError, match=r"a 2 x 2 grid of ranks needs n >= 4, got n=3"):
        mpi_launch.launch("heat_cart", 4, n=3, steps=1)


def test_a_failing_rank_is_named_when_mpiexec_loses_the_ranks_output(monkeypatch):
    """Ranks aborting at once can stop ``mpiexec`` before their error output reaches it
    (a test run once got "mpiexec exited with code 1" and nothing else); they also
    write their error into the run's folder, which names them still."""
    real = mpi_launch.run_command

    def output_lost(*args, **kwargs):
        done = real(*args, **kwargs)
        return subprocess.CompletedProcess(done.args, done.returncode, "", "")

    monkeypatch.setattr(mpi_launch, "run_command", output_lost)
    with pytest.raises(RankFailedError, match=r"MPI rank \d of 4: ValueError: a 2 x 2 grid"):
        mpi_launch.launch("heat_cart", 4, n=3, steps=1)


def test_rank_failure_names_the_lowest_rank_that_wrote_its_error(tmp_path):
    from kernels.mpi4py.commands import rank_failure
    from kernels.mpi4py.programs._program import ERROR_MARK

    for rank in (10, 2):
        (tmp_path / f"rank-{rank}.txt").write_text(f"{ERROR_MARK} rank {rank} of 12: E: {rank}\n")
    lost = subprocess.CompletedProcess([], 1, "", "")
    assert str(rank_failure(lost, tmp_path)) == "MPI rank 2 of 12: E: 2"
    assert str(rank_failure(lost)) == "mpiexec exited with code 1:\n"  # nothing to name


def test_split_makes_one_communicator_per_row_of_ranks():
    out = mpi_launch.run_script(examples.path("split"), 4)
    assert "rank 1 of 2 in row 0, whose world ranks sum to 1" in out
    assert "rank 0 of 2 in row 1, whose world ranks sum to 5" in out
