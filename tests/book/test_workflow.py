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


def test_workflow_runs_on_debian_with_what_the_readme_asks_for():
    job = load()["jobs"]["test-and-build"]
    # Debian bookworm's python3 is 3.11, the project's minimum; chromium is Debian's.
    assert job["container"] == "debian:bookworm"
    install = job["steps"][0]["run"]
    for package in ("python3", "python3-venv", "gcc", "make", "git"):
        assert f" {package} " in f" {install} "
    runs = [s.get("run", "") for s in job["steps"]]
    assert runs.index(install) < runs.index(".ci/run")


def test_ci_run_is_make_test_plus_the_system_packages():
    script = (ROOT / ".ci" / "run").read_text()
    assert script.rstrip().endswith("make test")
    assert "graphviz" in script and "chromium" in script
