"""How long each chapter takes to run top to bottom, measured (``python -m kernels chapters``).

Each notebook runs in a fresh Jupyter kernel, as "Restart and run all" does, in the
notebooks' folder and with this process's environment (so ``KERNELS_QUICK=1`` gives the
quick sizes). The figures go into the chapters' headers and the instructors' page.
"""

from __future__ import annotations

import time
from pathlib import Path


def time_chapter(path: Path, timeout: float = 900.0) -> float:
    """Seconds to execute the notebook at ``path`` from a fresh kernel; raises if a cell fails."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})  # fmt: skip
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def time_chapters(source: Path, only: list[str] | None = None) -> dict[str, float]:
    """Seconds per chapter for every ``NN_*.ipynb`` in ``source`` (or those starting ``only``)."""
    paths = sorted(source.glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.name.startswith(prefix) for prefix in only)]
    if not paths:
        raise ValueError(f"no chapter notebooks (NN_name.ipynb) in {source}")
    return {path.stem: time_chapter(path) for path in paths}
