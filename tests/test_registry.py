"""One registry of detectors, from which the CLI, benchmarks, tests and API docs derive."""

import ast
import inspect
import re
from pathlib import Path

import pytest

import sklearn_ganad
from sklearn_ganad import BaseGANDetector, GANomaly, cli
from sklearn_ganad.utils import all_detectors, register_detector, unregister_detector

from ._params import ALL_DETECTORS, FAST_PARAMS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _exported_detectors():
    """Concrete detector classes among the package's public names."""
    return {
        name: obj
        for name in sklearn_ganad.__all__
        if isinstance(obj := getattr(sklearn_ganad, name), type)
        and issubclass(obj, BaseGANDetector)
        and not inspect.isabstract(obj)
    }


def test_the_registry_holds_every_public_detector():
    assert dict(all_detectors()) == _exported_detectors()
    names = [name for name, _ in all_detectors()]
    assert names == ["ALAD", "AnoGAN", "EGBAD", "FAnoGAN", "GANomaly"]


def test_every_consumer_derives_from_the_registry():
    registered = dict(all_detectors())
    # The command line's --method choices.
    assert cli._methods() == registered
    help_text = cli.build_parser()._subparsers._group_actions[0].choices["fit"].format_help()
    assert "{" + ",".join(registered) + "}" in help_text
    # The benchmark runner and its scripts.
    benchmarks = pytest.importorskip("benchmarks._methods", reason="benchmarks/ not installed")
    package = {name for name, (_, kind) in benchmarks.METHODS.items() if kind == "package"}
    assert set(registered) <= package
    from benchmarks import defaults_kddcup99, fit_time

    assert set(registered) <= set(defaults_kddcup99.DETECTORS) and fit_time.DETECTORS == registered
    # The common tests: every registered detector, with fast settings.
    assert ALL_DETECTORS == list(registered.values()) and set(FAST_PARAMS) >= set(ALL_DETECTORS)


def test_every_registered_detector_is_in_the_api_reference():
    if not (DOCS / "api.rst").exists():
        pytest.skip("docs/ is not part of this installation")
    api = (DOCS / "api.rst").read_text()
    missing = [name for name, _ in all_detectors() if f"\n   {name}\n" not in api]
    assert not missing, f"not in docs/api.rst: {missing}"


def test_registering_a_detector_reaches_the_command_line():
    @register_detector
    class ToyGANomaly(GANomaly):
        """A detector registered by a plugin."""

    try:
        assert dict(all_detectors())["ToyGANomaly"] is ToyGANomaly
        assert cli._method_name("toyganomaly") == "ToyGANomaly"
        assert "ToyGANomaly" in cli.build_parser().format_help() or "ToyGANomaly" in (
            cli.build_parser()._subparsers._group_actions[0].choices["fit"].format_help()
        )
        # Registering the same class twice is harmless; another class of that name is not.
        assert register_detector(ToyGANomaly) is ToyGANomaly
        with pytest.raises(ValueError, match="'ToyGANomaly' is already registered"):
            register_detector(type("ToyGANomaly", (GANomaly,), {}))
    finally:
        unregister_detector("ToyGANomaly")
    assert "ToyGANomaly" not in dict(all_detectors())
    with pytest.raises(TypeError, match="not a concrete subclass of BaseGANDetector"):
        register_detector(dict)
    with pytest.raises(TypeError, match="not a concrete subclass of BaseGANDetector"):
        register_detector(BaseGANDetector)


@pytest.mark.parametrize("name, cls", all_detectors())
def test_documented_defaults_equal_the_signature(name, cls):
    """Every ``name : type, default=X`` of the Parameters section is the signature's default."""
    from sklearn_ganad.utils._docstring import format_default

    doc = inspect.getdoc(cls)
    section = doc[doc.index("Parameters\n----------") : doc.index("Attributes\n----------")]
    documented = dict(re.findall(r"^(\w+) : .*?, default=(.+)$", section, re.M))
    signature = inspect.signature(cls.__init__).parameters
    assert set(documented) == {p for p in signature if p != "self"}, "a parameter lacks a default"

    def same(text, default):
        try:
            return ast.literal_eval(text) == default  # 1e-5 is 1e-05
        except (ValueError, SyntaxError):
            return text == format_default(default)

    wrong = {
        param: (text, format_default(signature[param].default))
        for param, text in documented.items()
        if not same(text, signature[param].default)
    }
    assert not wrong, f"{name}: documented default != signature default: {wrong}"
