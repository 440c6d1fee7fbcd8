"""ONNX export: onnxruntime reproduces score_samples, decision_function and predict."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

from sklearn_ganad import AnoGAN, GANomaly
from sklearn_ganad.export import ONNX_OUTPUTS, export_onnx

from ._params import ALL_DETECTORS, make_fast, score_methods

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
pytest.importorskip("onnxscript")

ONE_PASS = [cls for cls in ALL_DETECTORS if cls._score_is_one_pass]
SEARCHING = [cls for cls in ALL_DETECTORS if not cls._score_is_one_pass]

# The graph computes in float32 where the CPU scores tables in float64.
RTOL = 1e-5


def _run(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(zip(ONNX_OUTPUTS, session.run(None, {"X": X}), strict=True))


def _assert_matches(outputs, estimator, X):
    scores = estimator.score_samples(X)
    atol = 1e-7 * np.abs(scores).max()
    np.testing.assert_allclose(outputs["score_samples"], scores, rtol=RTOL, atol=atol)
    # decision_function = score_samples - offset_ cancels digits: its error
    # is the scores' error, relative to the scores' size.
    np.testing.assert_allclose(
        outputs["decision_function"],
        estimator.decision_function(X),
        rtol=RTOL,
        atol=RTOL * np.abs(scores).max(),
    )
    # A row within rounding of the threshold may flip; the fast fits put none there.
    np.testing.assert_array_equal(outputs["predict"], estimator.predict(X))
    assert outputs["score_samples"].dtype == np.float32
    assert outputs["predict"].dtype == np.int64


@pytest.fixture(scope="module")
def table():
    rng = np.random.RandomState(0)
    X = rng.normal(loc=3.0, scale=[1.0, 5.0, 0.1, 2.0, 1.0], size=(160, 5))
    return X.astype(np.float32)


@pytest.mark.parametrize(
    "cls, score_method",
    [(cls, method) for cls in ONE_PASS for method in score_methods(cls)],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_onnx_scores_equal_score_samples_on_tables(cls, score_method, table, tmp_path):
    # preprocessing="auto": the detector's standard scaler is in the graph.
    detector = make_fast(cls, score_method=score_method, preprocessing="auto").fit(table)
    path = export_onnx(detector, tmp_path / "detector.onnx")
    # Batch sizes other than the example's (two rows): one, odd, many.
    for rows in (table[:1], table[:37], table):
        _assert_matches(_run(path, rows), detector, rows)


@pytest.mark.filterwarnings("ignore::sklearn_ganad.UnreliableScoreWarning")
@pytest.mark.parametrize(
    "cls, score_method",
    [(cls, method) for cls in ONE_PASS for method in score_methods(cls)],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_onnx_scores_equal_score_samples_on_images(cls, score_method, small_images, tmp_path):
    detector = make_fast(cls, max_epochs=1, score_method=score_method).fit(small_images)
    path = export_onnx(detector, tmp_path / "detector.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == ["batch", 1, 8, 8]
    _assert_matches(_run(path, small_images[:7]), detector, small_images[:7])


def test_the_feature_clip_is_part_of_the_graph(table, tmp_path):
    X = table.copy()
    X[0, 1] = 1e4  # 12 standard deviations out: clipped in training
    detector = make_fast(GANomaly, preprocessing="auto").fit(X)
    assert detector.feature_clip_ == 10.0
    path = export_onnx(detector, tmp_path / "detector.onnx")
    rows = X[:10] * np.float32(-3.0)  # beyond the bound on both sides
    _assert_matches(_run(path, rows), detector, rows)


def test_images_fitted_as_rows_export_with_rows_as_input(small_images, tmp_path):
    rows = small_images.reshape(len(small_images), -1)
    detector = make_fast(GANomaly, max_epochs=1, image_shape=(1, 8, 8)).fit(rows)
    path = export_onnx(detector, tmp_path / "detector.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == ["batch", 64]
    _assert_matches(_run(path, rows[:5]), detector, rows[:5])


def test_a_batch_of_no_rows_and_non_finite_rows(table, tmp_path):
    detector = make_fast(GANomaly).fit(table)
    path = export_onnx(detector, tmp_path / "detector.onnx")
    empty = _run(path, table[:0])
    assert empty["score_samples"].shape == (0,) and empty["predict"].shape == (0,)
    # The graph does not validate: a NaN row is scored NaN and called an outlier.
    rows = table[:3].copy()
    rows[1, 2] = np.nan
    outputs = _run(path, rows)
    assert np.isnan(outputs["score_samples"][1])
    assert outputs["predict"][1] == -1
    np.testing.assert_array_equal(outputs["predict"][[0, 2]], detector.predict(rows[[0, 2]]))


@pytest.mark.parametrize(
    "scalers",
    [
        [StandardScaler()],
        [RobustScaler(), MinMaxScaler(clip=True)],
        [MaxAbsScaler(), "passthrough", StandardScaler(with_mean=False)],
        [StandardScaler(with_std=False), MinMaxScaler(feature_range=(-1, 2))],
        [RobustScaler(with_centering=False, unit_variance=True)],
        [RobustScaler(with_scaling=False), StandardScaler()],
    ],
    ids=[
        "standard", "robust-minmax-clip", "maxabs-passthrough-std", "centre-minmax-range",
        "robust-unit-variance", "robust-centre-standard",
    ],
)  # fmt: skip
def test_pipeline_scalers_are_part_of_the_graph(scalers, table, tmp_path):
    # A constant column: the scalers' zero-variance rule (scale 1) is kept.
    X = np.column_stack([table, np.full(len(table), 2.5, dtype=np.float32)])
    pipeline = make_pipeline(*scalers, make_fast(GANomaly)).fit(X)
    path = export_onnx(pipeline, tmp_path / "pipeline.onnx")
    # Rows outside the training range exercise MinMaxScaler's clip.
    shifted = X * 2.0 - 3.0
    _assert_matches(_run(path, shifted), pipeline, shifted)


def test_an_unsupported_pipeline_step_is_refused_by_name(table, tmp_path):
    pipeline = make_pipeline(PCA(n_components=3), make_fast(GANomaly)).fit(table)
    with pytest.raises(ValueError, match="'pca' \\(PCA\\)"):
        export_onnx(pipeline, tmp_path / "pipeline.onnx")
    assert not (tmp_path / "pipeline.onnx").exists()


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["detector", "pipeline"])
def test_the_metadata_records_the_detector(in_pipeline, table, tmp_path):
    import onnx
    import pandas as pd

    frame = pd.DataFrame(table, columns=[f"f{i}" for i in range(5)])
    estimator = make_fast(GANomaly)
    if in_pipeline:
        estimator = make_pipeline(StandardScaler(), estimator)
    estimator.fit(frame)
    path = export_onnx(estimator, tmp_path / "detector.onnx")
    metadata = {entry.key: entry.value for entry in onnx.load(str(path)).metadata_props}
    detector = estimator[-1] if in_pipeline else estimator
    assert metadata["method"] == "GANomaly"
    assert metadata["part"] == "score"
    assert float(metadata["offset"]) == detector.offset_
    assert json.loads(metadata["feature_names"]) == list(frame.columns)
    assert metadata["n_features_in"] == "5"
    assert json.loads(metadata["pipeline_steps"]) == (["standardscaler"] if in_pipeline else [])
    assert metadata["precision"] == "32"


@pytest.mark.parametrize("cls", SEARCHING, ids=lambda cls: cls.__name__)
def test_a_search_score_has_no_graph_but_its_networks_export(cls, table, tmp_path):
    detector = make_fast(cls).fit(table)
    with pytest.raises(ValueError, match="latent search"):
        export_onnx(detector, tmp_path / "score.onnx")
    module = detector.net_.module_
    import torch

    z = np.random.RandomState(1).normal(size=(9, detector.latent_dim_)).astype(np.float32)
    path = export_onnx(detector, tmp_path / "g.onnx", part="generator")
    generator = ort.InferenceSession(str(path))
    with torch.no_grad():
        expected = module.generator(torch.from_numpy(z)).numpy()
        logits = module.discriminator(torch.from_numpy(table)).numpy()
        features = module.discriminator.features(torch.from_numpy(table)).numpy()
    np.testing.assert_allclose(generator.run(None, {"z": z})[0], expected, rtol=RTOL, atol=1e-6)
    path = export_onnx(detector, tmp_path / "d.onnx", part="discriminator")
    discriminator = ort.InferenceSession(str(path))
    got_logits, got_features = discriminator.run(None, {"X": table})
    np.testing.assert_allclose(got_logits, logits, rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(got_features, features, rtol=RTOL, atol=1e-6)


def test_parts_other_than_score_are_refused_for_one_pass_detectors(table, tmp_path):
    detector = make_fast(GANomaly).fit(table)
    with pytest.raises(ValueError, match="one forward pass"):
        export_onnx(detector, tmp_path / "g.onnx", part="generator")
    with pytest.raises(ValueError, match="part must be one of"):
        export_onnx(detector, tmp_path / "g.onnx", part="encoder")


def test_unfitted_and_foreign_estimators_are_refused(tmp_path):
    from sklearn.ensemble import IsolationForest
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        export_onnx(GANomaly(), tmp_path / "x.onnx")
    with pytest.raises(TypeError, match="IsolationForest"):
        export_onnx(IsolationForest(), tmp_path / "x.onnx")


def test_missing_exporter_is_named(table, tmp_path, monkeypatch):
    detector = make_fast(GANomaly).fit(table)
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(ImportError, match=r"onnxscript.*sklearn-ganad\[onnx\]"):
        export_onnx(detector, tmp_path / "x.onnx")


def test_the_file_scores_in_a_process_without_torch(table, tmp_path):
    detector = make_fast(GANomaly, preprocessing="auto").fit(table)
    path = export_onnx(detector, tmp_path / "detector.onnx")
    np.save(tmp_path / "X.npy", table)
    np.save(tmp_path / "expected.npy", detector.score_samples(table))
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import onnxruntime as ort

        X = np.load({str(tmp_path / "X.npy")!r})
        expected = np.load({str(tmp_path / "expected.npy")!r})
        session = ort.InferenceSession({str(path)!r}, providers=["CPUExecutionProvider"])
        scores = session.run(["score_samples"], {{"X": X}})[0]
        assert "torch" not in sys.modules, "torch was imported"
        assert "sklearn_ganad" not in sys.modules
        np.testing.assert_allclose(scores, expected, rtol={RTOL}, atol=1e-7 * abs(expected).max())
        print("ok", len(scores))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ok {len(table)}"


def test_anogan_is_the_only_detector_without_a_scoring_graph():
    # A new detector whose score is not one pass must say so, as AnoGAN does.
    assert SEARCHING == [AnoGAN]


@pytest.mark.parametrize("cls", ONE_PASS, ids=lambda cls: cls.__name__)
def test_a_coupled_ensemble_exports_its_mean_score(cls, table, tmp_path):
    detector = make_fast(cls, ensemble_size=2, preprocessing="auto").fit(table)
    path = export_onnx(detector, tmp_path / "coupled.onnx")
    _assert_matches(_run(path, table), detector, table)


def test_a_coupled_anogan_refuses_to_export_one_network(table, tmp_path):
    detector = make_fast(AnoGAN, ensemble_size=2).fit(table)
    with pytest.raises(ValueError, match="ensemble_size=2 coupled GANs"):
        export_onnx(detector, tmp_path / "generator.onnx", part="generator")
    assert not (tmp_path / "generator.onnx").exists()
