"""Sphinx configuration of the SpykeFlow documentation site.

Build with ``python docs/build.py`` (it executes the notebooks, stages the sources with
README.md and the executed notebooks, and runs Sphinx with warnings as errors); see that
script's docstring.
"""

from __future__ import annotations

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import spykeflow  # noqa: E402

project = "SpykeFlow"
author = "the SpykeFlow developers"
copyright = "SpykeFlow developers, BSD-3-Clause"
release = spykeflow.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
    "sphinx_copybutton",
]

# ----------------------------------------------------------------------------------- sources
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
# _include holds README.md (for the include directives) and _generated the home-page figure,
# both staged by build.py; neither is a page.
exclude_patterns = ["_build", "_include", "_generated", "_mathjax", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
nitpicky = True  # every unresolved cross-reference is a warning, and warnings fail the build
# Names that docstrings mention as types but this site does not document (other projects'
# objects; no intersphinx, which would need the network at build time).
# The private modules (spykeflow._backend, spykeflow.nir._graph, ...) and the compiled STDP engine
# are implementation: docstrings may name them, the site does not document them.
nitpick_ignore_regex = [
    ("py:(class|obj|data|func|meth|mod|attr|exc)", r"(keras|numpy|np|matplotlib|sklearn|jax|torch|"
     r"tensorflow|tf|scipy|numba|nbformat|tqdm|typing|collections|os|pathlib|h5py)(\..*)?"),
    ("py:(class|obj|data|func|meth|mod|attr)", r"spykeflow(\.\w+)*\._\w+(\..*)?"),
    ("py:(class|obj|data|func|meth|mod|attr)", r"spykeflow\.stdp\.(engine|trainer|state)(\..*)?"),
]

# ------------------------------------------------------------------------------------ MyST
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# The included README text keeps its quotes and its "--" as written.
smartquotes = False
# The notebooks are executed before the build (build.py, or the test session), never by Sphinx.
nb_execution_mode = "off"
nb_merge_streams = True

# -------------------------------------------------------------------------- API reference
autosummary_generate = True
autosummary_imported_members = False
autodoc_inherit_docstrings = False  # no Keras/scikit-learn docstrings on our pages
autodoc_typehints = "none"  # the numpydoc "Parameters" sections carry the types
autodoc_default_options = {"member-order": "bysource"}  # members: per template
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_class_members_toctree = False

# ------------------------------------------------------------------------------------ math
# build.py stages MathJax 2 (from jupyter-server-mathjax) as _mathjax/mathjax, so the equations
# render without the network; without it, Sphinx's default (MathJax from its CDN) applies.
_HERE = pathlib.Path(__file__).resolve().parent
if (_HERE / "_mathjax" / "mathjax" / "MathJax.js").is_file():
    mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
    # The package ships the STIX web fonts only; no image fonts, no menu, no status messages.
    mathjax2_config = {
        "messageStyle": "none",
        "showMathMenu": False,
        "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web",
                     "imageFont": None},
    }
    _MATHJAX_STATIC = ["_mathjax"]
    # MyST would add a MathJax 3 configuration (window.MathJax = {...}), which MathJax 2 takes
    # as its own and then typesets nothing; Sphinx's math markup needs no extra configuration.
    myst_update_mathjax = False
else:
    _MATHJAX_STATIC = []

# ------------------------------------------------------------------------------------ HTML
html_theme = "pydata_sphinx_theme"
html_title = f"SpykeFlow {release}"
html_static_path = ["_static", *_MATHJAX_STATIC]
html_css_files = ["spykeflow.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    # The tutorials' figures get the width of the "On this page" column (their labels stay
    # readable); every other page keeps it.
    "secondary_sidebar_items": {"**": ["page-toc"], **{
        f"tutorials/{nb.stem}": [] for nb in (_HERE / "tutorials").glob("*.ipynb")}},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
# Pages without sub-pages get the full width (no empty "Section Navigation" column).
html_sidebars = {"index": [], "getting_started": [], "results": [], "design": []}


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated metadata-routing setters (``set_fit_request`` ...):
    they belong to scikit-learn, and their docstrings point into its own documentation."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
