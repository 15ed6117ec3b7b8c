"""A real SLURM on this machine: one node, one partition, started and stopped by Python.

Debian's ``slurmctld`` and ``slurmd`` (packages ``slurmctld``, ``slurmd``,
``slurm-client``) and ``munged`` (``munge``) run as root, each with its configuration,
state, logs and sockets in a private folder and on free ports, so nothing of the
machine's own SLURM or munge (if any) is touched. The node is this machine with the
cores this process may use (:func:`kernels.core.machine.usable_cores`); the partition
``book`` holds it. Jobs go in with the ordinary ``sbatch``, ``srun`` and ``squeue``
(their environment needs ``SLURM_CONF``: :attr:`SingleNodeSlurm.environment`).

Examples
--------
The command line keeps SLURM up until interrupted (``python -m kernels slurm up``);
from Python::

    with SingleNodeSlurm() as slurm:
        job = slurm.submit("job.sbatch")
        print(slurm.wait(job))        # "COMPLETED"
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from . import machine, mpich_leftovers
from .subprocesses import stop_pids

# What each daemon is, and the Debian package it comes in.
PROGRAMS = {"slurmctld": "slurmctld", "slurmd": "slurmd", "sbatch": "slurm-client",
            "munged": "munge"}  # fmt: skip
PARTITION = "book"
NODE = "book-node"
# A job's prolog and epilog, as sites use them to clean a node between jobs: what MPICH
# left that the job made is removed when the job ends, by kernels/core/mpich_leftovers.py
# run as a script (it imports only psutil: the job ends at once): shared-memory segments
# in /dev/shm that no process still maps (ranks killed when another failed leave theirs,
# 1-4 MB each) and hydra's topology files in /tmp (left after a rank failed).
# Both always exit 0: a failing prolog or epilog would take the node out of service.
PROLOG = """#!/bin/sh
ls /dev/shm /tmp > "{folder}/before-$SLURM_JOB_ID" 2>/dev/null
exit 0
"""
EPILOG = """#!/bin/sh
"{python}" "{leftovers}" "{folder}/before-$SLURM_JOB_ID" >/dev/null 2>&1
rm -f "{folder}/before-$SLURM_JOB_ID"
exit 0
"""
# Job states that end a job (squeue stops listing it, sacct is not configured).
ENDED = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL",
         "PREEMPTED", "BOOT_FAIL", "DEADLINE")  # fmt: skip


def _program(name: str) -> str:
    """The program's path: daemons live in /usr/sbin, often not on a user's PATH."""
    return shutil.which(name) or str(Path("/usr/sbin", name))


class SlurmUnavailable(RuntimeError):
    """A single-node SLURM cannot be started here (not root, or a package missing)."""


def slurm_unavailable() -> str | None:
    """Why a single-node SLURM cannot be started here, or ``None`` when it can."""
    if not os.sys.platform.startswith("linux"):
        return "SLURM runs on Linux"
    missing = sorted(
        {package for program, package in PROGRAMS.items() if not Path(_program(program)).exists()}
    )
    if missing:
        return f"SLURM is not installed: apt install {' '.join(missing)}"
    if os.geteuid() != 0:
        return ("slurmd must run as root to start jobs: run as root (CI does), or read the "
                "outputs shown on the page")  # fmt: skip
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mib() -> int:
    return max(512, psutil.virtual_memory().total // 2**20 - 1024)


class SingleNodeSlurm:
    """Start ``munged``, ``slurmctld`` and ``slurmd`` on entry; stop them, and their jobs, on exit.

    Parameters
    ----------
    cpus : int, optional
        The node's CPUs; by default the cores this process may use.
    timeout : float
        Seconds to wait for the node to come up before :class:`SlurmUnavailable`.

    Attributes
    ----------
    folder : Path
        Configuration (``slurm.conf``), state, spool and logs.
    environment : dict
        This process's environment with ``SLURM_CONF`` set: for ``sbatch`` and friends.
    """

    def __init__(self, cpus: int | None = None, timeout: float = 30.0):
        self.cpus = cpus or machine.usable_cores()
        self.timeout = timeout
        self.folder: Path | None = None
        self._temporary = None
        self._daemons: list[int] = []

    def __enter__(self) -> SingleNodeSlurm:
        reason = slurm_unavailable()
        if reason is not None:
            raise SlurmUnavailable(reason)
        self._temporary = tempfile.TemporaryDirectory(prefix="kernels-slurm-")
        self.folder = Path(self._temporary.name)
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    @property
    def conf(self) -> Path:
        return self.folder / "slurm.conf"

    @property
    def environment(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def _write_conf(self) -> None:
        f = self.folder
        for sub in ("state", "spool"):
            (f / sub).mkdir()
        (f / "plugstack.conf").write_text("")
        for name, script in (("prolog", PROLOG), ("epilog", EPILOG)):
            (f / f"{name}.sh").write_text(
                script.format(folder=f, python=sys.executable, leftovers=mpich_leftovers.__file__)
            )
            (f / f"{name}.sh").chmod(0o755)
        host = socket.gethostname().split(".")[0]
        lines = {
            "ClusterName": "book",
            "SlurmctldHost": f"{host}(127.0.0.1)",
            "SlurmctldPort": _free_port(),
            "SlurmdPort": _free_port(),
            "SlurmUser": "root",
            "SlurmdUser": "root",
            "AuthType": "auth/munge",
            "CredType": "cred/munge",
            "AuthInfo": f"socket={f / 'munge.socket'}",
            "StateSaveLocation": f / "state",
            "SlurmdSpoolDir": f / "spool",
            "SlurmctldPidFile": f / "slurmctld.pid",
            "SlurmdPidFile": f / "slurmd.pid",
            "SlurmctldLogFile": f / "slurmctld.log",
            "SlurmdLogFile": f / "slurmd.log",
            "PlugStackConfig": f / "plugstack.conf",
            "Prolog": f / "prolog.sh",
            "Epilog": f / "epilog.sh",
            # Processes tracked by their parents (no cgroup setup needed); each task
            # pinned to its cores, so a job sees its allocation in its affinity mask.
            "ProctrackType": "proctrack/linuxproc",
            "TaskPlugin": "task/affinity",
            "SelectType": "select/cons_tres",
            "SelectTypeParameters": "CR_Core",
            "SchedulerType": "sched/builtin",
            "SchedulerParameters": "sched_min_interval=100000",
            "JobAcctGatherType": "jobacct_gather/none",
            "AccountingStorageType": "accounting_storage/none",
            "MpiDefault": "none",
            "ReturnToService": 2,
            "KillWait": 5,
        }
        text = "".join(f"{key}={value}\n" for key, value in lines.items())
        text += (
            f"NodeName={NODE} NodeAddr=127.0.0.1 CPUs={self.cpus} "
            f"RealMemory={_memory_mib()} State=UNKNOWN\n"
            f"PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=30 State=UP\n"
        )
        self.conf.write_text(text)

    def _start(self) -> None:
        f = self.folder
        self._write_conf()
        key = f / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        key.chmod(0o600)
        # Each daemon forks into the background and writes its pid file.
        subprocess.run([_program("munged"), "--force", f"--socket={f / 'munge.socket'}",
                        f"--key-file={key}", f"--pid-file={f / 'munged.pid'}",
                        f"--log-file={f / 'munged.log'}", f"--seed-file={f / 'munged.seed'}"],
                       check=True, capture_output=True)  # fmt: skip
        self._remember(f / "munged.pid")
        for daemon, args in (("slurmctld", ["-i"]), ("slurmd", ["-N", NODE])):
            out = subprocess.run([_program(daemon), *args], env=self.environment,
                                 capture_output=True, text=True)  # fmt: skip
            if out.returncode != 0:
                raise SlurmUnavailable(f"{daemon} did not start: {out.stderr.strip()}"
                                       f"{self._log_tail(daemon)}")  # fmt: skip
            self._remember(f / f"{daemon}.pid")
        deadline = time.monotonic() + self.timeout
        while self.node_state() not in ("idle", "mixed", "allocated"):
            if time.monotonic() > deadline:
                state = self.node_state()
                raise SlurmUnavailable(
                    f"the node did not come up in {self.timeout:.0f} s (state {state!r})"
                    f"{self._log_tail('slurmd')}"
                )
            time.sleep(0.2)

    def _remember(self, pid_file: Path) -> None:
        for _ in range(50):
            if pid_file.exists() and pid_file.read_text().strip():
                self._daemons.append(int(pid_file.read_text()))
                return
            time.sleep(0.1)
        raise SlurmUnavailable(f"{pid_file.stem} wrote no pid file")

    def _log_tail(self, daemon: str) -> str:
        log = self.folder / f"{daemon}.log"
        if not log.exists():
            return ""
        return "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-5:])

    def command(self, *args: str, check: bool = True, timeout: float = 60.0) -> str:
        """Run a SLURM client (``sbatch``, ``squeue``, ``scontrol`` ...) against this SLURM."""
        out = subprocess.run(list(args), env=self.environment, capture_output=True, text=True,
                             timeout=timeout)  # fmt: skip
        if check and out.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def node_state(self) -> str:
        out = self.command("sinfo", "-h", "-N", "-o", "%T", check=False)
        return out.strip().rstrip("*~#").lower()

    def submit(
        self, script: str | Path, *options: str, cwd: str | Path | None = None, env=None
    ) -> int:
        """``sbatch`` the script (options before it) from ``cwd``; the job's id.

        ``env`` is the job's environment (sbatch passes it on); by default
        :attr:`environment`.
        """
        command = ["sbatch", "--parsable", *options, str(script)]
        out = subprocess.run(command, cwd=cwd, env=env or self.environment,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"sbatch {script} failed: {out.stderr.strip()}")
        return int(out.stdout.strip().split(";")[0])

    def state(self, job: int) -> dict[str, str]:
        """Each task's state, by task id (``"7"``, or ``"7_0"`` for an array's tasks)."""
        out = self.command("scontrol", "show", "job", "-o", str(job), check=False)
        states = {}
        for line in out.splitlines():
            fields = dict(re.findall(r"(\w+)=(\S*)", line))
            task = fields.get("JobId", str(job))
            if fields.get("ArrayTaskId"):
                task = f"{fields['ArrayJobId']}_{fields['ArrayTaskId']}"
            states[task] = fields.get("JobState", "UNKNOWN")
        return states

    def wait(self, job: int, timeout: float = 120.0) -> dict[str, str]:
        """Wait until every task of ``job`` has ended; each task's final state.

        Raises ``TimeoutError`` (after cancelling the job) if that takes over ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while True:
            states = self.state(job)
            if states and all(s in ENDED for s in states.values()):
                return states
            if time.monotonic() > deadline:
                self.command("scancel", str(job), check=False)
                raise TimeoutError(f"job {job} still {states} after {timeout:.0f} s")
            time.sleep(0.2)

    def jobs_left(self, settle: float = 30.0) -> str:
        """The jobs still queued (``squeue`` lines) once cancelled ones have had time to end.

        A cancelled job is listed as ``COMPLETING`` while slurmd stops its processes and
        runs its epilog; such jobs get ``settle`` seconds to leave the queue. A job in any
        other state (pending, running) was never cancelled and is returned at once.
        """
        deadline = time.monotonic() + settle
        while True:
            left = self.command("squeue", "-h", "-o", "%i %j %T").strip()
            finishing = all(line.split()[-1] == "COMPLETING" for line in left.splitlines())
            if not left or not finishing or time.monotonic() > deadline:
                return left
            time.sleep(0.2)

    def job_processes(self) -> list[int]:
        """Processes of this SLURM's jobs still running: its ``slurmstepd`` and their tasks.

        Found by their environment: ``SLURM_CONF`` naming this configuration, and
        ``SLURM_JOB_ID`` (set for a job's processes), or a ``slurmstepd`` command. A
        cancelled job's processes normally end with it; one that slurmd has not yet
        registered when the cancel arrives (a job that has just started) can outlive the
        daemons, and this finds it. Other processes with ``SLURM_CONF`` set (a shell that
        submits to this SLURM) are not its jobs.
        """
        mine, found = str(self.conf), []
        for proc in psutil.process_iter(["name"]):
            if proc.pid == os.getpid():
                continue
            try:
                env = proc.environ()
            except (psutil.Error, OSError):
                continue
            step = (proc.info["name"] or "").startswith("slurmstepd")
            if env.get("SLURM_CONF") == mine and ("SLURM_JOB_ID" in env or step):
                found.append(proc.pid)
        return found

    def __exit__(self, *exc) -> None:
        if self.folder is not None and self._daemons:
            # Cancel what is left and let slurmd end it (its job steps outlive it).
            self.command("scancel", "--full", "--partition", PARTITION, check=False)
            deadline = time.monotonic() + 15
            while self.command("squeue", "-h", check=False).strip():
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        stop_pids(self._daemons)
        self._daemons.clear()
        if self.folder is not None:
            stop_pids(self.job_processes())
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None
