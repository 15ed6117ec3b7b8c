"""The book builds with warnings as errors, offline-complete, with the chapter's figures."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import ROOT, build_book, toc_chapters, toc_files


@pytest.mark.slow
def test_every_toc_page_is_built(site):
    for name in toc_files():
        assert (site / f"{name}.html").is_file(), name
    assert (site / "index.html").is_file() and (site / "search.html").is_file()


@pytest.mark.slow
def test_the_book_s_execution_settings_run_a_notebook(tmp_path):
    # The site test builds from nbval's outputs, with execution off: this one-page book
    # keeps the project's execute, parse and sphinx settings, so `make book`'s own run
    # of a notebook (kernel, timeout, outputs, figures) is tested too.
    import nbformat

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    page = {key: config[key] for key in ("execute", "parse", "sphinx")}
    (tmp_path / "_config.yml").write_text(yaml.safe_dump({"title": "one page", **page}))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    nb.cells = [
        nbformat.v4.new_markdown_cell("# One page"),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\n"
                                  "print('ran', 6 * 7)\nplt.plot([1, 2, 3]);"),
    ]  # fmt: skip
    nbformat.write(nb, tmp_path / "page.ipynb")
    html = (build_book(tmp_path, tmp_path) / "page.html").read_text()
    assert "ran 42" in html and "<img" in html  # executed: its output and its figure


# The figures each chapter draws from live measurements (at least).
FIGURES = {
    "01_foundations": 6,  # problems, GIL, laws, rows, strong and weak scaling
    "02_profiling": 2,  # the profile as bars, py-spy's flame graph
    "03_multiprocessing": 6,  # chunksize, balance, transfer, a speedup per problem
    "04_multiprocess": 3,  # serialisation cost, two speedups
    # schedulers, task overhead, chunk sizes, dataframe (+ two task graphs with Graphviz)
    "05_dask": 4,
    "06_dask_distributed": 2,  # two speedups
    "07_mpi4py": 3,  # ping-pong, two speedups
    "08_cython": 3,  # from Python to C speed, two speedups
    "09_numba": 2,  # two speedups
    "10_jax": 2,  # two speedups
    "11_asyncio": 2,  # requests per second, NumPy threads speedup
    "12_choosing": 2,  # every tool against C, start-up costs
}


def test_every_chapter_has_a_figure_count():
    chapters = {path.stem for path in toc_chapters()}
    assert chapters == set(FIGURES)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", sorted(FIGURES))
def test_chapter_has_its_figures_and_hidden_solutions(site, chapter):
    page = (site / "notebooks" / f"{chapter}.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+)"', page)
    figures = [src for src in images if src.startswith("../_images/")]
    assert len(figures) >= FIGURES[chapter], images
    for src in figures:
        assert (site / "notebooks" / src).resolve().stat().st_size > 5_000, src
    assert page.count('class="exercise admonition"') >= 3
    assert page.count('class="solution dropdown admonition"') >= 3  # collapsed until clicked
    assert "usable cores" in page  # the chapter prints the machine it measured on


@pytest.mark.slow
def test_no_page_depends_on_a_cdn(site):
    for html in site.rglob("*.html"):
        text = html.read_text()
        external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', text)
        assert not [u for u in external if not u.startswith("https://github.com")], (html, external)


@pytest.mark.slow
def test_launch_button_points_at_the_repository(site):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    page = (site / "notebooks" / "01_foundations.html").read_text()
    assert f"mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/notebooks/01_foundations.ipynb" in page


def test_the_site_is_built_from_the_notebooks_as_nbval_ran_them(tmp_path, monkeypatch):
    import conftest
    import nbformat

    chapters = toc_chapters()
    ran = nbformat.v4.new_output("stream", name="stdout", text="ran under nbval\n")
    executed = {}
    for path in chapters:
        nb = nbformat.read(path, as_version=4)
        next(c for c in nb.cells if c.cell_type == "code").outputs = [ran]
        executed[path.resolve()] = nb
    monkeypatch.setattr(conftest, "EXECUTED", executed)
    staged = conftest.staged_book(tmp_path / "whole")
    assert yaml.safe_load((staged / "_config.yml").read_text())["execute"] == {
        **yaml.safe_load((ROOT / "_config.yml").read_text())["execute"],
        "execute_notebooks": "off",  # the outputs are in: nothing runs twice
    }
    first = nbformat.read(staged / chapters[0].relative_to(ROOT), as_version=4)
    assert next(c for c in first.cells if c.cell_type == "code").outputs == [ran]
    assert (staged / "book" / "slurm").is_dir() and not (staged / ".venv").exists()
    assert not (staged / ".git").exists()
    # A chapter that did not run (or failed) in this session: the build executes them all.
    monkeypatch.setattr(conftest, "EXECUTED", dict(list(executed.items())[1:]))
    assert conftest.staged_book(tmp_path / "partial") is None
