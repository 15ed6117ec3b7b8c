"""Simulated hosts: network namespaces on a bridge, reachable, cut off, and removed."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import psutil
import pytest
from conftest import require_root

from kernels.core import hosts as hosts_module
from kernels.core.hosts import HostsUnavailable, SimulatedHosts, leftover_namespaces
from kernels.frontends import cli

LISTEN = """
import socket, sys
server = socket.create_server((sys.argv[1], 9000))
print("ready", flush=True)
while True:
    conn, _ = server.accept()
    conn.sendall(b"hello from " + sys.argv[1].encode())
    conn.close()
"""


STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _wait_for_servers():
    """Every server is killed with its host; wait for each, so that none is a zombie."""
    yield
    while STARTED:
        STARTED.pop().wait(timeout=10)


def _serve(host) -> subprocess.Popen:
    server = subprocess.Popen(host.command([sys.executable, "-c", LISTEN, host.address]),
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    STARTED.append(server)
    ready = server.stdout.readline().strip()
    server.stdout.close()
    assert ready == "ready"
    return server


def _hello(address: str, timeout: float = 3.0) -> bytes:
    with socket.create_connection((address, 9000), timeout=timeout) as conn:
        return conn.recv(100)


def test_hosts_reach_each_other_and_this_machine_reaches_them():
    require_root()
    with SimulatedHosts(3) as hosts:
        assert len({h.address for h in hosts}) == 3 and len({h.namespace for h in hosts}) == 3
        server = _serve(hosts[0])
        assert _hello(hosts[0].address) == f"hello from {hosts[0].address}".encode()
        probe = f"import socket; print(socket.create_connection(('{hosts[0].address}', 9000))"
        probe += ".recv(100))"
        run = subprocess.run(hosts[2].command([sys.executable, "-c", probe]), capture_output=True,
                             text=True, timeout=30)  # fmt: skip
        assert hosts[0].address in run.stdout, run.stderr
        assert hosts[0].pids() == [server.pid]
    server.wait(timeout=10)  # the host's processes went with it (reaped there: status 0)
    assert not psutil.pid_exists(server.pid)
    assert leftover_namespaces() == []


@pytest.mark.parametrize("delay", [None, "100us"])
def test_a_cut_host_is_unreachable_until_reconnected(delay):
    require_root()
    with SimulatedHosts(2, delay=delay) as hosts:
        _serve(hosts[1])
        hosts[1].cut()
        with pytest.raises(OSError):
            _hello(hosts[1].address, timeout=1.0)
        hosts[1].reconnect()
        assert _hello(hosts[1].address, timeout=5.0).startswith(b"hello")
    assert leftover_namespaces() == []


def test_everything_is_removed_when_the_block_fails():
    require_root()
    with pytest.raises(RuntimeError, match="inside"), SimulatedHosts(2) as hosts:
        _serve(hosts[0])
        raise RuntimeError("inside the block")
    assert leftover_namespaces() == []


def test_links_can_be_rate_limited():
    require_root()
    with SimulatedHosts(2, rate="100mbit") as hosts:
        _serve(hosts[0])
        assert _hello(hosts[0].address).startswith(b"hello")
        shaped = subprocess.run(hosts[0].command(["tc", "qdisc", "show", "dev", "eth0"]),
                                capture_output=True, text=True).stdout  # fmt: skip
        assert "tbf" in shaped and "100Mbit" in shaped
    assert leftover_namespaces() == []


def _connect_seconds(address: str) -> float:
    """The shortest of five TCP handshakes with ``address`` (one round trip each)."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        with socket.create_connection((address, 9000), timeout=5):
            times.append(time.perf_counter() - start)
    return min(times)


def test_delayed_links_hold_what_a_host_sends_for_the_delay():
    require_root()
    with SimulatedHosts(2, delay="2ms") as hosts:
        lines = [p for p in psutil.Process().children() if p.name() == "delayline"]
        assert len(lines) == 2  # one delay line per host
        _serve(hosts[0])
        assert _hello(hosts[0].address).startswith(b"hello")
        # From here to a host and back, the host's answer is delayed once: a handshake
        # cannot be shorter than the delay, whatever the machine's speed.
        assert _connect_seconds(hosts[0].address) >= 0.002
        probe = (f"import socket, time; t = time.perf_counter(); "
                 f"socket.create_connection(('{hosts[0].address}', 9000)).close(); "
                 f"print(time.perf_counter() - t)")  # fmt: skip
        between = subprocess.run(hosts[1].command([sys.executable, "-c", probe]),
                                 capture_output=True, text=True, timeout=30)  # fmt: skip
        assert float(between.stdout) >= 0.004, between.stderr  # both hosts' sends delayed
    assert not any(line.is_running() for line in lines)
    assert leftover_namespaces() == []


@pytest.mark.parametrize("delay", ["1", "1 minute", "-1ms", "2s", "ms"])
def test_a_delay_that_is_not_a_time_is_refused(delay):
    with pytest.raises(ValueError, match="delay"):
        SimulatedHosts(2, delay=delay)


def test_bad_counts_and_missing_rights_are_clear_errors(monkeypatch):
    for count in (0, 21, 2.5, "3"):
        with pytest.raises(ValueError, match="count must be an integer from 1 to 20"):
            SimulatedHosts(count)
    monkeypatch.setattr(hosts_module.os, "geteuid", lambda: 1000)
    with pytest.raises(HostsUnavailable, match="needs root"), SimulatedHosts(2):
        pass


@pytest.mark.parametrize("links", [[], ["--delay", "1ms", "--rate", "1gbit"]])
def test_the_command_line_holds_the_hosts_until_interrupted(capsys, links):
    require_root()
    seen = {}

    def interrupt():
        seen["namespaces"] = [n for n in leftover_namespaces() if n.startswith("kh")]
        seen["lines"] = [p for p in psutil.Process().children() if p.name() == "delayline"]
        raise KeyboardInterrupt

    args = cli.build_parser().parse_args(["hosts", "up", "2", *links])
    assert cli._hosts(args, wait=interrupt) == 0
    out = capsys.readouterr().out
    assert (
        len(seen["namespaces"]) == 2 and "ip netns exec" in out and out.rstrip().endswith("removed")
    )
    assert len(seen["lines"]) == (2 if links else 0)  # a delay line per host when delayed
    assert leftover_namespaces() == [] and not any(p.is_running() for p in seen["lines"])
