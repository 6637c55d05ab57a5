"""Sphinx configuration of the agentax documentation (built by ``make docs`` with -W)."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # document the working tree, also when agentax is not installed

import agentax  # noqa: E402

project = "agentax"
author = "the agentax authors"
copyright = "2025, the agentax authors"
release = agentax.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
templates_path = []

# Google-style docstrings. ``Attributes:`` sections become ``:ivar:`` fields, so a dataclass field
# described there is not also documented as a separate attribute (a duplicate description).
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True
napoleon_use_rtype = False

# The guides' ``testcode`` blocks render as plain code; ``sphinx-build -b doctest`` runs them and
# compares their ``testoutput`` (tests/test_docs.py does both builds).
doctest_test_doctest_blocks = ""

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
# chex's aliases are unions of array types; show them by their short names.
autodoc_type_aliases = {
    name: f"chex.{name}" for name in ("Array", "ArrayTree", "PRNGKey", "Scalar", "Numeric")
}
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_preserve_defaults = True

html_theme = "furo"
html_title = f"agentax {release}"
html_static_path = []
pygments_style = "friendly"
pygments_dark_style = "monokai"


# Skip members that generated code adds: the methods of a chex dataclass (a Mapping: keys, items,
# replace, ...) and the field accessors of a NamedTuple ("Alias for field number 0"). The fields
# themselves are described in the class's ``Attributes:`` section.
def _skip_generated_members(app, what, name, obj, skip, options):
    if getattr(obj, "__module__", "").startswith("chex."):
        return True
    if (getattr(obj, "__doc__", None) or "").startswith("Alias for field number"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_generated_members)
