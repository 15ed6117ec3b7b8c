"""How long each chapter takes to run top to bottom, measured (``python -m kernels chapters``).

Each notebook runs in a fresh Jupyter kernel, as "Restart and run all" does, in the
notebooks' folder and with this process's environment (so ``KERNELS_QUICK=1`` gives the
quick sizes). The figures go into the chapters' headers and the instructors' page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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


def chapter_paths(source: Path, only: list[str] | None = None) -> list[Path]:
    """Every ``NN_*.ipynb`` in ``source`` in order (or those starting one of ``only``).

    Raises ``ValueError`` if there is none.
    """
    paths = sorted(source.glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.name.startswith(prefix) for prefix in only)]
    if not paths:
        raise ValueError(f"no chapter notebooks (NN_name.ipynb) in {source}")
    return paths


class ChapterFailedError(RuntimeError):
    """A chapter's run stopped at an error (the message names the chapter and the cell)."""


def time_chapters(
    paths: list[Path], done: Callable[[str, float], None] | None = None
) -> dict[str, float]:
    """Seconds per chapter notebook in ``paths`` (from :func:`chapter_paths`), in turn.

    ``done(name, seconds)`` is called as each chapter finishes. Raises
    :class:`ChapterFailedError` naming the first chapter whose run failed.
    """
    seconds = {}
    for path in paths:
        try:
            seconds[path.stem] = time_chapter(path)
        except Exception as exc:
            raise ChapterFailedError(f"{path.stem} failed: {exc}") from exc
        if done is not None:
            done(path.stem, seconds[path.stem])
    return seconds
