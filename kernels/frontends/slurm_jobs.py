"""The book's batch jobs (``book/slurm``), submitted to a real SLURM and checked.

Each job is run as a reader would run it, from a copy of the folder: ``sbatch`` (or, for
dask-jobqueue, ``python`` on the login node), then the output files are read. The
result is a transcript (commands and what they printed) that the book's cluster page
shows, recorded on the reference machine by ``python -m kernels slurm jobs --record``,
and a list of what it lacks: every job must end well and say its result equals the
reference.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..core.slurm import SingleNodeSlurm

FOLDER = Path(__file__).resolve().parents[2] / "book" / "slurm"
RECORDED = FOLDER / "outputs"


@dataclass(frozen=True)
class BookJob:
    """One of the book's jobs: how it is submitted and what its transcript must show."""

    name: str
    scripts: tuple[str, ...]  # submitted in turn, each after the one before succeeds
    expected: tuple[str, ...]  # regular expressions the transcript must match
    login_node: bool = False  # run with python where sbatch is typed, not submitted


JOBS = (
    BookJob("heat_mpi", ("heat_mpi.sbatch",),
            (r"rank 0 of 2 on .*, cores \[\d+\]\n", r"rank 1 of 2 on .*, cores \[\d+\]\n",
             r"equal to the reference: True")),
    BookJob("threads", ("threads.sbatch",),
            (r"SLURM_CPUS_PER_TASK=2, cores \[0, 1\] of \d+: 2 workers",
             r"numba-parallel on 2 threads: .*equal to the reference: True",
             r"cython-parallel on 2 threads: .*equal to the reference: True")),
    BookJob("bands", ("bands.sbatch", "assemble.sbatch"),
            (*(rf"task {k} of 4 \(job \d+\): rows " for k in range(4)),
             r"assembled 4 bands: image \(400, 600\), equal to the reference: True")),
    BookJob("dask_mpi", ("dask_mpi.sbatch",),
            (r"client on rank 1, 2 workers connected",
             r"equal to the reference: True")),
    BookJob("dask_jobqueue", ("dask_jobqueue_cluster.py",),
            (r"#SBATCH -p book", r"dask_worker tcp://", r"2 worker jobs connected",
             r"equal to the reference: True", r"its jobs are cancelled"),
            login_node=True),
)  # fmt: skip


def job_environment(slurm: SingleNodeSlurm) -> dict[str, str]:
    """SLURM's configuration, and this Python's environment first on ``PATH``."""
    env = slurm.environment
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _output_files(folder: Path, job_id: int) -> list[Path]:
    pattern = re.compile(rf"-{job_id}(_\d+)?\.out$")
    found = [f for f in folder.glob("*.out") if pattern.search(f.name)]
    return sorted(found, key=lambda f: [int(n) for n in re.findall(r"\d+", f.name)])


def run_job(slurm: SingleNodeSlurm, job: BookJob, folder: Path, timeout: float = 180.0) -> str:
    """Run ``job`` from ``folder`` (a copy of the book's jobs); its transcript.

    Raises ``RuntimeError`` naming the job and its final states if a part did not end
    ``COMPLETED``, with the transcript so far.
    """
    env, lines = job_environment(slurm), []
    if job.login_node:
        (script,) = job.scripts
        out = subprocess.run([sys.executable, script], cwd=folder, env=env, capture_output=True,
                             text=True, timeout=timeout)  # fmt: skip
        lines += [f"$ python {script}", out.stdout.rstrip()]
        if out.returncode != 0:
            raise RuntimeError(f"{job.name}: python {script} exited {out.returncode}:\n"
                               f"{out.stdout}{out.stderr}")  # fmt: skip
        left = slurm.jobs_left()
        if left:
            raise RuntimeError(f"{job.name}: jobs left in the queue after it ended:\n{left}")
        return "\n".join(lines) + "\n"
    previous = None
    for script in job.scripts:
        options = [f"--dependency=afterok:{previous}"] if previous is not None else []
        job_id = slurm.submit(script, *options, cwd=folder, env=env)
        lines.append(f"$ sbatch {' '.join([*options, script])}")
        lines.append(f"Submitted batch job {job_id}")
        states = slurm.wait(job_id, timeout=timeout)
        files = _output_files(folder, job_id)
        lines.append(f"$ cat {' '.join(f.name for f in files)}")
        lines += [f.read_text().rstrip() for f in files]
        if any(state != "COMPLETED" for state in states.values()):
            transcript = "\n".join(lines)
            raise RuntimeError(f"{job.name}: {script} ended {states}:\n{transcript}")
        previous = job_id
    return "\n".join(lines) + "\n"


def missing(job: BookJob, transcript: str) -> list[str]:
    """The expected lines (as patterns) that ``transcript`` lacks."""
    return [pattern for pattern in job.expected if not re.search(pattern, transcript)]


def run_book_jobs(work: Path, record: Path | None = None) -> dict[str, str]:
    """Start a single-node SLURM, run every job from a copy of the book's jobs in ``work``.

    Returns each job's transcript; with ``record``, writes them there as ``NAME.out``.
    """
    shutil.copytree(FOLDER, work, ignore=shutil.ignore_patterns("outputs"), dirs_exist_ok=True)
    transcripts = {}
    with SingleNodeSlurm() as slurm:
        for job in JOBS:
            transcripts[job.name] = run_job(slurm, job, work)
            lacking = missing(job, transcripts[job.name])
            if lacking:
                raise RuntimeError(f"{job.name}: the output lacks {lacking}:\n"
                                   f"{transcripts[job.name]}")  # fmt: skip
    if record is not None:
        record.mkdir(parents=True, exist_ok=True)
        for name, text in transcripts.items():
            (record / f"{name}.out").write_text(text)
    return transcripts
