"""A real SLURM (Debian's slurmctld, slurmd and munge) on this machine, and the book's jobs.

The jobs are the files the cluster page shows (``book/slurm``); each is submitted as a
reader would submit it and must end well with a result equal to the reference. The
page shows transcripts recorded on the reference machine: they must show what the jobs
print now.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import psutil
import pytest
from conftest import require, require_slurm

from kernels.core import machine, mpich_leftovers
from kernels.core import slurm as slurm_module
from kernels.core.slurm import SingleNodeSlurm
from kernels.frontends import slurm_jobs

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def slurm():
    require_slurm()
    with SingleNodeSlurm() as running:
        yield running


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """A copy of the book's jobs, as a reader has them in a folder of their own."""
    folder = tmp_path_factory.mktemp("jobs")
    shutil.copytree(slurm_jobs.FOLDER, folder, ignore=shutil.ignore_patterns("outputs"),
                    dirs_exist_ok=True)  # fmt: skip
    return folder


@pytest.mark.parametrize("job", slurm_jobs.JOBS, ids=lambda job: job.name)
def test_book_job_runs_and_equals_the_reference(slurm, jobs, job):
    transcript = slurm_jobs.run_job(slurm, job, jobs)
    assert slurm_jobs.missing(job, transcript) == [], transcript


@pytest.mark.parametrize("job", slurm_jobs.JOBS, ids=lambda job: job.name)
def test_recorded_transcript_shows_what_the_job_prints(job):
    """The page's transcripts pass the same checks, and show each script being run."""
    text = (slurm_jobs.RECORDED / f"{job.name}.out").read_text()
    assert slurm_jobs.missing(job, text) == []
    assert all(script in text for script in job.scripts)


def test_missing_names_what_a_transcript_lacks():
    heat = next(job for job in slurm_jobs.JOBS if job.name == "heat_mpi")
    text = (slurm_jobs.RECORDED / "heat_mpi.out").read_text()
    wrong = text.replace("equal to the reference: True", "equal to the reference: False")
    assert slurm_jobs.missing(heat, wrong) == [r"equal to the reference: True"]


class _Queue:
    """A stand-in for ``squeue``: prints each of ``listings`` in turn, then the last."""

    def __init__(self, *listings):
        self.listings = list(listings)

    def command(self, *args, **kwargs):
        return self.listings.pop(0) if len(self.listings) > 1 else self.listings[0]


def test_jobs_left_waits_for_cancelled_jobs_and_reports_the_others():
    jobs_left = SingleNodeSlurm.jobs_left  # on a stand-in queue, no SLURM started
    finishing = "10 dask-worker COMPLETING\n11 dask-worker COMPLETING"
    assert jobs_left(_Queue(finishing, "10 dask-worker COMPLETING", "")) == ""
    running = "10 dask-worker RUNNING\n11 dask-worker COMPLETING"
    assert jobs_left(_Queue(running, "")) == running  # not cancelled: at once
    stuck = _Queue("10 dask-worker COMPLETING")
    assert jobs_left(stuck, settle=0.5) == "10 dask-worker COMPLETING"


def test_a_failing_rank_fails_the_job_with_its_error(slurm, tmp_path):
    (tmp_path / "broken.sbatch").write_text(
        "#!/bin/bash\n#SBATCH --ntasks=2\n#SBATCH --output=broken-%j.out\n"
        'mpiexec -n $SLURM_NTASKS python -m mpi4py -c "from mpi4py import MPI\n'
        "if MPI.COMM_WORLD.rank == 1: raise ValueError('rank 1 broke')\n"
        'MPI.COMM_WORLD.Barrier()"\n'
    )
    before = mpich_leftovers.present()
    job = slurm.submit("broken.sbatch", cwd=tmp_path, env=slurm_jobs.job_environment(slurm))
    assert slurm.wait(job, timeout=120) == {str(job): "FAILED"}
    assert "ValueError: rank 1 broke" in (tmp_path / f"broken-{job}.out").read_text()
    # Rank 0, killed, left its shared memory, and hydra its topology file; the job's
    # epilog removes both (soon after the job's state says it ended).
    deadline = time.monotonic() + 15
    while mpich_leftovers.present() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not mpich_leftovers.present() - before


def test_a_job_s_cpus_are_the_default_worker_count(slurm, tmp_path):
    """With the affinity mask widened again (taskset), SLURM's variables still count."""
    one_core = "a 1-core machine cannot tell the allocation from the machine"
    require(one_core if machine.usable_cores() < 2 else None, "this test needs 2 cores")
    (tmp_path / "cores.sbatch").write_text(
        "#!/bin/bash\n#SBATCH --cpus-per-task=1\n#SBATCH --output=cores-%j.out\n"
        f"taskset -c 0-{machine.usable_cores() - 1} "
        'python -c "import os; from kernels.core import machine\n'
        'print(len(os.sched_getaffinity(0)), machine.usable_cores())"\n'
    )
    job = slurm.submit("cores.sbatch", cwd=tmp_path, env=slurm_jobs.job_environment(slurm))
    assert slurm.wait(job, timeout=60) == {str(job): "COMPLETED"}
    mask, usable = map(int, (tmp_path / f"cores-{job}.out").read_text().split())
    assert (mask, usable) == (machine.usable_cores(), 1)


def test_slurm_stops_its_daemons_and_jobs_and_removes_its_folder(tmp_path):
    require_slurm()
    (tmp_path / "long.sbatch").write_text("#!/bin/bash\nsleep 417\n")
    with SingleNodeSlurm() as running:
        daemons, folder = list(running._daemons), running.folder
        job = running.submit("long.sbatch", cwd=tmp_path)
        deadline = time.monotonic() + 30
        while running.state(job).get(str(job)) != "RUNNING":
            assert time.monotonic() < deadline, running.state(job)
            time.sleep(0.2)
    assert len(daemons) == 3 and not any(psutil.pid_exists(pid) for pid in daemons)
    assert not folder.exists()
    sleeping = [
        p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "417"]
    ]
    assert sleeping == []


def test_slurm_stops_a_job_process_that_outlived_its_job_and_nothing_else():
    require_slurm()
    with SingleNodeSlurm() as running:
        env = running.environment
        # A job's process that slurmd lost, and a shell that only submits to this SLURM.
        lost = subprocess.Popen(["sleep", "419"], env={**env, "SLURM_JOB_ID": "7"})
        submitter = subprocess.Popen(["sleep", "421"], env=env)
        assert lost.pid in running.job_processes()
        assert submitter.pid not in running.job_processes()
    try:
        assert lost.wait(timeout=5) is not None
        assert submitter.poll() is None
    finally:
        submitter.kill()
        submitter.wait()


def test_unavailable_says_what_to_install_or_that_root_is_needed(monkeypatch):
    monkeypatch.setattr(slurm_module, "_program", lambda name: f"/nowhere/{name}")
    assert "apt install munge slurm-client slurmctld slurmd" in slurm_module.slurm_unavailable()
    with pytest.raises(slurm_module.SlurmUnavailable, match="apt install"):
        SingleNodeSlurm().__enter__()
    monkeypatch.setattr(slurm_module, "_program", lambda name: "/bin/sh")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "root" in slurm_module.slurm_unavailable()


def test_command_line_keeps_slurm_up_and_stops_it(capsys):
    require_slurm()
    from argparse import Namespace

    from kernels.frontends import cli

    seen = []

    def wait():  # while "up": the printed SLURM_CONF works for sinfo
        conf = capsys.readouterr().out.split("export SLURM_CONF=")[1].split()[0]
        out = subprocess.run(["sinfo", "-h", "-o", "%P %D"], env={**os.environ, "SLURM_CONF": conf},
                             capture_output=True, text=True)  # fmt: skip
        seen.append(out.stdout.strip())

    assert cli._slurm(Namespace(action="up", record=None), wait=wait) == 0
    assert seen == ["book* 1"]
    assert "stopped" in capsys.readouterr().out
