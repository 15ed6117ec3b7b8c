"""Every chapter notebook is committed clean and has the parts a chapter must have."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_structure(path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Learning objectives" in text and "## Summary" in text and "What's next" in text
    exercises = text.count("```{exercise}")
    assert exercises >= 3
    assert text.count("{solution-start}") == exercises == text.count("{solution-end}")
    assert text.count(":class: dropdown") >= exercises  # solutions hidden until clicked
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) == exercises
    for cell in solutions:
        assert "exercises.check_" in cell.source and "# NBVAL_CHECK_OUTPUT" in cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_sizes_come_from_kernels(path):
    # Notebooks take sizes from kernels.sizes so that KERNELS_QUICK=1 shrinks them.
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert "sizes.params(" in source and "sizes.repeats()" in source
