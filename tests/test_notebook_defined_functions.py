"""Functions defined in a notebook, sent to worker processes, in a real Jupyter kernel.

In a notebook ``__main__`` is the kernel's namespace, which a spawned worker cannot
import: plain ``pickle`` sends functions by name, so ``multiprocessing`` fails there,
while ``multiprocess`` (``dill``) sends them by value. This runs exactly that in a
kernel started the way Jupyter starts one.
"""

from __future__ import annotations

import nbclient
import nbformat
import pytest

CELLS = [
    """\
import dill
import numpy as np
from kernels.backends.watched_pool import watched_pool

dill.settings["recurse"] = True  # also send the notebook globals a function uses
SCALE = 3

def scaled_root(x):
    return float(np.sqrt(x)) * SCALE
""",
    """\
with watched_pool(2, "spawn", "multiprocess") as pool:
    print(pool.map(lambda x: x * x, range(5)))
    print(pool.map(scaled_root, [4, 9]))
""",
    """\
import kernels
try:
    with watched_pool(2, "spawn", "multiprocessing") as pool:
        pool.map(scaled_root, [4, 9])
except kernels.WorkerDiedError as error:
    print("WorkerDiedError:", error)
""",
]


@pytest.fixture(scope="module")
def outputs():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    return ["".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells]


def test_multiprocess_runs_a_notebook_lambda_and_function_under_spawn(outputs):
    assert outputs[1] == "[0, 1, 4, 9, 16]\n[6.0, 9.0]\n"


def test_multiprocessing_fails_on_a_notebook_function_instead_of_hanging(outputs):
    assert outputs[2].startswith("WorkerDiedError: a worker process died")
    assert "exited with code 1" in outputs[2]
