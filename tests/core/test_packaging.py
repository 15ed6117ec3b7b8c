"""pyproject.toml and environment.yml name the same packages with the same bounds."""

from __future__ import annotations

import re
import tomllib

import yaml
from conftest import ROOT

# The interpreter, the tools to install us, and the `dot` program (a system package
# outside conda).
CONDA_ONLY = {"python", "pip", "setuptools", "graphviz"}
# The same Python package under another name on conda-forge.
CONDA_NAMES = {"python-graphviz": "graphviz"}


def split(spec: str) -> tuple[str, str]:
    name, bounds = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec).groups()
    return re.sub(r"[-_.]+", "-", name).lower(), bounds.replace(" ", "")


def pyproject_packages() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for deps in project["optional-dependencies"].values():
        specs += [d for d in deps if not d.startswith(project["name"])]
    return dict(split(s) for s in specs)


def conda_packages() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = [d for d in env["dependencies"] if isinstance(d, str)]
    return {
        CONDA_NAMES.get(name, name): b for name, b in map(split, specs) if name not in CONDA_ONLY
    }


def test_same_packages_and_bounds():
    assert conda_packages() == pyproject_packages()


def test_all_extra_covers_every_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = set(project["optional-dependencies"]) - {"all"}
    (all_spec,) = project["optional-dependencies"]["all"]
    assert set(re.search(r"\[(.*)\]", all_spec).group(1).split(",")) == extras


def test_binder_installs_the_package():
    post_build = (ROOT / "postBuild").read_text()
    assert "pip install" in post_build and "-e ." in post_build
    assert (ROOT / "postBuild").stat().st_mode & 0o111
