"""The API reference lists every public name; every example is in the gallery."""

import importlib
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PUBLIC_MODULES = [
    "sklearn_ganad",
    "sklearn_ganad.networks",
    "sklearn_ganad.losses",
    "sklearn_ganad.plotting",
    "sklearn_ganad.datasets",
    "sklearn_ganad.metrics",
    "sklearn_ganad.demo",
    "sklearn_ganad.cli",
    "sklearn_ganad.persistence",
    "sklearn_ganad.callbacks",
    "sklearn_ganad.utils",
    "sklearn_ganad.presets",
    "sklearn_ganad.export",
    "sklearn_ganad.ensemble",
]


def _documented_names():
    """Fully qualified names listed in api.rst (autosummary entries and data)."""
    if not (DOCS / "api.rst").exists():
        pytest.skip("docs/ is not part of this installation")
    names, module = set(), None
    for line in (DOCS / "api.rst").read_text().splitlines():
        if match := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = match.group(1)
        elif match := re.match(r"\.\. data:: (\S+)", line):
            data = match.group(1)
            names.add(data if data.startswith("sklearn_ganad") else f"{module}.{data}")
        elif match := re.match(r"   ([A-Za-z_][\w.]*)$", line):
            names.add(f"{module}.{match.group(1)}")
    return names


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_has_an_api_entry(module_name):
    module = importlib.import_module(module_name)
    public = [name for name in module.__all__ if not name.startswith("__")]
    missing = [name for name in public if f"{module_name}.{name}" not in _documented_names()]
    assert not missing, f"not in docs/api.rst: {missing}"


def test_every_example_is_a_gallery_script():
    examples = Path(__file__).resolve().parents[1] / "examples"
    if not examples.exists():
        pytest.skip("examples/ is not part of this installation")
    scripts = sorted(examples.glob("*.py"))
    assert scripts, "no examples"
    for script in scripts:
        text = script.read_text()
        # A script that needs a launcher (several processes) is shown, not run,
        # and says so; tests/test_distributed.py runs it.
        shown_only = "not run when the documentation is built" in text
        assert script.name.startswith("plot_") or shown_only, (
            f"{script.name} would not run in the gallery"
        )
        # sphinx-gallery needs a reST title in the module docstring.
        assert re.match(r'"""\n.+\n=+\n', text), f"{script.name} has no gallery title"


def test_ci_runs_the_readme_test_command():
    root = Path(__file__).resolve().parents[1]
    if not (root / ".ci" / "run").exists():
        pytest.skip(".ci/ is not part of this installation")
    ci_command = (root / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci_command in (root / "README.md").read_text()
    assert "python -m pytest" in ci_command and "sphinx -W" in ci_command


def _literal_blocks(path):
    """``(section title, code)`` of each literal block of an rst page (after ``::``)."""
    blocks, lines, section = [], path.read_text().splitlines(), ""
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and line and set(lines[i + 1]) <= set("-~=") and lines[i + 1]:
            section = line.strip()
        if not line.rstrip().endswith("::") or line.lstrip().startswith(".."):
            continue
        body = []
        for following in lines[i + 1 :]:
            if following.strip() and not following.startswith("    "):
                break
            body.append(following[4:])
        blocks.append((section, "\n".join(body).strip("\n")))
    return blocks


def _run_blocks(page, blocks):
    namespace: dict = {}
    for _, block in blocks:
        exec(compile(block, str(page), "exec"), namespace)  # noqa: S102
    return namespace


@pytest.fixture
def large_data_page(tmp_path, monkeypatch):
    page = DOCS / "large_data.rst"
    if not page.exists():
        pytest.skip("docs/ is not part of this installation")
    monkeypatch.chdir(tmp_path)
    return page


def test_large_data_recipes_run(large_data_page):
    blocks = _literal_blocks(large_data_page)
    assert {section for section, _ in blocks} >= {"Dask", "Memory-mapped arrays"}
    namespace = _run_blocks(large_data_page, [b for b in blocks if b[0] != "Dask"])
    assert namespace["search"].best_params_["latent_dim"] in (4, 16)
    assert namespace["detector"].n_samples_seen_ == 2000


def test_large_data_dask_recipes_run(large_data_page):
    for module in ("dask.array", "dask.dataframe", "distributed", "dask_ml"):
        pytest.importorskip(module, reason=f"{module} is not installed (pip install '.[dask]')")
    blocks = _literal_blocks(large_data_page)
    first, dask_blocks = blocks[0], [b for b in blocks if b[0] == "Dask"]
    assert len(dask_blocks) == 4
    namespace = _run_blocks(large_data_page, [first, *dask_blocks])
    assert len(namespace["frame_scores"]) == 2000
    assert namespace["trained"].n_samples_seen_ == 2000


def test_deploy_and_explain_recipes_run(tmp_path, monkeypatch):
    for module in ("onnx", "onnxscript", "onnxruntime"):
        pytest.importorskip(module, reason=f"{module} is not installed (pip install '.[onnx]')")
    page = DOCS / "deploy_and_explain.rst"
    if not page.exists():
        pytest.skip("docs/ is not part of this installation")
    monkeypatch.chdir(tmp_path)
    blocks = _literal_blocks(page)
    assert {section for section, _ in blocks} == {"Exporting to ONNX", "Explaining scores"}
    namespace = _run_blocks(page, blocks)
    assert (tmp_path / "ganomaly.onnx").exists() and (tmp_path / "pipeline.onnx").exists()
    assert not (tmp_path / "pca.onnx").exists()
    assert namespace["contributions"].shape == (5, 30)
    assert len(namespace["display"].contributions) == 30
