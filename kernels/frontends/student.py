"""Student copies of the chapters: every exercise kept, every solution removed.

``make student`` (``python -m kernels student``) writes ``student/NN_name.ipynb`` for
each chapter: the cells tagged ``solution`` and the dropdown markers around them
(``{solution-start}`` / ``{solution-end}``) are dropped; the exercise texts, the stub
cells and their checker calls stay, and the checkers come from each chapter's ``checks.py``
as in the full book. ``make book`` still builds the full book with the solutions.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

SOLUTION_TAG = "solution"
# The gated-directive markers of sphinx-exercise, with their options (":class: dropdown").
MARKER = re.compile(
    r"````\{solution-start\}[^\n]*\n(?::[^\n]*\n)*````[ \t]*\n?|````\{solution-end\}\n````[ \t]*\n?"
)


def strip_solutions(notebook):
    """Return a copy of ``notebook`` without its solutions (outputs cleared too).

    Solution cells (tagged ``solution``) go; the solution markers go from the markdown
    cells, and a markdown cell left empty goes too, while any text it shares with a
    marker (the next section, say) stays.
    """
    copy = nbformat.from_dict(notebook)
    cells = []
    for cell in copy.cells:
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            cell.source = MARKER.sub("", cell.source).strip("\n")
            if not cell.source.strip():
                continue
        else:
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    copy.cells = cells
    return copy


def write_student_copies(source: Path, target: Path) -> list[Path]:
    """Write a solution-free copy of every ``source/*.ipynb`` into ``target`` (replaced).

    Returns the paths written. ``target`` must not be ``source``.
    """
    source, target = Path(source).resolve(), Path(target).resolve()
    if source == target:
        raise ValueError(f"the student copy must go elsewhere than {source}")
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        raise ValueError(f"no notebooks in {source}")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    written = []
    for path in notebooks:
        nbformat.write(strip_solutions(nbformat.read(path, as_version=4)), target / path.name)
        written.append(target / path.name)
    return written
