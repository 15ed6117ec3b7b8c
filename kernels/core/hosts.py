"""Simulated hosts on one Linux machine: network namespaces joined by a bridge.

Each host is a network namespace with its own interface and address on a private
``/24`` subnet; a bridge in this (the root) namespace joins them, and holds the
subnet's last address, so that programs here reach every host as they would reach
machines on a cluster's network. Programs start *on* a host with :meth:`Host.command`
(``ip netns exec``). A host can be cut off (its link set down) and reconnected, and the
links can be limited in bandwidth (``tc tbf``) and delayed (by a delay line between each
host and the bridge, :mod:`kernels.core.delayline`, which works where the kernel lacks
``sch_netem``). Everything is removed on exit: processes, namespaces, links.

Creating namespaces needs root (``CAP_NET_ADMIN``) and iproute2's ``ip``; without them
:class:`HostsUnavailable` says what is missing.

Examples
--------
The command line keeps hosts up until interrupted (``python -m kernels hosts up 3``);
from Python::

    with SimulatedHosts(3) as hosts:
        server = subprocess.Popen(hosts[0].command(["python", "-m", "http.server"]))
        ...  # reach it at hosts[0].address from here or from hosts[1]
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from . import delayline
from .subprocesses import stop_process_trees

# Interface names are at most 15 characters: "kb", "kv", "kw", "kx" + a 6-digit tag + a
# host number.
_TAG = itertools.count()


class HostsUnavailable(RuntimeError):
    """Simulated hosts cannot be made here (not root, no ``ip``, no namespaces)."""


def hosts_unavailable() -> str | None:
    """Why simulated hosts cannot be made here, or ``None`` when they can."""
    if not os.sys.platform.startswith("linux"):
        return "simulated hosts need Linux network namespaces"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed: apt install iproute2"
    if os.geteuid() != 0:
        return ("creating network namespaces needs root: run as root (CI does), or read the "
                "outputs shown in the chapter")  # fmt: skip
    return None


def _ip(*args: str, namespace: str | None = None, check: bool = True) -> str:
    command = ["ip", *(["-n", namespace] if namespace else []), *args]
    run = subprocess.run(command, capture_output=True, text=True)
    if check and run.returncode != 0:
        raise HostsUnavailable(f"`{' '.join(command)}` failed: {run.stderr.strip()}")
    return run.stdout


def _free_subnet() -> str:
    """A ``10.x.y`` prefix whose /24 no interface of this machine uses."""
    used = _ip("-o", "-4", "addr", "show")
    for _ in range(200):
        prefix = f"10.{random.randint(200, 250)}.{random.randint(0, 254)}"
        if f" {prefix}." not in used:
            return prefix
    raise HostsUnavailable("no free 10.x.y.0/24 subnet found for the simulated hosts")


@dataclass
class Host:
    """One simulated host: its namespace, address and the link that joins it to the bridge."""

    name: str
    namespace: str
    address: str
    link: str  # this namespace's end of the host's veth pair, on the bridge

    def command(self, args: list[str]) -> list[str]:
        """``args`` as a command that runs on this host (inside its namespace)."""
        return ["ip", "netns", "exec", self.namespace, *args]

    def cut(self) -> None:
        """Cut the host off the network, as if its cable were pulled."""
        _ip("link", "set", self.link, "down")

    def reconnect(self) -> None:
        """Plug the host back in."""
        _ip("link", "set", self.link, "up")

    def answers(self, timeout: float = 1.0) -> bool:
        """Whether the host answers on the network now (a TCP probe from this machine).

        A host that is up refuses a connection to a closed port at once; a host cut off
        (or gone) does not answer within ``timeout`` seconds.
        """
        try:
            with socket.create_connection((self.address, 9), timeout=timeout):
                return True
        except ConnectionRefusedError:
            return True
        except OSError:
            return False

    def pids(self) -> list[int]:
        """The processes running on this host."""
        out = subprocess.run(["ip", "netns", "pids", self.namespace], capture_output=True,
                             text=True).stdout  # fmt: skip
        return [int(p) for p in out.split()]


@dataclass
class SimulatedHosts:
    """``count`` simulated hosts on a bridge; a context manager that removes them all.

    Parameters
    ----------
    count : int
        Hosts to make, 1 to 20.
    rate : str, optional
        Bandwidth of every host's link, as ``tc`` writes it (``"1gbit"``, ``"100mbit"``).
    delay : str, optional
        One-way delay added to what every host sends (``"50us"``, ``"1ms"``), as
        ``netem delay`` on the host's interface would: a message between two hosts takes
        it once, a round trip twice. A compiled delay line (:mod:`kernels.core.delayline`)
        does it, so it works on kernels without ``sch_netem``; it needs a C compiler.
    """

    count: int
    rate: str | None = None
    delay: str | None = None
    hosts: list[Host] = field(default_factory=list, init=False)
    bridge: str = field(default="", init=False)
    gateway: str = field(default="", init=False)
    _folder: tempfile.TemporaryDirectory | None = field(default=None, init=False)
    _lines: list[subprocess.Popen] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.count, int) or not 1 <= self.count <= 20:
            raise ValueError(f"count must be an integer from 1 to 20, got {self.count!r}")
        self._delay_ns = None if self.delay is None else delayline.delay_ns(self.delay)

    def __getitem__(self, index: int) -> Host:
        return self.hosts[index]

    def __len__(self) -> int:
        return len(self.hosts)

    def __enter__(self) -> SimulatedHosts:
        reason = hosts_unavailable()
        if reason:
            raise HostsUnavailable(reason)
        tag = f"{os.getpid() % 10000:04d}{next(_TAG) % 100:02d}"
        prefix = _free_subnet()
        self.bridge, self.gateway = f"kb{tag}", f"{prefix}.254"
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            for k in range(self.count):
                self.hosts.append(self._add_host(tag, prefix, k))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def launcher(self) -> str:
        """An executable that runs a command on a host, called the way ``ssh`` is.

        ``<launcher> [options] <address> <command...>`` runs the command (one shell
        string, as ssh joins it) on the host with that address. Programs that start
        their remote parts over ``ssh`` take it instead: MPICH's ``mpiexec -launcher ssh
        -launcher-exec <launcher>``, for one.
        """
        if not self.hosts:
            raise RuntimeError("the hosts are not up: use SimulatedHosts in a `with` block")
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="kernels-hosts-")
        path = Path(self._folder.name) / "on-host"
        if not path.exists():
            cases = "".join(f"  {h.address}) ns={h.namespace} ;;\n" for h in self.hosts)
            path.write_text(
                "#!/bin/sh\n# Run a command on a simulated host, as ssh would.\n"
                'while [ "${1#-}" != "$1" ]; do shift; done\n'
                f'case "$1" in\n{cases}'
                '  *) echo "no simulated host $1" >&2; exit 255 ;;\nesac\n'
                'shift\nexec ip netns exec "$ns" sh -c "$*"\n'
            )  # fmt: skip
            path.chmod(0o755)
        return str(path)

    def _add_host(self, tag: str, prefix: str, k: int) -> Host:
        namespace, link, inside = f"kh{tag}-{k}", f"kv{tag}{k}", f"ki{tag}{k}"
        _ip("netns", "add", namespace)
        host = Host(f"host{k}", namespace, f"{prefix}.{k + 1}", link)
        _ip("link", "add", link, "type", "veth", "peer", "name", inside)
        _ip("link", "set", inside, "netns", namespace)
        _ip("link", "set", inside, "name", "eth0", namespace=namespace)
        _ip("addr", "add", f"{host.address}/24", "dev", "eth0", namespace=namespace)
        _ip("link", "set", "eth0", "up", namespace=namespace)
        _ip("link", "set", "lo", "up", namespace=namespace)
        if self._delay_ns is None:
            _ip("link", "set", link, "master", self.bridge)
        else:
            self._delay(tag, k, link)
        _ip("link", "set", link, "up")
        # No default route: the hosts see only their subnet, so a lookup of an outside
        # name (a DNS server, say) fails at once instead of waiting for a timeout.
        if self.rate:
            self._limit(namespace)
        return host

    def _delay(self, tag: str, k: int, link: str) -> None:
        """Join the host's link to the bridge through a delay line (host -> bridge late)."""
        near, far = f"kw{tag}{k}", f"kx{tag}{k}"
        _ip("link", "add", near, "type", "veth", "peer", "name", far)
        _ip("link", "set", far, "master", self.bridge)
        for name in (near, far):
            _ip("link", "set", name, "up")
        try:
            self._lines.append(delayline.start(link, near, self._delay_ns))
        except delayline.DelayLineUnavailable as exc:
            raise HostsUnavailable(str(exc)) from None

    def _limit(self, namespace: str) -> None:
        """Limit the bandwidth of what leaves the host, on its side of the link."""
        spec = ["tbf", "rate", self.rate, "burst", "256kb", "latency", "50ms"]
        run = subprocess.run(["ip", "netns", "exec", namespace, "tc", "qdisc", "add", "dev",
                              "eth0", "root", *spec], capture_output=True, text=True)  # fmt: skip
        if run.returncode != 0:
            raise HostsUnavailable(f"this kernel cannot limit links' rate: "
                                   f"{run.stderr.strip()}")  # fmt: skip

    def __exit__(self, *exc) -> None:
        running = []
        for host in self.hosts:
            for pid in host.pids():
                with contextlib.suppress(psutil.NoSuchProcess):
                    process = psutil.Process(pid)
                    process.kill()
                    running.append(process)
        psutil.wait_procs(running, timeout=10)
        stop_process_trees(self._lines, grace=5.0)
        self._lines = []
        for host in self.hosts:
            _ip("link", "del", host.link, check=False)  # and its peer inside the host
            _ip("netns", "del", host.namespace, check=False)
        # Namespaces that failed half-way (not yet in self.hosts) carry this bridge's tag.
        tag = self.bridge[2:]
        for line in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                   text=True).stdout.splitlines():  # fmt: skip
            name = line.split()[0] if line.split() else ""
            if tag and name.startswith(f"kh{tag}-"):
                _ip("netns", "del", name, check=False)
        for line in _ip("-o", "link", "show", check=False).splitlines():
            name = line.split(": ")[1].split("@")[0] if ": " in line else ""
            if tag and name.startswith((f"kw{tag}", f"kx{tag}")):
                _ip("link", "del", name, check=False)  # a delay line's pair
        if self.bridge:
            _ip("link", "del", self.bridge, check=False)
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
        self.hosts = []


# How two machines can be joined: None, both on one host (shared memory); {}, plain
# virtual links (as fast as this machine copies); or SimulatedHosts' keywords for a link
# with a cluster network's bandwidth and one-way latency.
LINKS: dict[str, dict | None] = {
    "one host": None,
    "two hosts": {},
    "10 Gbit/s, 50 µs": {"rate": "10gbit", "delay": "50us"},
    "1 Gbit/s, 1 ms": {"rate": "1gbit", "delay": "1ms"},
}


def hosts_for(link: dict | None, count: int = 2):
    """``count`` simulated hosts joined by ``link`` (see :data:`LINKS`), as a context manager.

    For ``None`` (one host) it yields ``None``, which the book's launchers read as "this
    machine", so that one loop measures every link the same way.
    """
    return contextlib.nullcontext() if link is None else SimulatedHosts(count, **link)


def leftover_namespaces() -> list[str]:
    """Namespaces and links this module made that still exist (none, after every exit)."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    names = [line.split()[0] for line in listed.splitlines() if line.split()]
    links = [
        part.split("@")[0] for part in _ip("-o", "link", "show", check=False).split(": ")[1::2]
    ]
    return [n for n in names if n.startswith("kh")] + [
        n for n in links if n.startswith(("kb", "kv", "kw", "kx"))
    ]
