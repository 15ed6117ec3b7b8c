"""``make student``: the chapters without solutions, with every exercise and checker."""

from __future__ import annotations

import importlib
import re

import nbformat
import pytest
from conftest import ROOT

from kernels.frontends import cli
from kernels.frontends.student import strip_solutions, write_student_copies

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    assert cli.main(["student", "--source", str(ROOT / "notebooks"), "--out", str(out)]) == 0
    return out


def solution_sources(nb) -> list[str]:
    return [c.source for c in nb.cells if "solution" in c.metadata.get("tags", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_text_and_every_exercise_kept(copies, path):
    full = nbformat.read(path, as_version=4)
    student = nbformat.read(copies / path.name, as_version=4)
    text = "\n".join(c.source for c in student.cells)
    assert "{solution-start}" not in text and "{solution-end}" not in text
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
    for source in solution_sources(full):
        # The checker call is in the stub too; everything else of a solution must go.
        body = "\n".join(
            line for line in source.splitlines()
            if "checks.check_" not in line
        ).strip()  # fmt: skip
        assert not body or body not in text, f"a solution of {path.name} survives"
    exercises_full = "\n".join(c.source for c in full.cells).count("```{exercise}")
    assert text.count("```{exercise}") == exercises_full >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_checker_the_copy_calls_exists(copies, path):
    copy = nbformat.read(copies / path.name, as_version=4)
    text = "\n".join(c.source for c in copy.cells if c.cell_type == "code")
    # The chapter imports checkers from tools' folders: kernels.<tool>.checks, as
    # ``checks`` or under an alias (``joblib_checks``), or a module of their own
    # (``kernels.dask.distributed_checks``).
    modules = {}
    for tool, names in re.findall(r"^from kernels\.(\w+) import (.+)$", text, re.M):
        for name in names.split(","):
            imported, _, alias = name.strip().partition(" as ")
            if imported == "checks" or imported.endswith("_checks"):
                modules[alias or imported] = f"{tool}.{imported}"
    called = re.findall(r"\b(\w*checks)\.(check_\w+)", text)
    assert called and modules
    for alias, name in set(called):
        check = getattr(importlib.import_module(f"kernels.{modules[alias]}"), name)
        result = check(None)  # no answer yet: a clear "not yet", never an exception
        assert not result.passed and "Not yet" in result.message


def test_strip_keeps_everything_else():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("```{exercise} E\n:label: e\ntext\n```"),
        nbformat.v4.new_code_cell("stub()\nchecks.check_x(stub)"),
        nbformat.v4.new_markdown_cell("````{solution-start} e\n:class: dropdown\n````"),
        nbformat.v4.new_code_cell("answer()", metadata={"tags": ["solution"]}),
        nbformat.v4.new_markdown_cell("````{solution-end}\n````"),
    ]
    nb.cells.append(nbformat.v4.new_markdown_cell("````{solution-end}\n````\n\n## Next"))
    nb.cells[4].source = "````{solution-end}\n````"
    kept = [c.source for c in strip_solutions(nb).cells]
    assert kept == [nb.cells[0].source, nb.cells[1].source, "## Next"]


def test_student_copy_refuses_to_overwrite_the_chapters():
    with pytest.raises(ValueError, match="elsewhere than"):
        write_student_copies(ROOT / "notebooks", ROOT / "notebooks")


def test_makefile_and_readme_document_the_target():
    assert "\nstudent: install\n" in (ROOT / "Makefile").read_text()
    assert "make student" in (ROOT / "README.md").read_text()
    assert "make student" in (ROOT / "book" / "instructors.md").read_text()
