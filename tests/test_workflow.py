"""The GitHub Actions workflow runs what .ci/run runs, and publishes the book."""

from __future__ import annotations

import yaml
from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def load():
    return yaml.safe_load(WORKFLOW.read_text())


def test_workflow_tests_through_ci_run_then_builds_and_publishes():
    jobs = load()["jobs"]
    steps = jobs["test-and-build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert ".ci/run" in runs and "make book" in runs
    assert runs.index(".ci/run") < runs.index("make book")
    test_step = steps[runs.index(".ci/run")]
    assert test_step["env"]["CI"] == "true"
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    pages = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert pages[0]["with"]["path"] == "_build/html"
    deploy = jobs["deploy"]
    assert deploy["needs"] == "test-and-build"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages")


def test_workflow_python_satisfies_the_project():
    steps = load()["jobs"]["test-and-build"]["steps"]
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    major, minor = map(int, python["with"]["python-version"].split("."))
    assert (major, minor) >= (3, 11)


def test_ci_run_is_make_test_plus_the_system_packages():
    script = (ROOT / ".ci" / "run").read_text()
    assert script.rstrip().endswith("make test")
    assert "graphviz" in script and "chromium" in script
