"""The built site in a real headless browser, offline, as a reader sees it.

Playwright for Python drives Debian's ``chromium`` package (``.ci/run`` installs it; no
browser is downloaded). The site is served from ``127.0.0.1`` and every request to any
other host is refused, as on an offline cluster node. Screenshots of every page (whole,
as JPEG) go to ``test-artifacts/screenshots`` (or ``$KERNELS_ARTIFACTS/screenshots``).
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from conftest import ROOT, toc_files
from test_book import FIGURES

ARTIFACTS = Path(os.environ.get("KERNELS_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"

pytestmark = pytest.mark.slow


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging every request."""

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    """The site on http://127.0.0.1:<port>/, stopped after the module."""
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


class Visit:
    """One offline page load: console errors, failed requests, refused outside requests."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("requestfailed", lambda r: self._own(r.url) and self.failed.append(r.url))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(r.url))

    def _own(self, url: str) -> bool:
        return url.startswith(self.base)

    def _route(self, route):
        url = route.request.url
        if self._own(url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _console(self, message):
        location = message.location.get("url", "") if message.location else ""
        if message.type == "error" and (not location or self._own(location)):
            self.errors.append(f"{message.text} ({location})")

    def open(self, path: str):
        self.page.goto(urljoin(self.base, path), wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server):
    visits = []

    def make():
        visits.append(Visit(browser, server))
        return visits[-1]

    yield make
    for v in visits:
        v.close()


@pytest.fixture(scope="module")
def loaded(browser, server):
    """Each page loaded once for the module's tests that only look at it, by name.

    A page's load (waiting for the network to go quiet) is most of what looking at it
    costs: the page tests and the figure tests share one load of each chapter.
    """
    visits: dict[str, Visit] = {}

    def get(name: str) -> Visit:
        if name not in visits:
            visits[name] = Visit(browser, server)
            visits[name].open(f"{name}.html")
        return visits[name]

    yield get
    for v in visits.values():
        v.close()


@pytest.mark.parametrize("name", toc_files())
def test_page_loads_offline_without_errors(loaded, name):
    v = loaded(name)
    page = v.page
    assert not v.failed, v.failed
    assert not v.errors, v.errors
    assert not v.outside, f"requests that would leave 127.0.0.1: {v.outside}"
    main = page.locator("main, article").first
    assert len(main.inner_text()) > 500  # the content is there, not an empty shell
    broken = page.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert not broken, broken
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # The whole page as JPEG: a PNG of a long chapter took 2-4 s to encode, half the test.
    shot = ARTIFACTS / f"{name.replace('/', '__')}.jpg"
    page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=60)


@pytest.mark.parametrize("chapter", sorted(FIGURES))
def test_chapter_shows_figures_and_hides_solutions(loaded, chapter):
    page = loaded(f"notebooks/{chapter}").page
    loaded = page.evaluate(
        "[...document.querySelectorAll('article img')]"
        ".filter(i => i.src.includes('/_images/') && i.naturalWidth > 100).length"
    )
    assert loaded >= FIGURES[chapter]
    solution = page.locator(".solution.dropdown").first
    body = solution.locator(":scope > :not(.admonition-title)").first
    assert not body.is_visible()
    solution.locator(".admonition-title").first.click()
    body.wait_for(state="visible", timeout=5000)


def test_search_finds_a_chapter_by_keyword(visit):
    page = visit().open("search.html?q=map_overlap")
    page.wait_for_selector("#search-results li a", timeout=30_000)
    links = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
    assert any("notebooks/05_dask.html" in link for link in links), links


class Links(html.parser.HTMLParser):
    """The ``href`` of every ``<a>`` of a page, as written."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def test_every_internal_link_resolves(site):
    # The pages as built: every link a reader can follow is in them (the theme's scripts
    # add none that leaves the page).
    missing = []
    for name in toc_files():
        links = Links()
        links.feed((site / f"{name}.html").read_text())
        for href in links.hrefs:
            parts = urlsplit(urljoin(f"http://site/{name}.html", href))
            if parts.scheme != "http" or parts.netloc != "site":
                continue  # another site, mailto:, javascript:
            target = site / parts.path.removeprefix("/")
            if parts.path.endswith("/"):
                target = target / "index.html"
            if not target.is_file():
                missing.append((name, href))
            elif parts.fragment and target.suffix == ".html":
                if f'id="{parts.fragment}"' not in target.read_text():
                    missing.append((name, href))
    assert not missing, missing[:20]


def test_binder_button_points_at_the_repository_path(visit, site):
    """Every chapter's page links its own notebook on Binder (the page's links as built;
    the first chapter's as the browser sees them once the theme's scripts have run)."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    repo = repo.removeprefix("https://github.com/")
    link = "https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/notebooks/{chapter}.ipynb"
    for chapter in sorted(FIGURES):
        html = (site / "notebooks" / f"{chapter}.html").read_text()
        hrefs = re.findall(r'href="(https://mybinder\.org[^"]*)"', html)
        assert link.format(repo=repo, chapter=chapter) in hrefs, (chapter, hrefs)
    first = sorted(FIGURES)[0]
    page = visit().open(f"notebooks/{first}.html")
    hrefs = page.eval_on_selector_all("a[href*='mybinder.org']", "els => els.map(e => e.href)")
    assert link.format(repo=repo, chapter=first) in hrefs, hrefs


def test_kernel_tabs_switch_between_tools(visit):
    page = visit().open("notebooks/12_choosing.html")
    tabs = page.locator(".kernels-tabs").first
    labels = tabs.locator("label")
    assert labels.count() >= 10
    numba = tabs.locator(".kernels-tab-panel[data-tool='numba']")
    first = tabs.locator(".kernels-tab-panel").first
    assert first.is_visible() and not numba.is_visible()
    tabs.locator("label", has_text="numba").first.click()
    assert numba.is_visible() and not first.is_visible()
    assert "escape_counts_lanes" in numba.inner_text()
