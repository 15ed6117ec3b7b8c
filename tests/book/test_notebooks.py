"""Every chapter notebook is committed clean and has the parts a chapter must have."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import psutil
import pytest
import yaml
from conftest import ROOT, execute_notebook

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_notebook_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in toc, path.name
    assert yaml.safe_load(toc)["root"] == "book/intro"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, cell.source[:60]
    assert "widgets" not in nb.metadata


# The machines whose run times every chapter's header and book/instructors.md's table
# both give, with the header's words for each and the table's column.
RUN_TIME_MACHINES = {
    "Intel Xeon (AVX-512)": "run time, Intel Xeon (default / quick)",
    "AMD EPYC (Zen 5)": "run time, AMD EPYC Zen 5 (default / quick)",
}


def instructors_run_times() -> dict[str, dict[str, str]]:
    """book/instructors.md's run times: chapter number -> column -> "D s / Q s".

    Read from the table whose first column is "chapter", down to its last row.
    """
    lines = (ROOT / "book" / "instructors.md").read_text().splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("| chapter |"))
    table = itertools.takewhile(lambda line: line.startswith("|"), lines[start:])
    header, _rule, *rows = [[cell.strip() for cell in line.strip("|").split("|")]
                            for line in table]  # fmt: skip
    columns = [header.index(name) for name in RUN_TIME_MACHINES.values()]
    return {row[0][:2]: {header[k]: row[k] for k in columns} for row in rows}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_header_states_the_run_times_in_the_instructors_table(path):
    # Each header gives its measured run time, default and KERNELS_QUICK=1, per machine,
    # and the instructors' table the same figures: one measurement, told twice.
    header = nbformat.read(path, as_version=4).cells[0].source
    assert "**Run time.**" in header and "`KERNELS_QUICK=1`" in header
    table = instructors_run_times()[path.name[:2]]
    for machine, column in RUN_TIME_MACHINES.items():
        found = re.search(re.escape(machine) + r" with 2 cores(?:, compiled)?: (\d+) s, and "
                          r"(\d+) s quick\.", " ".join(header.split()))  # fmt: skip
        assert found, f"{path.name}'s header gives no run time on the {machine}"
        assert table[column] == f"{found[1]} s / {found[2]} s", (machine, table[column])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_a_unique_id(path):
    # nbformat 4.5 requires them (a warning now, "a hard error in future versions").
    cells = json.loads(path.read_text())["cells"]
    ids = [cell.get("id") for cell in cells]
    assert None not in ids and len(set(ids)) == len(ids)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_structure(path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Learning objectives" in text and "## Summary" in text and "What's next" in text
    # Carpentries-style scaffolding: key points beside the summary, and quick questions
    # whose answers stay hidden until clicked.
    assert "## Key points" in text and "```{admonition} Key points" in text
    assert "## Check your understanding" in text
    assert text.count("```{admonition} Answer\n:class: dropdown") >= 3
    assert text.index("## Key points") < text.index("## Summary")
    exercises = text.count("```{exercise}")
    assert exercises >= 3
    assert text.count("{solution-start}") == exercises == text.count("{solution-end}")
    assert text.count(":class: dropdown") >= exercises  # solutions hidden until clicked
    blocks = solution_blocks(nb)
    assert len(blocks) == exercises
    for cells in blocks:
        # Every cell of a solution is tagged (so that `make student` can drop it), and the
        # last one asserts its checker: a wrong solution fails nbval and the book build.
        assert cells and all("solution" in c.metadata.get("tags", []) for c in cells)
        # ...and collapsed in JupyterLab (the site keeps its dropdowns).
        assert all(c.metadata.get("jupyter", {}).get("source_hidden") for c in cells)
        last = cells[-1].source.rstrip().splitlines()
        assert re.fullmatch(r"assert (\w+_)?checks\.check_\w+\(.*\)", last[-1]), last


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_output_marker_that_compares_nothing(path):
    # Committed without outputs, a cell marked for nbval's output comparison compares
    # nothing: the facts are asserted in the cells instead.
    text = path.read_text()
    assert "NBVAL_CHECK_OUTPUT" not in text


def solution_blocks(nb) -> list[list]:
    """The code cells between each ``{solution-start}`` and its ``{solution-end}``."""
    blocks, current = [], None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "{solution-start}" in cell.source:
            current = []
        elif cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            blocks.append(current)
            current = None
        elif current is not None and cell.cell_type == "code":
            current.append(cell)
    return blocks


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_sizes_come_from_kernels(path):
    # Notebooks take sizes from kernels.sizes so that KERNELS_QUICK=1 shrinks them.
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert re.search(r"\bsizes\.(scaling_)?params\(", source) and "sizes.repeats(" in source


@pytest.mark.slow
def test_a_wrong_solution_fails_its_chapter():
    # Teeth: chapter 01's imports, then its load-balance solution replaced by the
    # interleaving the chapter showed (right for the image, wrong for uneven costs), must
    # stop at the solution's assert (the cells between them are not needed: nbval runs
    # the chapter whole).
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(ROOT / "notebooks" / "01_foundations.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    (solution,) = [c for c in code if "solution" in c.metadata.get("tags", [])
                   and "checks.check_balanced_rows" in c.source]  # fmt: skip
    solution.source = (
        "def balanced_rows(costs, workers):\n"
        "    return [list(range(k, len(costs), workers)) for k in range(workers)]\n\n\n"
        "assert checks.check_balanced_rows(balanced_rows)\n"
    )
    nb.cells = [code[0], solution]
    with pytest.raises(CellExecutionError) as failed:
        execute_notebook(nb, timeout=300)
    assert "AssertionError" in str(failed.value)
    assert "assert checks.check_balanced_rows" in str(failed.value)


# Dollar math needs MathJax, which the offline site does not load: it would show raw.
DOLLAR_MATH = re.compile(r"(?<![\w`$])\$[^\s$`][^$\n`]*[^\s$`]\$(?!\w)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_dollar_math_in_the_text(path):
    cells = nbformat.read(path, as_version=4).cells
    found = [m for c in cells if c.cell_type == "markdown" for m in DOLLAR_MATH.findall(c.source)]
    assert not found, found


def test_dollar_math_pattern_has_teeth():
    assert DOLLAR_MATH.findall("tolerance ($10^{-12}$ of the peak)") == ["$10^{-12}$"]
    assert not DOLLAR_MATH.findall("costs $5 and `$HOME` or $ mpiexec")


def run_with_conftest(nb, path: Path, *options: str) -> subprocess.CompletedProcess:
    """Write ``nb`` to ``path`` and run it with ``make notebook``: nbval in a pytest of its
    own, with this suite's conftest (its notebook checks) as a plugin.

    This Python's environment stands in for ``.venv`` (``BIN``), already installed (``-o``
    the install's stamp): the run takes only what the target itself adds.
    """
    nbformat.write(nb, path)
    venv, stamp = sys.prefix, Path(sys.prefix, ".installed")
    pytest_args = " ".join(["-q", "-p", "no:cacheprovider", *options])
    command = ["make", "-s", "-o", str(stamp), f"VENV={venv}", f"BIN={Path(sys.executable).parent}",
               "notebook", f"NB={path}", f"PYTEST_ARGS={pytest_args}"]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_make_notebook_asks_for_the_notebooks_when_none_is_named():
    done = subprocess.run(["make", "-s", "-o", str(Path(sys.prefix, ".installed")),
                           f"VENV={sys.prefix}", "notebook", "NB="],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)  # fmt: skip
    assert done.returncode != 0
    assert "name the notebooks to run: make notebook NB=notebooks/" in done.stdout + done.stderr


def test_a_notebook_that_leaves_a_process_running_fails(tmp_path):
    # Teeth for conftest's notebook hooks: nbval runs a notebook whose cell starts a
    # detached process; once the kernel is shut down the orphan is still running, and
    # the run must fail naming it (then this test stops it). The kernel is shut down,
    # not killed: the named semaphore its other cell made is removed as it exits.
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'],\n"
        "                 start_new_session=True)\n"
    ), nbformat.v4.new_code_cell(
        "import multiprocessing, pathlib\n"
        "lock = multiprocessing.get_context('spawn').Lock()\n"
        "pathlib.Path('semaphore').write_text(lock._semlock.name)\n"
    ), nbformat.v4.new_code_cell(
        "import tempfile\n"
        "pathlib.Path('folder').write_text(tempfile.mkdtemp(prefix='kernels-leak-'))\n"
    )]  # fmt: skip
    try:
        # The orphan never exits: 2 s of grace tell it as well as the default 10.
        done = run_with_conftest(nb, tmp_path / "leaks.ipynb", "-o", "notebook_exit_grace=2")
    finally:
        for process in psutil.process_iter(["cmdline"]):
            if process.info["cmdline"] and "time.sleep(300)" in " ".join(process.info["cmdline"]):
                process.kill()
        with contextlib.suppress(OSError):
            shutil.rmtree((tmp_path / "folder").read_text())
    assert done.returncode != 0, done.stdout[-2000:]
    assert "leaks.ipynb left processes running" in done.stdout, done.stdout[-2000:]
    assert "left in the temporary folders" in done.stdout, done.stdout[-2000:]
    semaphore = (tmp_path / "semaphore").read_text()  # "/mp-..."; in /dev/shm as sem.mp-...
    assert not (Path("/dev/shm") / f"sem.{semaphore.lstrip('/')}").exists()


@pytest.mark.parametrize("imported", ["", "import kernels\n"], ids=["plain", "with-kernels"])
def test_a_kernel_that_ran_pools_exits_when_asked_only_with_kernels(tmp_path, imported):
    # A kernel that ran spawn and forkserver pools keeps their helpers (resource tracker,
    # fork server), which ipykernel's SIGTERM does not end, so it is still waiting for
    # them when Jupyter stops it with SIGTERM: its exit handlers never run, and
    # multiprocessing's folder stays in /tmp. The run must fail saying both (teeth for
    # conftest's checks). With kernels imported, the kernel stops the helpers itself
    # (kernels.core.kernel_exit), exits when asked, and leaves nothing.
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        f"{imported}import multiprocessing\n"
        "for method in ('spawn', 'forkserver'):\n"
        "    with multiprocessing.get_context(method).Pool(1) as pool:\n"
        "        pool.map(abs, [-1])\n"
    )]  # fmt: skip
    folders = set(Path(tempfile.gettempdir()).glob("pymp-*"))
    try:
        done = run_with_conftest(nb, tmp_path / "killed.ipynb")
    finally:
        for folder in set(Path(tempfile.gettempdir()).glob("pymp-*")) - folders:
            shutil.rmtree(folder, ignore_errors=True)
    if imported:
        assert done.returncode == 0, done.stdout[-2000:]
        return
    assert done.returncode != 0, done.stdout[-2000:]
    assert "did not exit when asked (it ended with code -15)" in done.stdout, done.stdout[-2000:]
    assert "left in the temporary folders" in done.stdout and "pymp-" in done.stdout


def test_learners_are_not_told_to_shrink_the_sizes():
    # Chapters run in about a minute at their default sizes; KERNELS_QUICK is for CI,
    # and at its sizes the live plots teach the opposite lesson.
    pages = [*(ROOT / "book").glob("*.md"), ROOT / "README.md"]
    texts = [p.read_text() for p in pages] + [
        c.source for p in NOTEBOOKS for c in nbformat.read(p, as_version=4).cells
    ]
    for text in texts:
        assert "%env KERNELS_QUICK" not in text and "set `KERNELS_QUICK=1` for" not in text
