"""Build the SpykeFlow documentation site (Sphinx, PyData theme) and check its internal links.

    python docs/build.py                      # executes the notebooks, writes docs/_build/html
    python docs/build.py --notebooks DIR      # renders notebooks already executed into DIR
    python docs/build.py --out DIR            # DIR/html instead of docs/_build/html

Needs ``pip install -e ".[docs]"``. The steps, each a function the tests reuse:

1. :func:`execute_notebooks` runs ``notebooks/*.ipynb`` top to bottom in a temporary working
   folder (nbclient) and writes the executed copies, so the tutorials show real outputs. Sphinx
   itself never executes a notebook (``nb_execution_mode = "off"`` in ``conf.py``): the test
   session executes them once, asserts what they claim and builds the site from the same copies.
2. :func:`stage` assembles the Sphinx source folder: the pages of ``docs/`` (including
   ``design_choices.md`` and ``original/``), ``README.md`` (the getting-started and results
   pages include parts of it, so the commands and tables exist once) and the executed notebooks
   as ``tutorials/``, and MathJax (from ``jupyter-server-mathjax``), so that the equations
   render offline. The repository is never written to, except ``docs/_build`` by default.
3. :func:`sphinx_build` runs ``sphinx-build -W --keep-going -n``: every warning, including an
   unresolved cross-reference (nitpicky), fails the build.
4. :func:`check_links` parses every built page and checks that each relative ``href``/``src``
   names an existing file and each ``#fragment`` an existing id (no network: external links are
   not followed).
"""

from __future__ import annotations

import argparse
import base64
import html.parser
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

DOCS = pathlib.Path(__file__).resolve().parent
REPO = DOCS.parent
NOTEBOOKS = REPO / "notebooks"
#: Files and folders of docs/ that are not site sources.
NOT_SOURCES = {"_build", "build.py", "__pycache__"}


def execute_notebook(path: pathlib.Path, out: pathlib.Path, *, timeout: int = 600,
                     probe: str | None = None) -> dict | None:
    """Execute the notebook ``path`` top to bottom and write the executed copy to ``out``.

    The kernel runs in a fresh temporary folder, so nothing is written next to the notebook.
    ``probe``: code run in the same kernel after the last cell that prints one JSON object (the
    tests use it to read the notebook's variables); it is not part of the written copy, and its
    parsed output is returned. A failing cell raises ``nbclient.exceptions.CellExecutionError``.
    """
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    if probe is not None:
        nb.cells.append(nbformat.v4.new_code_cell(probe))
    with tempfile.TemporaryDirectory(prefix="spykeflow-nb-") as work:
        client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": work}})
        client.execute()
    result = None
    if probe is not None:
        cell = nb.cells.pop()
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream"
                       and o.name == "stdout")
        result = json.loads(text.strip().splitlines()[-1])
    _drop_native_log_lines(nb)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return result


#: Lines that TensorFlow's C++ runtime writes to the standard error while its libraries load,
#: before ``TF_CPP_MIN_LOG_LEVEL`` applies (e.g. "Could not find cuda drivers" on a machine
#: without a GPU); the kernel forwards them into the cell outputs.
_NATIVE_LOG = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
                         r"|[IWE]\d{4} \d+:\d+:\d+\.\d+ +\d+ [\w.]+:\d+\]).*\n?", re.M)


def _drop_native_log_lines(nb) -> None:
    """Remove TensorFlow's native start-up log lines from the stderr outputs of ``nb`` (they
    depend on the machine, not on the notebook), and the stderr outputs left empty."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                output.text = _NATIVE_LOG.sub("", output.text)
        cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream"
                                                         and o.name == "stderr" and not o.text)]


def execute_notebooks(dest: pathlib.Path, timeout: int = 600) -> list[pathlib.Path]:
    """Execute every notebook of ``notebooks/`` into ``dest``; returns the written paths."""
    written = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        start = time.perf_counter()
        execute_notebook(path, dest / path.name, timeout=timeout)
        print(f"executed {path.name} in {time.perf_counter() - start:.0f} s", flush=True)
        written.append(dest / path.name)
    return written


def stage(source: pathlib.Path, executed: pathlib.Path) -> pathlib.Path:
    """Assemble the Sphinx source folder ``source`` (emptied first) from ``docs/``, README.md
    and the executed notebooks in ``executed``."""
    missing = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb") if not (executed / p.name).is_file())
    if missing:
        raise FileNotFoundError(f"Expected executed notebooks in {executed}. Missing: {missing}. "
                                "Run `python docs/build.py` without --notebooks to execute them.")
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(DOCS, source, ignore=lambda d, names: [n for n in names if n in NOT_SOURCES])
    (source / "_include").mkdir()
    shutil.copy2(REPO / "README.md", source / "_include" / "README.md")
    for path in sorted(executed.glob("*.ipynb")):
        shutil.copy2(path, source / "tutorials" / path.name)
    (source / "_generated").mkdir()
    (source / "_generated" / "home_figure.png").write_bytes(home_figure(executed))
    mathjax = mathjax_folder()
    if mathjax is not None:  # conf.py serves it from _static/mathjax when it is staged
        shutil.copytree(mathjax, source / "_mathjax" / "mathjax")
    return source


def mathjax_folder() -> pathlib.Path | None:
    """The MathJax 2 files of the ``jupyter-server-mathjax`` package (in the ``docs`` extra),
    copied into the site so that equations render without the network; None if it is not
    installed (conf.py then loads MathJax from its CDN)."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        return None
    folder = pathlib.Path(jupyter_server_mathjax.__file__).parent / "static"
    return folder if (folder / "MathJax.js").is_file() else None


def home_figure(executed: pathlib.Path) -> bytes:
    """The PNG of the notebook cell tagged ``home-figure`` (the kernel evolution of the
    weight-evolution notebook), shown on the home page."""
    import nbformat

    for path in sorted(executed.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if "home-figure" in cell.get("metadata", {}).get("tags", []):
                for output in cell.get("outputs", []):
                    if "image/png" in output.get("data", {}):
                        return base64.b64decode(output["data"]["image/png"])
    raise ValueError(f"Expected a cell tagged 'home-figure' with a PNG output in {executed}.")


def sphinx_build(source: pathlib.Path, html: pathlib.Path, *, quiet: bool = True) -> None:
    """``sphinx-build -W --keep-going -n -b html source html`` in a subprocess (raises
    ``subprocess.CalledProcessError`` on any warning)."""
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-b", "html",
           "-d", str(html.parent / "doctrees"), str(source), str(html)]
    if quiet:
        cmd.insert(3, "-q")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    subprocess.run(cmd, check=True, env=env)


class _Links(html.parser.HTMLParser):
    """Collects the ids of a page and the (attribute, value) of its href/src links."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            if name in ("href", "src") and value:
                self.links.append((name, value))


def _parse(page: pathlib.Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def check_links(html: pathlib.Path) -> list[str]:
    """Broken internal links of the built site: one ``"page: link (why)"`` line each.

    A link is internal when it has no scheme and no host (``http:``, ``mailto:``, ``data:``,
    ``//host`` are skipped). Its path must name a file under ``html`` (a folder: its
    ``index.html``) and its fragment, if any, an ``id``/``name`` on the target page.
    """
    # _static holds the theme's assets (its *.html there are Jinja templates, not pages)
    pages = {p: _parse(p) for p in html.rglob("*.html")
             if "_static" not in p.relative_to(html).parts}
    problems = []
    for page, parsed in sorted(pages.items()):
        for attr, link in parsed.links:
            url = urllib.parse.urlsplit(link)
            if url.scheme or url.netloc or link.startswith("#") and attr == "src":
                continue
            target = page if not url.path else (page.parent / urllib.parse.unquote(url.path))
            target = target.resolve()
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(html)}: {link}"
            if not target.is_file():
                problems.append(f"{where} (no file {target})")
                continue
            try:
                target.relative_to(html.resolve())
            except ValueError:
                problems.append(f"{where} (outside the site)")
                continue
            if url.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if urllib.parse.unquote(url.fragment) not in ids:
                    problems.append(f"{where} (no id {url.fragment!r} on the page)")
    return problems


def build(out: pathlib.Path, notebooks: pathlib.Path | None = None) -> pathlib.Path:
    """Execute (unless ``notebooks`` holds executed copies), stage, build and check the site;
    returns ``out/html``. Raises ``RuntimeError`` listing the broken links, if any."""
    out = out.resolve()
    if notebooks is None:
        notebooks = out / "executed"
        execute_notebooks(notebooks)
    source = stage(out / "source", notebooks)
    html = out / "html"
    sphinx_build(source, html)
    problems = check_links(html)
    if problems:
        raise RuntimeError("Broken internal links:\n" + "\n".join(problems))
    return html


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=DOCS / "_build",
                        help="output folder (default: docs/_build); the site is OUT/html")
    parser.add_argument("--notebooks", type=pathlib.Path, default=None,
                        help="folder of already executed notebooks (default: execute them)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        html = build(args.out, args.notebooks)
    except subprocess.CalledProcessError:
        print("sphinx-build failed: fix the warnings above (every warning is an error)",
              file=sys.stderr)
        return 1
    except (RuntimeError, FileNotFoundError, ValueError) as err:
        print(err, file=sys.stderr)
        return 1
    print(f"site built and links checked in {time.perf_counter() - start:.0f} s: "
          f"{html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
