"""Every chapter in a real JupyterLab, with its outputs, in a headless browser.

Learners read and run the notebooks in JupyterLab, not on the site. This test starts a
JupyterLab server (with ``jupyterlab-myst``, as the book installs it) on a copy of the
notebooks, loads it once in Debian's ``chromium`` through Playwright, opens each chapter
in that page with JupyterLab's own command, and checks what a learner sees: no raw MyST
syntax (directives, roles, fences) in the rendered text, solutions collapsed, no error
output, and the chapter's widgets drawn. Every request to another host is refused.
Screenshots go to ``test-artifacts/lab`` (or ``$KERNELS_ARTIFACTS/lab``).

A chapter runs once per test session: a chapter nbval has run (``make test`` runs the
notebooks first) is opened with the outputs nbval's run gave, as a learner's saved
notebook opens. A chapter whose outputs need a live kernel (its widgets) is run in
JupyterLab from its first cell through the last cell that draws a widget, with
JupyterLab's own commands (the cells after it ran under nbval); a chapter that nbval has
not run is run whole, with "Run All Cells".
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import EXECUTED, ROOT

ARTIFACTS = Path(os.environ.get("KERNELS_ARTIFACTS", ROOT / "test-artifacts")) / "lab"
CHAPTERS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Text that only shows when MyST was not rendered: directive options, fences, roles.
# A link shown as its target ("../book/intro") is a role JupyterLab could not resolve.
RAW_MYST = (":class:", ":label:", "```", "{doc}", "{exercise}", "{solution-start}",
            "{solution-end}", "{admonition}", "../book/")  # fmt: skip
# Seconds a chapter may take under Run All at the quick sizes before the test gives up.
RUN_ALL_LIMIT = 600
WIDGET = "application/vnd.jupyter.widget-view+json"

pytestmark = pytest.mark.slow

SETTINGS = {
    # Every cell in the page (not only those on screen), no autosave into the copy, no
    # news or update checks (the test is offline).
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}
TOKEN = secrets.token_hex(16)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, method: str = "GET"):
    request = urllib.request.Request(url, method=method,
                                     headers={"Authorization": f"token {TOKEN}"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of the notebooks, in ``home``; its URL and ``home``.

    Stopped after the module.
    """
    home = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", home / "notebooks")
    settings = home / "settings"
    for name, values in SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    port = _free_port()
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
         "--ServerApp.allow_root=True", f"--ServerApp.root_dir={home}",
         "--LabApp.expose_app_in_browser=True", f"--LabApp.user_settings_dir={settings}",
         f"--LabApp.workspaces_dir={home / 'workspaces'}"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            _get(url + "api/status")
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(
                    f"JupyterLab did not start: {(home / 'server.log').read_text()[-2000:]}"
                )
            time.sleep(0.5)
    yield url, home
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log.close()


def test_jupyterlab_myst_is_installed_and_enabled():
    listed = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"],
                            capture_output=True, text=True)  # fmt: skip
    text = listed.stdout + listed.stderr
    line = next((ln for ln in text.splitlines() if "jupyterlab-myst" in ln), "")
    assert "enabled" in line and "OK" in line, text  # "X" when JupyterLab refuses it


# The state of the open notebook, read from JupyterLab's own models.
# ``upto``: only the cells before that index count (the part of the chapter run here).
NOTEBOOK_STATE = """(upto) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.widgets.slice(0, upto ?? undefined);
  const code = cells.filter(c => c.model.type === 'code');
  const source = c => c.model.sharedModel.getSource().slice(0, 120);
  const outputs = code.flatMap(c => c.model.outputs.toJSON().map(o => ({...o, cell: source(c)})));
  const solutions = cells.filter(c => (c.model.getMetadata('tags') || []).includes('solution'));
  return {
    busy: panel.sessionContext.session?.kernel?.status !== 'idle',
    unrun: code.filter(c => c.model.executionCount === null).length,
    code: code.length,
    // An error, with what its cell printed before it (a checker's reason, for one).
    errors: outputs.filter(o => o.output_type === 'error').map(o => {
      const printed = outputs.filter(p => p.cell === o.cell && p.output_type === 'stream')
        .map(p => [].concat(p.text).join('')).join('');
      return `${o.ename}: ${o.evalue} in the cell ${JSON.stringify(o.cell)}; printed: ${printed}`;
    }),
    markdown: cells.filter(c => c.model.type === 'markdown').map(c => c.node.innerText),
    solutions: solutions.length,
    collapsed: solutions.filter(c => c.inputHidden).length,
    widgets: document.querySelectorAll('.jp-OutputArea-output .jupyter-widgets').length,
    widgetErrors: document.body.innerText.includes('Error displaying widget'),
    images: document.querySelectorAll('.jp-OutputArea-output img').length,
  };
}"""


def last_widget_cell(nb) -> int | None:
    """Index of the last cell of ``nb`` with a widget among its outputs, or ``None``."""
    drawn = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and any(WIDGET in o.get("data", {}) for o in c.outputs)]  # fmt: skip
    return drawn[-1] if drawn else None


def as_nbval_ran(chapter: str) -> tuple:
    """``(notebook, None)``: ``chapter`` with the outputs nbval's run gave it, to open as
    it is; or ``(None, cells)``: run the first ``cells`` cells in the Lab (``None``: all).

    Run in the Lab when nbval has not run it in this session (every cell), or when an
    output is a widget, drawn only while the kernel that made it is alive (through the
    last cell nbval's run drew one in).
    """
    nb = EXECUTED.get((ROOT / "notebooks" / chapter).resolve())
    if nb is None:
        return None, None
    last = last_widget_cell(nb)
    return (nb, None) if last is None else (None, last + 1)


def run_cells(page, upto: int | None) -> dict:
    """Run the first ``upto`` cells (all with ``None``); the notebook's state after.

    JupyterLab's own commands: "Run All Cells", or "Run All Above" the cell at ``upto``.
    """
    total = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length")
    if upto is None or upto >= total:
        upto = None
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    else:
        page.evaluate(f"""() => {{
          window.jupyterapp.shell.currentWidget.content.activeCellIndex = {upto};
          return window.jupyterapp.commands.execute('notebook:run-all-above');
        }}""")  # fmt: skip
    deadline = time.monotonic() + RUN_ALL_LIMIT
    while True:
        state = page.evaluate(NOTEBOOK_STATE, upto)
        if state["errors"] or (not state["busy"] and state["unrun"] == 0):
            return state
        assert time.monotonic() < deadline, f"{state['unrun']} cells still to run"
        page.wait_for_timeout(250)


@pytest.fixture(scope="module")
def lab_page(lab, browser):
    """One JupyterLab page for the module, and the requests it made to other hosts.

    JupyterLab's application loads once (about 4.5 s here); each chapter opens in it as
    a learner opens one from the file browser, and is closed after its test.
    """
    url, _ = lab
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside = []

    def route(r):
        if r.request.url.startswith((url, "data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    # A fresh workspace: without `reset`, the notebooks of an earlier run come back.
    page.goto(f"{url}lab?token={TOKEN}&reset")
    page.wait_for_function("() => window.jupyterapp?.shell", timeout=120_000)
    page.evaluate("() => window.jupyterapp.restored")
    try:
        yield page, outside
    finally:
        context.close()


# Open a notebook with JupyterLab's own command; resolves once its kernel is idle.
OPEN = """async (path) => {
  const panel = await window.jupyterapp.commands.execute('docmanager:open', {path});
  await panel.context.ready;
  await panel.sessionContext.ready;
}"""
# Close it without asking to save (running cells changes it; autosave is off).
CLOSE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (panel?.context) {
    panel.context.model.dirty = false;
    panel.dispose();
  }
}"""


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs_and_reads_well_in_jupyterlab(lab, lab_page, chapter):
    url, home = lab
    page, outside = lab_page
    outside.clear()
    ran, cells = as_nbval_ran(chapter)
    if ran is not None:
        nbformat.write(ran, home / "notebooks" / chapter)
    try:
        page.evaluate(OPEN, f"notebooks/{chapter}")
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget?.sessionContext"
                               "?.session?.kernel?.status === 'idle'", timeout=120_000)  # fmt: skip
        before = page.evaluate(NOTEBOOK_STATE)
        # Rendered as MyST: no raw directive, role or fence.
        raw = [(t[:80], s) for t in before["markdown"] for s in RAW_MYST if s in t]
        assert not raw, raw
        assert before["solutions"] >= 3 and before["collapsed"] == before["solutions"]

        if ran is None:
            state = run_cells(page, cells)
        else:
            state = before
            # Every figure of nbval's run is drawn.
            figures = [o for c in ran.cells if c.cell_type == "code" for o in c.outputs
                       if "image/png" in o.get("data", {})]  # fmt: skip
            assert state["images"] >= len(figures), (state["images"], len(figures))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{Path(chapter).stem}.png"))
        assert not state["errors"], state["errors"]
        assert len(_get(f"{url}api/kernels")) == 1  # this chapter's kernel, no other
        assert state["collapsed"] == state["solutions"]  # outputs do not expand them
        source = (ROOT / "notebooks" / chapter).read_text()
        if ran is None and ("explorer(" in source or "widgets" in source):
            assert state["widgets"] > 0 and not state["widgetErrors"]
        assert not outside, outside
    finally:
        page.evaluate(CLOSE)
        for kernel in _get(f"{url}api/kernels"):
            _get(f"{url}api/kernels/{kernel['id']}", method="DELETE")
