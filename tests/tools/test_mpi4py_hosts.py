"""MPI across simulated hosts: the mpich wheel's mpiexec, ranks in other namespaces."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import require_root

import kernels
from kernels.core import sizes
from kernels.core.errors import RankFailedError
from kernels.core.hosts import SimulatedHosts, leftover_namespaces
from kernels.mpi4py import examples
from kernels.mpi4py import launch as launch_module
from kernels.mpi4py.launch import launch


@pytest.fixture(scope="module")
def two_hosts():
    require_root()
    with SimulatedHosts(2) as hosts:
        yield hosts
    assert leftover_namespaces() == []


@pytest.mark.parametrize("ranks", [2, 4])
def test_ranks_are_dealt_to_both_hosts(two_hosts, ranks):
    where = launch("where", ranks, hosts=two_hosts).result
    assert [w["rank"] for w in where] == list(range(ranks))
    spaces = [w["netns"] for w in where]
    assert len(set(spaces)) == 2  # two network namespaces: two hosts
    assert spaces[0::2] == [spaces[0]] * len(spaces[0::2])  # round-robin
    assert spaces[0] != spaces[1]


@pytest.mark.parametrize("ranks", [2, 4])
@pytest.mark.parametrize("problem", kernels.problems())
def test_every_problem_equals_the_reference_across_hosts(two_hosts, problem, ranks):
    params = sizes.params(problem, "test")
    got = launch(problem, ranks, hosts=two_hosts, **params).result
    want = kernels.reference(problem, **params)
    assert np.array_equal(got, want) if isinstance(want, np.ndarray) else got == want


def test_the_launcher_refuses_an_unknown_host(two_hosts):
    run = subprocess.run([two_hosts.launcher(), "-x", "192.0.2.1", "true"], capture_output=True,
                         text=True)  # fmt: skip
    assert run.returncode == 255 and "no simulated host 192.0.2.1" in run.stderr
    ok = subprocess.run([two_hosts.launcher(), two_hosts[1].address, "ip -o -4 addr show eth0"],
                        capture_output=True, text=True)  # fmt: skip
    assert two_hosts[1].address in ok.stdout


def test_a_host_cut_off_mid_run_stops_the_job_and_names_the_host():
    require_root()
    before = set(leftover_namespaces())  # the module's two hosts may be up
    with SimulatedHosts(2) as hosts:
        threading.Timer(2.0, hosts[1].cut).start()
        # Long enough to be running when the cut comes; the watch (three missed probes,
        # a second each) stops it, well before the timeout that would catch a regression.
        with pytest.raises(
            RankFailedError, match=r"host1 \(.*\) stopped answering.*rank\(s\) 1, 3"
        ):
            launch("heat", 4, hosts=hosts, timeout=300, n=1024, steps=200_000)
        assert hosts[0].answers() and not hosts[1].answers(timeout=0.5)
    assert set(leftover_namespaces()) == before


def test_reachable_hosts_answer_the_probe(two_hosts):
    assert all(h.answers() for h in two_hosts)


def test_mpi4py_futures_pool_spans_the_hosts(two_hosts):
    out = launch_module.run_script(examples.path("futures_pi"), 3, futures=True, hosts=two_hosts)
    assert "tasks done by worker ranks: [1, 2]" in out  # rank 1 on host1, rank 2 on host0
    estimate, reference = out.split("pi ~")[1].split("| reference")
    assert float(estimate) == float(reference)


def test_messages_between_hosts_cross_the_network(two_hosts, tmp_path):
    """8 MiB sent from rank 0 (host 0) to rank 1 (host 1) pass through host 1's link.

    Without this, MPICH sees one machine and passes the message through shared memory:
    the ranks would sit in two namespaces and never touch the network.
    """
    script = tmp_path / "send.py"
    script.write_text(
        "import numpy as np\nfrom mpi4py import MPI\ncomm = MPI.COMM_WORLD\n"
        "data = np.ones(1 << 20)\n"
        "if comm.rank == 0: comm.Send(data, dest=1)\n"
        "else: comm.Recv(data, source=0); print('got', data.sum())\n"
    )
    link = two_hosts[1].link

    def link_bytes() -> int:
        stats = Path("/sys/class/net", link, "statistics")
        return sum(int((stats / f"{way}_bytes").read_text()) for way in ("rx", "tx"))

    before = link_bytes()
    out = launch_module.run_script(script, 2, hosts=two_hosts)
    assert "got 1048576.0" in out
    assert link_bytes() - before >= 8 << 20


def test_pingpong_table_has_a_round_trip_per_size_and_link():
    require_root()
    from kernels.mpi4py.across_hosts import pingpong_table

    links = {"one host": None, "two hosts": {}, "slow": {"rate": "1gbit", "delay": "1ms"}}
    table = pingpong_table([8, 4096], links)
    assert list(table.index) == [8, 4096]
    assert list(table.columns) == ["one host", "two hosts", "slow"]
    assert (table > 0).all().all()
    # A round trip crosses the 1 ms delay twice: no machine is fast enough to beat it.
    assert (table["slow"] >= 2000).all()


def test_halo_table_times_both_exchanges_on_each_link_with_equal_fields():
    require_root()
    from kernels.mpi4py.across_hosts import halo_table

    steps = 20
    table = halo_table({"one host": None, "1 ms": {"delay": "1ms"}}, n=64, steps=steps)
    assert list(table.index) == ["one host", "1 ms"]
    assert list(table.columns) == ["Sendrecv (s)", "overlapped (s)", "saved by overlapping"]
    # Every blocking step waits for a halo sent 1 ms earlier by the other host.
    assert table.loc["1 ms", "Sendrecv (s)"] >= steps * 1e-3
