"""The package's layout rules: imports flow one way, nothing heavy is imported early,
registration is data, extras are real, and the book shows only listed, public code."""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, execute_notebook

from kernels.core import catalogue, shown
from kernels.core.registry import BACKENDS
from kernels.core.subprocesses import run_command

PACKAGE = ROOT / "kernels"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# The libraries a process should pay for only when it uses them.
HEAVY = [
    "dask", "distributed", "jax", "numba", "mpi4py", "Cython", "scipy", "aiohttp", "httpx",
    "pandas", "matplotlib",
]  # fmt: skip
TOOLS = {"foundations", "profiling", "multiprocessing", "multiprocess", "joblib", "dask",
         "mpi4py", "cython", "numba", "jax", "asyncio", "c"}  # fmt: skip
# core -> problems (and the package's public names) -> tools -> the comparison of tools ->
# front ends.
LAYERS = {"core": 0, "problems": 1, "package": 1, **dict.fromkeys(TOOLS, 2), "choosing": 3,
          "frontends": 4}  # fmt: skip


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def folder(module: str) -> str:
    """The top folder of a module: ``core``, ``problems``, a tool, ..."""
    parts = module.split(".")
    if len(parts) == 1:
        return "package"  # kernels/__init__.py: the core's public API, and the problems
    return "frontends" if parts[1] == "__main__" else parts[1]


def imported(module: str, path: Path) -> set[str]:
    """The ``kernels`` modules that ``module`` imports, anywhere in it (functions too)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            names = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES]
            names = names or [target]
        else:
            continue
        found |= {n for n in names if n == "kernels" or n.startswith("kernels.")}
    return {n if n in MODULES else n.rpartition(".")[0] for n in found} - {module}


GRAPH = {m: imported(m, p) for m, p in MODULES.items()}


def test_the_folders_are_the_layers_and_the_tools():
    assert {folder(m) for m in MODULES} == set(LAYERS)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_flow_one_way_and_tools_never_import_each_other(module):
    here = folder(module)
    for target in GRAPH[module]:
        there = folder(target)
        assert LAYERS[there] <= LAYERS[here], f"{module} ({here}) imports {target} ({there})"
        if here in TOOLS and there in TOOLS:
            assert here == there, f"tool {here} imports tool {there}: {module} -> {target}"


def test_no_import_cycles():
    done, path = set(), []

    def visit(module):
        if module in path:
            cycle = [*path[path.index(module) :], module]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        path.append(module)
        for target in sorted(GRAPH[module]):
            visit(target)
        path.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)


def test_the_layout_test_sees_real_imports():
    # Teeth: the checks above would pass on an empty graph.
    assert "kernels.core.registry" in GRAPH["kernels.core.api"]
    assert "kernels.problems.mandelbrot" in GRAPH["kernels.foundations.backend"]
    assert "kernels.dask.graphs" in GRAPH["kernels.dask.backend"]
    assert "kernels.numba.compute" in GRAPH["kernels.numba.backend"]  # inside functions


def python_output(code: str, env: dict | None = None) -> str:
    """What ``code`` prints in a fresh interpreter (which must succeed)."""
    done = run_command([sys.executable, "-c", textwrap.dedent(code)], timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


LIGHT = sorted(
    m for m in MODULES
    if folder(m) in ("package", "core", "problems")
)  # fmt: skip


def test_the_public_functions_keep_their_names_after_every_import():
    # Importing a subpackage binds its name on the parent: kernels.problems must stay
    # the function, whatever is imported later.
    out = python_output("""
        import kernels
        import kernels.problems.heat, kernels.core.api
        print(callable(kernels.problems), kernels.problems())
    """)
    assert out.strip() == "True ['mandelbrot', 'monte_carlo_pi', 'heat']"


def test_kernels_the_core_and_the_problems_leave_heavy_libraries_out():
    out = python_output(f"""
        import importlib, json, sys
        import kernels
        for module in {LIGHT!r}:
            importlib.import_module(module)
        for problem in kernels.problems():
            kernels.backends(problem), kernels.unavailable(problem)
        print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
    """)
    assert json.loads(out) == []


def test_a_spawned_worker_pays_for_numpy_not_for_the_tools():
    out = python_output(f"""
        import json
        import kernels
        from kernels.core import tasks
        from kernels.core.pools import process_pool, run_tasks

        if __name__ == "__main__":
            image = kernels.run("mandelbrot", "multiprocessing", workers=2, width=20, height=8)
            with process_pool(1, "spawn") as pool:
                worker = run_tasks(pool, tasks.loaded_modules, [None])[0]
            print(json.dumps({{"heavy": [m for m in {HEAVY!r} if m in worker],
                              "numpy": "numpy" in worker, "rows": len(image)}}))
    """)
    assert json.loads(out) == {"heavy": [], "numpy": True, "rows": 8}


def test_registration_is_data_and_the_tool_is_imported_on_first_use():
    out = python_output("""
        import json, sys
        import kernels
        from kernels.core.registry import BACKENDS
        names = kernels.backends("heat")
        before = "kernels.dask.backend" in sys.modules or "dask" in sys.modules
        kernels.run("heat", "dask", workers=2, n=12, steps=3)
        after = "kernels.dask.backend" in sys.modules and "dask" in sys.modules
        print(json.dumps([before, after, "dask" in names, len(BACKENDS)]))
    """)
    assert json.loads(out) == [False, True, True, len(catalogue.BACKENDS)]


def test_every_catalogue_entry_names_a_function_that_exists():
    for backend in BACKENDS.values():
        assert callable(backend.func), backend.target
        assert backend.func.__name__ == backend.target.rpartition(":")[2]


# Blocks the import of the extras named in KERNELS_BLOCK, as if they were not installed.
BLOCKER = """
import os, sys
for name in os.environ.get("KERNELS_BLOCK", "").split(","):
    if name:
        sys.modules[name] = None
"""
EXTRAS = {"dask": ["dask", "distributed"], "jax": ["jax"], "compiled": ["numba"], "mpi": ["mpi4py"]}


@pytest.fixture
def blocked_env(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    blocked = ",".join(m for modules in EXTRAS.values() for m in modules)
    return {**os.environ, "PYTHONPATH": path, "KERNELS_BLOCK": blocked}


def test_missing_extras_leave_their_backends_out_and_say_what_to_install(blocked_env):
    out = python_output("""
        import json
        import kernels
        try:
            kernels.run("mandelbrot", "dask", workers=2)
        except kernels.BackendUnavailableError as exc:
            error = str(exc)
        print(json.dumps({"backends": kernels.backends("mandelbrot"), "error": error}))
    """, env=blocked_env)  # fmt: skip
    result = json.loads(out)
    assert result["backends"] == ["python", "numpy", "threads", "multiprocessing",
                                  "multiprocess", "joblib", "cython",
                                  "cython-parallel"]  # fmt: skip
    assert "pip install 'parallel-python-kernels[dask]'" in result["error"]
    info = python_output("from kernels.frontends.cli import main; main(['info'])", blocked_env)
    for extra, backend in [("dask", "dask-distributed"), ("jax", "jax-sharded"),
                           ("compiled", "numba-parallel"), ("mpi", "mpi")]:  # fmt: skip
        line = next(ln for ln in info.splitlines() if ln.strip().startswith(backend + " "))
        assert f"pip install 'parallel-python-kernels[{extra}]'" in line, line


@pytest.mark.slow
def test_a_chapter_runs_without_the_other_chapters_extras(blocked_env):
    nb = nbformat.read(ROOT / "notebooks" / "01_foundations.ipynb", as_version=4)
    probe = "import importlib.util\nprint([importlib.util.find_spec(m) for m in ('dask', 'jax')])"
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    env = {**blocked_env, "KERNELS_QUICK": "1"}
    env.pop("MPLBACKEND", None)
    execute_notebook(nb, env=env)
    assert nb.cells[-1].outputs[0]["text"].strip() == "[None, None]"  # really blocked


# --- What the book shows ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(shown.shown_names()))
def test_every_listed_name_has_source(name):
    assert shown.source(name).lstrip().startswith(("def ", "async def ", "@", '"""', "class "))


@pytest.mark.parametrize("name", sorted(shown.shown_names()))
def test_the_source_shown_is_what_inspect_gives_for_the_imported_object(name):
    obj = shown.resolve(name)
    assert shown.source(name) == inspect.getsource(getattr(obj, "py_func", obj)).rstrip()


def test_showing_the_kernels_imports_no_tool_and_starts_no_mpi():
    """A chapter prints MPI, numba and JAX kernels: reading them loads none of the three.

    (An MPI program's module starts MPI when imported, making the notebook's kernel an
    MPI process whose shared memory is left behind if the kernel is killed.)
    """
    out = python_output(f"""
        import json, sys
        from kernels.core import shown
        texts = [shown.source(name) for name in sorted(shown.shown_names())]
        print(json.dumps(sorted(m for m in [*{HEAVY!r}, "mpi4py.MPI"] if m in sys.modules)))
    """)
    assert json.loads(out) == []


def test_every_listed_file_exists():
    for files in shown.FILES.values():
        for package, name in files:
            assert shown.file_text(package, name)


def test_shown_is_listed_per_tool():
    for tool, names in shown.SHOWN.items():
        assert all(name.startswith(f"kernels.{tool}.") for name in names), tool


def notebook_aliases(nb) -> dict[str, str]:
    """Each name a notebook binds by importing from ``kernels``, with its dotted path."""
    aliases = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.source.startswith("%%"):
            continue  # a cell magic's body is not Python (%%cython)
        lines = cell.source.splitlines()
        source = "\n".join(ln for ln in lines if not ln.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kernels"):
                for a in node.names:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("kernels"):
                        aliases[a.asname or a.name.split(".")[0]] = a.name
    return aliases


def code_cells(nb):
    return [c.source for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_getsource_in_the_book_is_listed(path):
    nb = nbformat.read(path, as_version=4)
    aliases = notebook_aliases(nb)
    targets = re.findall(r"inspect\.getsource\(([\w.]+)\)", "\n".join(code_cells(nb)))
    for target in targets:
        head, _, rest = target.partition(".")
        full = aliases.get(head, head) + (f".{rest}" if rest else "")
        assert full in shown.shown_names(), f"{path.name} shows {full}, not listed in SHOWN"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_use_public_names_and_no_backend_module(path):
    nb = nbformat.read(path, as_version=4)
    aliases = notebook_aliases(nb)
    for dotted in aliases.values():
        assert not any(part.startswith("_") for part in dotted.split(".")), dotted
        assert not dotted.endswith(".backend"), f"{dotted}: run backends with kernels.run"
    code = "\n".join(code_cells(nb))
    for name in aliases:
        private = re.findall(rf"\b{re.escape(name)}\.(_\w+)", code)
        assert not [p for p in private if not p.startswith("__")], (name, private)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if folder(m) == "core"))
def test_the_core_imports_only_the_standard_library_numpy_and_psutil(module):
    allowed = set(sys.stdlib_module_names) | {"numpy", "psutil", "kernels"}
    for node in ast.parse(MODULES[module].read_text()).body:  # module level: on import
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module]
        else:
            continue
        assert {n.split(".")[0] for n in names} <= allowed, (module, names)
