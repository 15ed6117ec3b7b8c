"""The MPI chapter's example scripts: run them with ``kernels.mpi_launch.run_script``.

From a shell: ``mpiexec -n 4 python -m mpi4py hello.py`` in this folder.
"""

from pathlib import Path

FOLDER = Path(__file__).parent


def path(name: str) -> Path:
    """The file of example ``name`` (``"hello"`` -> ``.../examples/hello.py``)."""
    script = FOLDER / f"{name}.py"
    if not script.is_file():
        known = ", ".join(sorted(p.stem for p in FOLDER.glob("*.py") if p.stem != "__init__"))
        raise ValueError(f"no MPI example {name!r}; the examples are: {known}")
    return script
