"""Shared fixtures: a headless plot backend, the no-leftover-process check, the built site."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing.resource_tracker
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib
import multiprocess.resource_tracker
import nbformat
import psutil
import pytest
import yaml
from joblib.externals.loky.backend import resource_tracker as loky_resource_tracker

import kernels

# Before numba or JAX starts: 4 threads and 4 CPU devices, so that numba-parallel and
# jax-sharded run up to 4 workers in this process (the chapters make the same call).
kernels.prepare(4)

# Only this process draws off-screen; notebook kernels keep their inline backend.
matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
# Mandelbrot sizes that test a lanes kernel (C, Cython, numba) in every layout: partial
# blocks of lanes, and max_iter around the C and Cython kernels' every-8th-step test.
LANES_SIZES = [(153, 29, 1), (153, 29, 7), (153, 29, 8), (153, 29, 9), (70, 9, 70), (400, 300, 300)]


def require_program(name: str, install: str) -> str:
    """The path of system program ``name``; a failure under ``CI``, a skip elsewhere.

    CI installs the system packages (``.ci/run``), so there a missing one is a defect;
    on a reader's machine the test is skipped with how to install it.
    """
    path = os.environ.get(f"KERNELS_{name.upper()}") or shutil.which(name)
    require(
        None if path else f"{install}; .ci/run installs it under CI",
        f"{name} is not installed here",
    )
    return path


def require(reason: str | None, what: str) -> None:
    """Nothing if ``reason`` is ``None``; else a failure under ``CI`` (which runs as root and
    whose ``.ci/run`` installs the system packages), a skip elsewhere, saying why."""
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what}: {reason}")
    pytest.skip(f"{what}: {reason}")


def require_root() -> None:
    """Simulated hosts need root (and iproute2)."""
    from kernels.core.hosts import hosts_unavailable

    require(hosts_unavailable(), "simulated hosts cannot be made here")


def require_slurm() -> None:
    """A single-node SLURM needs root and Debian's SLURM and munge packages."""
    from kernels.core.slurm import slurm_unavailable

    require(slurm_unavailable(), "SLURM cannot be started here")


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (no browser download), for one test module."""
    executable = require_program("chromium", "apt install chromium: Debian's package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        # Chromium starts its long-lived helpers (network, storage, GPU) with the first
        # page: start them here, so that they belong to the fixture, not to a test.
        browser.new_page().close()
        yield browser
        browser.close()


def execute_notebook(nb, env: dict | None = None, timeout: int = 600):
    """Run ``nb`` top to bottom in a fresh ``python3`` kernel started in ``notebooks/``.

    ``env`` replaces the kernel's environment. Raises ``CellExecutionError`` at the first
    failing cell; returns ``nb`` with its outputs.
    """
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})  # fmt: skip
    client.execute(**({} if env is None else {"env": env}))
    return nb


def toc_files() -> list[str]:
    """Every page of ``_toc.yml``, the root first, as paths without the suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


# What the book's build does not read: copied neither into a staged book (see `site`).
NOT_THE_BOOK = shutil.ignore_patterns(
    ".git", ".venv", "_build", "student", "test-artifacts", "*.egg-info", ".*_cache",
    ".hypothesis", "__pycache__", "*.so",
)  # fmt: skip


def staged_book(into: Path) -> Path | None:
    """The book's sources with every chapter as nbval ran it (outputs in), or ``None``.

    ``make test`` runs the notebooks first (nbval); the book built from their outputs
    with execution off is the book ``make book`` builds, without executing every chapter
    a second time. ``None`` when some chapter has not run, or failed, in this session.
    """
    chapters = toc_chapters()
    if not chapters or any(path not in EXECUTED for path in chapters):
        return None
    staged = into / "source"
    shutil.copytree(ROOT, staged, ignore=NOT_THE_BOOK)
    for path in chapters:
        nbformat.write(EXECUTED[path], staged / path.relative_to(ROOT))
    config = yaml.safe_load((staged / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    (staged / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return staged


def toc_chapters() -> list[Path]:
    """The notebooks of ``_toc.yml``, in its order."""
    return [ROOT / f"{page}.ipynb" for page in toc_files() if page.startswith("notebooks/")]


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The book built once per test session (quick sizes, warnings as errors).

    From the notebooks as nbval ran them when it has (:func:`staged_book`), else
    executing them. ``KERNELS_SITE=path/to/_build/html`` reuses a site built before
    (for working on the browser tests).
    """
    if os.environ.get("KERNELS_SITE"):
        return Path(os.environ["KERNELS_SITE"])
    out = tmp_path_factory.mktemp("book")
    return build_book(staged_book(out) or ROOT, out)


def build_book(source: Path, out: Path) -> Path:
    """``jupyter-book build`` of ``source`` into ``out`` (warnings as errors, quick sizes).

    Notebooks keep their inline plots (no ``MPLBACKEND``). Returns the HTML folder; a
    failed build fails the test with the end of its output.
    """
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"} | {"KERNELS_QUICK": "1"}
    build = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(source), "-W", "-n", "--keep-going",
         "--path-output", str(out)],
        capture_output=True, text=True, env=env, timeout=1800, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    return out / "_build" / "html"


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux ``prctl``).

    A process whose parent died is re-parented to the nearest subreaper, or else to init,
    where ``children(recursive=True)`` cannot see it: a worker that outlives its pool's
    dead parent would escape the leftover check below. As a subreaper, this process
    adopts it, and the check sees it.
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


PR_SET_CHILD_SUBREAPER = 36
SUBREAPER = become_subreaper()


def helper_pids() -> set[int]:
    """Long-lived helpers the standard library starts once per interpreter, not per call.

    The resource tracker (which unlinks leaked shared memory and semaphores if we crash)
    lives as long as the interpreter by design; it is not a worker of any call.
    ``multiprocess`` has its own, and so has joblib's loky.
    """
    pids = set()
    for module in (multiprocessing.resource_tracker, multiprocess.resource_tracker,
                   loky_resource_tracker):  # fmt: skip
        pid = getattr(getattr(module, "_resource_tracker", None), "_pid", None)
        if pid:
            pids.add(pid)
    return pids


def browser_helper(process: psutil.Process) -> bool:
    """A helper process chromium starts when it first needs it (``--type=utility``, ...).

    The browser fixtures own chromium; its helpers come and go with its own needs (a
    service started during one page load), and die with the browser the fixture closes.
    The browser itself is not a helper: a test that leaves one running still fails.
    """
    command = process.cmdline()
    return bool(command) and "chrom" in Path(command[0]).name and any(
        arg.startswith("--type=") for arg in command)  # fmt: skip


def live_children() -> list[psutil.Process]:
    """Child processes of this test process that are still running (zombies excluded)."""
    children = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.pid in helper_pids() or child.status() == psutil.STATUS_ZOMBIE:
                continue
            if browser_helper(child):
                continue
        except psutil.NoSuchProcess:
            continue
        children.append(child)
    return children


def leftover_children(before: set[int], grace: float) -> list[tuple[int, str]]:
    """``(pid, command)`` of children not in ``before`` still running after ``grace`` s.

    Processes that are exiting get the grace period to finish.
    """
    deadline = time.monotonic() + grace
    while True:
        left = [p for p in live_children() if p.pid not in before]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    described = []
    for process in left:
        with contextlib.suppress(psutil.Error):
            described.append((process.pid, " ".join(process.cmdline())[:200]))
    return described


@pytest.fixture(autouse=True)
def no_leftover_children():
    """Fail a test that leaves a child process running after it returns."""
    before = {p.pid for p in live_children()}
    yield
    left = leftover_children(before, grace=2.0)
    assert not left, f"child processes left running: {left}"


# The notebooks nbval ran without a failure, each with the outputs its cells gave, by
# path: the book test builds the site from them (staged_book) instead of running them
# again. A notebook with a failed or skipped cell is left out.
EXECUTED: dict[Path, nbformat.NotebookNode] = {}


class NotebookRuns:
    """Hooks for the notebooks nbval runs: no process left behind; outputs kept.

    Cells are not fixtures' users, so the leftover check takes its snapshot before a
    notebook's first cell and looks again once its kernel has been shut down after the
    last one. Registered as a plugin (:func:`pytest_configure`), not left as this
    conftest's hooks: those would apply to the items under ``tests/`` only, and
    ``make test`` collects the notebooks from ``notebooks/``.
    """

    def __init__(self) -> None:
        self._before: dict[Path, set[int]] = {}
        self._folders: dict[Path, set[Path]] = {}
        self._failed: set[Path] = set()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item):
        if _notebook_cell(item) and item.path not in self._before:
            self._before[item.path] = {p.pid for p in live_children()}
            self._folders[item.path] = temporary_litter()
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        if _notebook_cell(item):
            if not report.passed:
                self._failed.add(item.path)
            elif report.when == "call":
                item.cell.outputs = list(getattr(item, "test_outputs", None) or [])
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item, nextitem):
        result = yield
        if _notebook_cell(item) and (nextitem is None or nextitem.path != item.path):
            before = self._before.pop(item.path, set())
            # the kernel and its children exit
            left = leftover_children(before, grace=float(item.config.getini("notebook_exit_grace")))
            # what the notebook's tools made in the temporary folders: gone once the kernel
            # has exited
            litter = temporary_litter() - self._folders.pop(item.path, set())
            # a kernel killed after it did not exit when asked ran no exit handlers
            code = KERNEL_EXITS.pop() if KERNEL_EXITS else 0
            problems = [*([f"left processes running: {left}"] if left else []),
                        *([f"left in the temporary folders: "
                           f"{sorted(map(str, litter))}"] if litter else []),
                        *([f"had a kernel that did not exit when asked (it ended with code "
                           f"{code}): its exit handlers did not run"] if code else [])]  # fmt: skip
            if problems:
                raise AssertionError(f"{item.path.name} " + "; and ".join(problems))
            if item.path not in self._failed:
                EXECUTED[item.path.resolve()] = item.parent.nb
        return result


def _notebook_cell(item) -> bool:
    return item.path.suffix == ".ipynb"


# What the book's tools make in the temporary folders, and must remove: the book's own
# folders (kernels-*) and tempfile's (tmp*), multiprocessing's folder for its sockets
# (pymp-*), hydra's topology files; in /dev/shm, multiprocessing's and loky's named
# semaphores, joblib's memory-mapped folders and MPICH's shared memory. (dask's workers
# share /tmp/dask-scratch-space, which dask keeps on purpose.)
LITTER = {
    Path(tempfile.gettempdir()): ("kernels-*", "tmp*", "pymp-*", "hydra_hwloc_xmlfile_*"),
    Path("/dev/shm"): ("sem.mp-*", "sem.loky-*", "joblib_memmapping_folder_*", "mpich_shm_*"),
}


def temporary_litter() -> set[Path]:
    """The entries in the temporary folders that look like :data:`LITTER` now."""
    return {path for folder, patterns in LITTER.items() for pattern in patterns
            for path in folder.glob(pattern)}  # fmt: skip


# The exit codes of the notebook kernels stopped, in order: 0 for a kernel that exited
# when asked, a negative signal number for one that had to be stopped.
KERNEL_EXITS: list[int] = []


def _stop_kernel_gracefully(self) -> None:
    """nbval's ``RunningKernel.stop``, letting the kernel exit before it would be killed.

    nbval kills a notebook's kernel at once (``shutdown_kernel(now=True)``): its exit
    handlers never run, and the resource trackers in its process group die with it, so
    what they would remove stays in ``/dev/shm`` (multiprocessing's named semaphores,
    joblib's memory-map folders). JupyterLab asks a kernel to shut down; so does this, and
    notes how the kernel ended (:data:`KERNEL_EXITS`): a kernel still running after half
    of ``shutdown_wait_time`` is stopped with SIGTERM, and its exit handlers do not run.
    """
    process = getattr(self.km.provisioner, "process", None)
    self.kc.stop_channels()
    self.km.shutdown_kernel(now=False)
    KERNEL_EXITS.append((process.poll() or 0) if process is not None else 0)
    del self.km


def pytest_addoption(parser):
    parser.addini("notebook_exit_grace", default="10",
                  help="seconds a notebook's kernel and its children get to exit before a "
                       "process still running fails the notebook")  # fmt: skip


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("kernels-notebook-runs"):
        config.pluginmanager.register(NotebookRuns(), "kernels-notebook-runs")
    if config.pluginmanager.has_plugin("nbval"):
        from nbval.kernel import RunningKernel

        RunningKernel.stop = _stop_kernel_gracefully
