"""Running SPMD programs under ``mpiexec`` from Python (and from a notebook).

MPI programs are scripts that ``mpiexec -n N`` starts N times; they are not notebook
cells. :func:`launch` runs one of :mod:`kernels.mpi4py.programs` with parameters and brings
rank 0's result back; :func:`run_script` runs any script and returns its output rank by
rank; :func:`run_function` runs a function defined in a notebook on every rank (sent
with ``dill``). All of them fail fast with the failing rank's message, stop ``mpiexec``
and every rank on a timeout, and leave no process behind.
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import mpich_leftovers
from ..core.errors import CommandTimeoutError, RankFailedError
from ..core.subprocesses import run_command
from .commands import (
    mpiexec_command,
    output_tail,
    rank_environment,
    rank_failure,
)

# Seconds a run may take before every rank is stopped (a deadlock must not hang a call).
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class MPIRun:
    """What one run brought back: rank 0's result and how long the ranks computed."""

    result: Any
    compute_s: float
    wall_s: float
    ranks: int

    @property
    def startup_s(self) -> float:
        """Wall time outside the computation: ``mpiexec``, interpreters, imports, I/O."""
        return max(self.wall_s - self.compute_s, 0.0)


class _HostWatch:
    """Probes the hosts of a run; names a host that stopped answering three times in a row."""

    MISSES = 3

    def __init__(self, hosts, ranks: int) -> None:
        self.hosts, self.ranks = list(hosts), ranks
        self.misses = [0] * len(self.hosts)

    def __call__(self) -> str | None:
        for k, host in enumerate(self.hosts):
            self.misses[k] = 0 if host.answers(timeout=1.0) else self.misses[k] + 1
            if self.misses[k] >= self.MISSES:
                lost = [r for r in range(self.ranks) if r % len(self.hosts) == k]  # round-robin
                return (f"{host.name} ({host.address}) stopped answering on the network, with "
                        f"rank(s) {', '.join(map(str, lost))}; mpiexec and every rank were "
                        "stopped")  # fmt: skip
        return None


def _execute(
    command: list[str], timeout: float, hosts=None, ranks: int = 0, error_dir=None
) -> subprocess.CompletedProcess:
    """Run ``command``; on timeout (or a lost host) stop it and all its ranks and raise.

    A failing rank writes its error into ``error_dir`` too (:func:`rank_environment`).
    What its ranks and hydra left behind (:mod:`kernels.core.mpich_leftovers`) is
    removed either way.
    """
    before = mpich_leftovers.present()
    try:
        return run_command(command, timeout, env=rank_environment(error_dir),
                           watch=None if hosts is None else _HostWatch(hosts, ranks))  # fmt: skip
    except CommandTimeoutError as exc:
        if exc.reason:
            raise RankFailedError(f"MPI run failed: {exc.reason}") from None
        raise RankFailedError(
            f"`{Path(command[0]).name} {' '.join(command[1:3])} ...` did not finish within "
            f"{timeout:g} s and was "
            "stopped, with every rank. A deadlock (every rank waiting in a blocking "
            "send or receive) looks exactly like this.\n" + output_tail(exc.output, "")
        ) from None
    finally:
        mpich_leftovers.remove(mpich_leftovers.present() - before)


def launch(program: str, ranks: int, timeout: float = DEFAULT_TIMEOUT, hosts=None,
           **params: Any) -> MPIRun:  # fmt: skip
    """Run ``kernels.mpi4py.programs.<program>`` on ``ranks`` ranks; return rank 0's result.

    With ``hosts`` (a :class:`kernels.core.hosts.SimulatedHosts`), the ranks are dealt
    round-robin to the simulated hosts and talk over their network. Inside
    :func:`kernels.mpi4py.warm.warm_ranks`, a run on this machine with one of its rank
    counts goes to ranks already running, and ``wall_s`` holds no start-up.

    Raises
    ------
    RankFailedError
        A rank raised (the message names the rank and its error) or the run timed out;
        ``mpiexec`` and every rank have been stopped.

    Examples
    --------
    >>> launch("monte_carlo_pi", 2, samples=1000, seed=1).result
    3.192
    """
    from . import warm

    module = f"kernels.mpi4py.programs.{program}"
    server = warm.lent(ranks) if hosts is None else None
    if server is not None:
        start = time.perf_counter()
        try:
            out = server.call(module, params, timeout)
        except BaseException:
            warm.discard(ranks)  # its ranks may be gone, or stuck: the next call starts anew
            raise
        return MPIRun(out["result"], out["compute_s"], time.perf_counter() - start, ranks)
    with tempfile.TemporaryDirectory(prefix="kernels-mpi-") as folder:
        payload, result = Path(folder) / "params.pkl", Path(folder) / "result.pkl"
        payload.write_bytes(pickle.dumps(params))
        args = [sys.executable, "-m", "kernels.mpi4py.programs._program", module,
                str(payload), str(result)]  # fmt: skip
        start = time.perf_counter()
        completed = _execute(mpiexec_command(ranks, args, hosts), timeout, hosts, ranks, folder)
        wall = time.perf_counter() - start
        if completed.returncode != 0 or not result.exists():
            raise rank_failure(completed, folder)
        out = pickle.loads(result.read_bytes())
    return MPIRun(out["result"], out["compute_s"], wall, ranks)


def measure(problem: str, ranks: list[int], repeat: int = 3, **params: Any):
    """Time ``problem`` on each number of ranks: the ranks' computation, and their start-up.

    :func:`measure_problems` for one problem.
    """
    return measure_problems({problem: params}, ranks, repeat)[problem]


def visits(ranks: list[int], repeat: int) -> list[tuple[int, int]]:
    """The order :func:`measure_problems` starts the rank counts in, each with its runs.

    Measured one count after another, the counts would also measure any drift in the
    machine's speed over the measurement (a busy neighbour on a shared host, a clock
    that changes): in one book build, Mandelbrot's single rank, timed first, took 12%
    longer than twice the two ranks' time, a self-efficiency of 1.12 that two cores
    cannot give it (on an Intel Xeon one rank took 0.39 s for half the chapter's image
    and 0.75 s for the whole: no cache effect). So with two runs or more the counts are
    visited forward and then backward (1, 2, 4, then 4, 2, 1), with half the runs each
    time (the first visit has one more when their number is odd): a steady drift then
    weighs on every count about alike.

    Examples
    --------
    >>> visits([1, 2, 4], 4)
    [(1, 2), (2, 2), (4, 2), (4, 2), (2, 2), (1, 2)]
    >>> visits([1, 2], 1)
    [(1, 1), (2, 1)]
    """
    counts = list(dict.fromkeys(ranks))
    first = -(-repeat // 2)
    there = [(count, first) for count in counts]
    back = [(count, repeat - first) for count in reversed(counts)] if repeat > first else []
    return there + back


def measure_problems(problems: dict[str, dict], ranks: list[int], repeat: int = 3):
    """Time each problem on each number of ranks: the ranks' computation, and their start-up.

    ``problems`` maps a problem name to its parameters. The ranks of each count are
    started (:func:`kernels.mpi4py.warm.warm_ranks`, which times ``mpiexec``, the
    interpreters and their connection back) once per visit (:func:`visits`: twice with
    two runs or more, there and back) and serve every problem; for each problem one
    uncounted run at the problem's quick sizes imports its program, then the visit's
    runs are timed inside the ranks. Starting the ranks once per visit, not once per
    run, keeps the measurement short: at the chapter's sizes, 6 starts instead of 24.

    Returns
    -------
    dict of pandas.DataFrame
        By problem: :func:`kernels.core.bench.measure`'s columns for backend ``"mpi"``,
        with ``seconds`` the ranks' compute times (start-up excluded), plus
        ``startup_s`` (starting the ranks; the median over the count's visits) and
        ``wall_s`` (start-up plus the median computation: what one run started from
        nothing takes).
    """
    import statistics

    import pandas as pd

    from ..core import sizes
    from ..core.bench import COLUMNS, add_speedups, checksum
    from .warm import warm_ranks

    runs = {(problem, count): [] for problem in problems for count in dict.fromkeys(ranks)}
    startups: dict[int, list[float]] = {count: [] for count in dict.fromkeys(ranks)}
    for count, timed in visits(ranks, repeat):
        with warm_ranks([count]) as started:  # one set at a time: no idle ranks besides
            startups[count].append(started[count])
            for problem, params in problems.items():
                launch(problem, count, **sizes.params(problem, "quick"))  # imports, caches
                runs[problem, count] += [launch(problem, count, **params) for _ in range(timed)]
    rows: dict[str, list[dict]] = {problem: [] for problem in problems}
    for (problem, count), done in runs.items():
        seconds = [r.compute_s for r in done]
        median, startup = statistics.median(seconds), statistics.median(startups[count])
        rows[problem].append({
            "problem": problem, "backend": "mpi", "workers": count,
            "params": dict(problems[problem]), "seconds": seconds, "median_s": median,
            "best_s": min(seconds), "checksum": checksum(done[-1].result),
            "scaling": "strong", "startup_s": startup, "wall_s": startup + median,
        })  # fmt: skip
    columns = [*COLUMNS, "wall_s", "startup_s"]
    return {problem: add_speedups(pd.DataFrame(r))[columns] for problem, r in rows.items()}


def run_script(
    script: str | Path, ranks: int, *args: str, timeout: float = 120.0, check: bool = True,
    futures: bool = False, hosts=None,
) -> str:  # fmt: skip
    """Run ``script args`` with ``python -m mpi4py`` on ``ranks`` ranks; return the output.

    Each line is prefixed by the rank that printed it (``[0] ...``). ``-m mpi4py`` makes
    an uncaught exception on any rank abort all of them instead of leaving the others
    waiting. With ``check`` a failure raises :class:`RankFailedError` with the output.
    With ``futures`` the script runs under ``-m mpi4py.futures``: rank 0 runs it and the
    other ranks serve its ``MPIPoolExecutor``. With ``hosts`` (simulated hosts), the
    ranks are dealt round-robin to them, as in :func:`launch`.
    """
    runner = "mpi4py.futures" if futures else "mpi4py"
    labelled = "kernels.mpi4py.programs.labelled"
    command = mpiexec_command(
        ranks, [sys.executable, "-m", runner, "-m", labelled, str(script), *args], hosts
    )
    completed = _execute(command, timeout, hosts, ranks)
    output = output_tail(completed.stdout, completed.stderr, lines=10_000)
    if check and completed.returncode != 0:
        raise RankFailedError(f"{Path(script).name} failed on {ranks} ranks:\n{output}")
    return output


def sorted_by_rank(output: str) -> str:
    """The lines of :func:`run_script` output grouped rank by rank (stable within a rank)."""
    lines = output.splitlines()
    rank = [int(m.group(1)) if (m := re.match(r"\[(\d+)\]", ln)) else -1 for ln in lines]
    return "\n".join(ln for _, ln in sorted(zip(rank, lines, strict=True), key=lambda p: p[0]))


def run_function(
    func, ranks: int, *args: Any, timeout: float = 60.0, record: bool = False
) -> list[Any]:
    """Call ``func(comm, *args)`` on every rank; return each rank's return value, in order.

    ``func`` may be defined in a notebook: it travels to the ranks with ``dill``, the
    globals it uses included. With ``record``, ``comm`` notes every method called on it,
    and each rank returns ``(value, [names of the communicator methods it called])``.
    """
    import dill

    sent = {"function": dill.dumps(func, recurse=True), "args": dill.dumps(args),
            "record": record}  # fmt: skip
    return launch("call_function", ranks, timeout=timeout, **sent).result
