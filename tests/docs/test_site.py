"""The documentation site: built from the executed notebooks with Sphinx, every warning an error
(``docs/build.py``), every internal link resolving, and the pages rendering with their images
in a real headless Chromium.

Needs ``pip install -e ".[docs]"`` (Sphinx, the PyData theme, numpydoc, MyST-NB, Playwright) and
a Chromium (Debian: ``apt-get install chromium``). Without them these tests skip, saying what is
missing, except where ``CI_REQUIRE_DOCS=1`` (set by ``.ci/run``): there they fail.
"""

from __future__ import annotations

import html
import os
import pathlib
import re
import shutil
import time

import pytest

from tests.conftest import REPO, _docs_build

pytestmark = [pytest.mark.slow]

REQUIRED = os.environ.get("CI_REQUIRE_DOCS") == "1"
#: Pages opened in the browser: the home page, one API page, one tutorial.
BROWSER_PAGES = ["index.html", "api/generated/spykeflow.Network.html",
                 "tutorials/02_weight_evolution.html"]
#: After MathJax has typeset the page (it is copied into the site, so this needs no network):
#: [equations on the page, equations typeset].
TYPESET = """() => new Promise(resolve => {
  const math = () => Array.from(document.querySelectorAll('.math.notranslate'));  // Sphinx's
  const count = () => [math().length, math().filter(e => e.querySelector('.MathJax')).length];
  const deadline = Date.now() + 30000;  // then report what was typeset so far
  const idle = () => !window.MathJax || (window.MathJax.isReady
      && !window.MathJax.Hub.queue.running && !window.MathJax.Hub.queue.pending);
  const poll = () => (idle() || Date.now() > deadline) ? resolve(count()) : setTimeout(poll, 100);
  poll();
})"""
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _missing(what: str) -> None:
    if REQUIRED:
        pytest.fail(f"{what} (CI_REQUIRE_DOCS=1: the docs tests must run in CI)")
    pytest.skip(what)


def _require(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        _missing(f"{module} is not installed (pip install -e \".[docs]\")")


@pytest.fixture(scope="session")
def site(executed_notebooks, tmp_path_factory):
    """Build the site once per session; its html folder."""
    for module in ("sphinx", "pydata_sphinx_theme", "numpydoc", "myst_nb"):
        _require(module)
    build = _docs_build()
    out = tmp_path_factory.mktemp("site")
    notebooks = executed_notebooks.all()
    start = time.perf_counter()
    source = build.stage(out / "source", notebooks)
    build.sphinx_build(source, out / "html")  # -W --keep-going -n: raises on any warning
    print(f"sphinx-build took {time.perf_counter() - start:.1f} s")
    return out / "html"


def _text(page: pathlib.Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def test_every_public_name_has_an_api_page(site):
    import spykeflow

    names = [n for n in spykeflow.__all__ if n != "__version__"]
    api = site / "api" / "generated"
    missing = [n for n in names if not (api / f"spykeflow.{n}.html").is_file()]
    assert not missing, missing
    network = _text(site / "api" / "generated" / "spykeflow.Network.html")
    for section in ("Parameters", "Attributes", "fit", "transform", "spikes_at"):
        assert section in network, section


def test_internal_links_resolve(site):
    problems = _docs_build().check_links(site)
    assert not problems, "\n".join(problems[:50])


def test_every_page_is_reachable(site):
    """Concept pages, tutorials and design notes are built (none dropped from a toctree)."""
    for page in ["getting_started", "results", "design", "design_choices", "original/stdp",
                 "concepts/encoding", "concepts/stdp", "concepts/convergence",
                 "concepts/readouts", "concepts/bptt", "concepts/backends",
                 "concepts/persistence", "concepts/pipelines", "tutorials/index",
                 "tutorials/01_quickstart_digits", "tutorials/03_readout_surrogates",
                 "tutorials/04_event_data_nmnist"]:
        assert (site / f"{page}.html").is_file(), page


def _readme_command(marker: str) -> str:
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index(f"<!-- ci:{marker} -->")
    return next(ln for ln in lines[start + 2:] if ln.strip())


def test_getting_started_shows_the_readme_commands(site):
    text = _text(site / "getting_started.html")
    for marker in ("run", "test"):
        assert _readme_command(marker) in text, marker
    assert "python docs/build.py" in text


def test_results_page_is_the_readme_results_section(site):
    text = _text(site / "results.html").replace("*", "")
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Results measured so far"):readme.index("## Layout")]
    rows = [ln for ln in section.splitlines() if ln.startswith("| ") and "---" not in ln]
    assert len(rows) > 40
    for row in rows:  # every table row's first cell is on the page
        first = re.sub(r"[*`]", "", row.split("|")[1].strip())  # Markdown emphasis, code
        assert first in text, first


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    _missing("no Chromium found (Debian: apt-get install chromium)")
    raise AssertionError  # unreachable


def test_pages_render_in_headless_chromium(site, tmp_path):
    """The home page, one API page and one tutorial load every local file they reference
    (styles, scripts, fonts, images, MathJax), show their images and have their equations
    typeset; full-page screenshots go to $SPYKEFLOW_DOCS_SCREENSHOTS when set."""
    _require("playwright")
    executable = _browser()
    from playwright.sync_api import sync_playwright

    shots = pathlib.Path(os.environ.get("SPYKEFLOW_DOCS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        try:
            for name in BROWSER_PAGES:
                page = browser.new_page(viewport={"width": 1300, "height": 900})
                failed = []
                page.on("requestfailed", lambda r, failed=failed: failed.append(r.url))
                page.goto((site / name).as_uri(), wait_until="load")
                local_failures = [u for u in failed if u.startswith("file:")]
                assert not local_failures, (name, local_failures)
                images = page.evaluate(
                    "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete,"
                    " i.naturalWidth])")
                broken = [src for src, complete, width in images if not complete or width == 0]
                assert not broken, (name, broken)
                title = page.evaluate("document.querySelector('h1').innerText")
                assert title.strip(), name
                if name != BROWSER_PAGES[1]:  # the home page and the tutorial show figures
                    assert images, name
                styled = page.evaluate(
                    "getComputedStyle(document.querySelector('.bd-header')).display")
                assert styled != "none", "the PyData theme's header is not laid out"
                math, typeset = page.evaluate(TYPESET)
                assert typeset == math, f"{name}: {math - typeset} equations left as TeX"
                if name == BROWSER_PAGES[2]:
                    assert math > 0, "the weight-evolution tutorial shows the C_l equation"
                local_failures = [u for u in failed if u.startswith("file:")]
                assert not local_failures, (name, local_failures)  # MathJax's files too
                page.screenshot(path=str(shots / (name.replace("/", "_") + ".png")),
                                full_page=True)
                page.close()
        finally:
            browser.close()
