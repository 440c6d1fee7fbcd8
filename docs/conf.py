"""Sphinx configuration for sklearn-ganad."""

import os

import sklearn_ganad

# Examples draw with matplotlib's file backend: no screen is needed.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "sklearn-ganad"
author = "sklearn-ganad developers"
release = version = sklearn_ganad.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3
templates_path = ["_templates"]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "alabaster"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    # Every example runs at each build: a failing one fails the build.
    "abort_on_example_error": True,
    "doc_module": ("sklearn_ganad",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_ganad": None},
    "remove_config_comments": True,
    "download_all_examples": False,
}
