"""feature_contributions, anomaly_map, their Displays and ``score --explain``."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ganad import ALAD, EGBAD, FAnoGAN, GANomaly
from sklearn_ganad._net import feature_contributions
from sklearn_ganad.cli import main

from ._params import ALL_DETECTORS, make_fast, score_methods


def _tolerance(detector):
    # Perceptrons are explained and scored in float64 on the CPU; AnoGAN's
    # search and the convolutions in float32.
    return 1e-9 if detector._exact_scores[detector.architecture_] else 1e-5


@pytest.mark.parametrize(
    "cls, score_method",
    [(cls, method) for cls in ALL_DETECTORS for method in score_methods(cls)],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_contributions_sum_to_the_anomaly_score(cls, score_method, small_table):
    detector = make_fast(cls, score_method=score_method, preprocessing="auto").fit(small_table)
    contributions = detector.feature_contributions(small_table)
    assert contributions.shape == small_table.shape
    assert contributions.dtype == np.float64
    assert np.all(contributions >= 0)
    np.testing.assert_allclose(
        contributions.sum(axis=1), -detector.score_samples(small_table), rtol=_tolerance(detector)
    )


@pytest.mark.parametrize("cls", ALL_DETECTORS, ids=lambda cls: cls.__name__)
def test_anomaly_maps_sum_to_the_anomaly_score(cls, small_images):
    detector = make_fast(cls, max_epochs=1).fit(small_images)
    images = small_images[:6]
    contributions = detector.feature_contributions(images)
    assert contributions.shape == images.shape
    maps = detector.anomaly_map(images)
    assert maps.shape == (6, 8, 8)
    assert np.all(maps >= 0)
    np.testing.assert_allclose(maps.sum(axis=(1, 2)), -detector.score_samples(images), rtol=1e-5)
    # Rows of pixels give rows of contributions, and the same maps.
    flat = detector.feature_contributions(images.reshape(6, -1))
    assert flat.shape == (6, 64)
    np.testing.assert_allclose(detector.anomaly_map(images.reshape(6, -1)), maps)


@pytest.mark.parametrize(
    "cls, score_method, terms",
    [
        (ALAD, "l1", lambda r: np.abs(r)),
        (ALAD, "l2", lambda r: r**2 / np.linalg.norm(r, axis=1, keepdims=True)),
        (FAnoGAN, "izi", lambda r: r**2 / r.shape[1]),
    ],
    ids=["ALAD-l1", "ALAD-l2", "FAnoGAN-izi"],
)
def test_a_score_that_is_a_sum_over_features_is_split_exactly(cls, score_method, terms,
                                                              small_table):  # fmt: skip
    detector = make_fast(cls, score_method=score_method).fit(small_table)
    residual = small_table - detector.reconstruct(small_table)
    np.testing.assert_allclose(
        detector.feature_contributions(small_table), terms(residual), rtol=1e-5, atol=1e-7
    )


def test_egbad_contributions_are_its_residual_plus_a_share_of_the_discriminator(small_table):
    detector = make_fast(EGBAD).fit(small_table)
    weight = detector.reconstruction_weight_
    residual_terms = weight * np.abs(small_table - detector.reconstruct(small_table))
    contributions = detector.feature_contributions(small_table)
    spread = contributions - residual_terms
    assert np.all(spread >= -1e-6)
    # The spread part sums to the discriminator's part of the score.
    discrimination = -detector.score_samples(small_table) - residual_terms.sum(axis=1)
    np.testing.assert_allclose(spread.sum(axis=1), discrimination, rtol=1e-4, atol=1e-6)


class _Quadratic(torch.nn.Module):
    """A model whose remainder is sum_j c_j x_j^2 and reconstruction is 0."""

    def __init__(self, weights):
        super().__init__()
        self.weights = torch.as_tensor(weights, dtype=torch.float64)

    def score_parts(self, x):
        return None, lambda points: (self.weights * points**2).sum(1), torch.zeros_like(x)


def test_the_remainder_is_spread_by_integrated_gradients():
    # Along the straight way from 0 to x, feature j's integrated gradient of
    # sum_j c_j x_j^2 is exactly c_j x_j^2 (the midpoint rule is exact for
    # linear gradients), so the shares are the terms themselves.
    weights = np.array([1.0, 2.0, 0.0, 3.0])
    x = torch.tensor([[1.0, -1.0, 5.0, 0.5], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    contributions = feature_contributions(_Quadratic(weights), x).numpy()
    np.testing.assert_allclose(contributions[0], weights * x[0].numpy() ** 2)
    # A row with no remainder and no residual: zeros, not NaN.
    np.testing.assert_array_equal(contributions[1], 0.0)


@pytest.mark.parametrize(
    "cls, params",
    [(FAnoGAN, dict(score_method="izi", encoder_epochs=30)), (EGBAD, {})],
    ids=["FAnoGAN-izi", "EGBAD"],
)
def test_a_corrupted_column_gets_the_largest_contribution(cls, params):
    # Six features on a 2-D plane; one column per test row shifted by 6 sd.
    rng = np.random.RandomState(0)
    latent = rng.normal(size=(400, 2))
    X = np.column_stack([latent, latent @ rng.normal(size=(2, 4))]) + 0.05 * rng.normal(
        size=(400, 6)
    )
    detector = make_fast(cls, preprocessing="auto", max_epochs=30, **params).fit(X)
    test = X[:50].copy()
    columns = rng.randint(0, 6, size=50)
    test[np.arange(50), columns] += 6 * X.std(axis=0)[columns]
    top = detector.feature_contributions(test).argmax(axis=1)
    assert np.mean(top == columns) >= 0.85


def test_a_model_without_its_own_split_spreads_the_whole_score(small_table):
    # AdversarialModel.score_parts' default, which a custom model inherits.
    from sklearn_ganad import AdversarialModel

    detector = make_fast(EGBAD).fit(small_table)
    model = detector.net_.module_
    x = torch.from_numpy(small_table[:4].astype(np.float32))
    feature_terms, remainder, reconstruction = AdversarialModel.score_parts(model, x)
    assert feature_terms is None
    torch.testing.assert_close(remainder(x), model.anomaly_score(x))
    torch.testing.assert_close(reconstruction, model.reconstruct(x)[1])


def test_a_patch_gets_more_of_the_map_than_its_area():
    from sklearn.datasets import load_digits

    images = load_digits().images.astype(np.float32)[:, None] / 16.0
    detector = make_fast(FAnoGAN, score_method="izi", max_epochs=10, encoder_epochs=10)
    detector.fit(images[:600])
    test = images[600:700].copy()
    test[:, 0, 1:4, 1:4] = 1.0  # the patch: 9 of 64 pixels
    maps = detector.anomaly_map(test)
    share = maps[:, 1:4, 1:4].sum(axis=(1, 2)) / maps.sum(axis=(1, 2))
    assert share.mean() > 2 * 9 / 64


def test_anomaly_map_needs_images(small_table):
    detector = make_fast(GANomaly).fit(small_table)
    with pytest.raises(ValueError, match="fitted on a table.*feature_contributions"):
        detector.anomaly_map(small_table)


def test_bad_input_is_refused_before_work(small_table):
    with pytest.raises(NotFittedError):
        GANomaly().feature_contributions(small_table)
    detector = make_fast(GANomaly).fit(small_table)
    with pytest.raises(ValueError, match="features"):
        detector.feature_contributions(small_table[:, :3])
    bad = small_table.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        detector.feature_contributions(bad)


# -- Displays -------------------------------------------------------------------------


@pytest.fixture
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_anomaly_map_display(pyplot, small_images):
    from sklearn_ganad.plotting import AnomalyMapDisplay

    detector = make_fast(GANomaly, max_epochs=1).fit(small_images)
    display = AnomalyMapDisplay.from_estimator(detector, small_images, n_images=3, titles="abc")
    assert display.axes_.shape == (3, 3)
    np.testing.assert_allclose(display.maps, detector.anomaly_map(small_images[:3]))
    np.testing.assert_allclose(display.scores, -detector.score_samples(small_images[:3]))
    assert display.axes_[0, 1].get_title().startswith("b\n")
    # The map row and the overlay row draw the map; the overlay on the image.
    assert len(display.axes_[1, 0].images) == 1
    assert len(display.axes_[2, 0].images) == 2
    with pytest.raises(ValueError, match="fitted on a table"):
        AnomalyMapDisplay.from_estimator(make_fast(GANomaly).fit(small_images.reshape(40, -1)),
                                         small_images.reshape(40, -1))  # fmt: skip


def test_feature_contributions_display(pyplot, small_table):
    from sklearn_ganad.plotting import FeatureContributionsDisplay

    frame = pd.DataFrame(small_table, columns=list("abcde"))
    pipeline = make_pipeline(StandardScaler(), make_fast(EGBAD)).fit(frame)
    display = FeatureContributionsDisplay.from_estimator(pipeline, frame, row=4, max_features=3)
    contributions = pipeline[-1].feature_contributions(pipeline[0].transform(frame.iloc[[4]]))[0]
    labels = [tick.get_text() for tick in display.ax_.get_yticklabels()]
    expected = [frame.columns[j] for j in np.argsort(-contributions)[:3]]
    assert labels == expected[::-1]  # barh draws from the bottom: the largest on top
    assert [bar.get_width() for bar in display.bars_] == pytest.approx(sorted(contributions)[-3:])
    with pytest.raises(ValueError, match="out of range"):
        FeatureContributionsDisplay.from_estimator(pipeline, frame, row=60)


# -- the command line -----------------------------------------------------------------


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    frame = pd.DataFrame(np.random.RandomState(0).normal(size=(120, 4)), columns=list("abcd"))
    frame.to_csv(folder / "train.csv", index=False)
    argv = ["fit", str(folder / "train.csv"), "-o", str(folder / "model.ganad"),
            "--method", "EGBAD", "--random-state", "0", "--no-progress",
            "--param", "max_epochs=2", "--param", "hidden_layer_sizes=(8,)"]  # fmt: skip
    assert main(argv) == 0
    return folder, frame


def test_score_explain_adds_the_largest_contributions(model_file, capsys):
    from sklearn_ganad.persistence import load_model

    folder, frame = model_file
    out = folder / "scored.csv"
    argv = ["score", str(folder / "model.ganad"), str(folder / "train.csv"), "-o", str(out),
            "--explain", "2", "--chunksize", "50", "--force"]  # fmt: skip
    assert main(argv) == 0
    scored = pd.read_csv(out)
    assert list(scored.columns) == [
        *"abcd", "score", "label",
        "explain_feature_1", "explain_contribution_1",
        "explain_feature_2", "explain_contribution_2",
    ]  # fmt: skip
    model = load_model(folder / "model.ganad")  # the CLI's Pipeline: scaler, detector
    contributions = model[-1].feature_contributions(model[:-1].transform(frame))
    order = np.argsort(-contributions, axis=1, kind="stable")
    np.testing.assert_array_equal(scored["explain_feature_1"], np.array(list("abcd"))[order[:, 0]])
    np.testing.assert_array_equal(scored["explain_feature_2"], np.array(list("abcd"))[order[:, 1]])
    np.testing.assert_allclose(scored["explain_contribution_1"], contributions.max(axis=1))
    assert np.all(scored["explain_contribution_1"] >= scored["explain_contribution_2"])


def test_score_explain_with_only_scores(model_file, capsys):
    folder, frame = model_file
    out = folder / "only.csv"
    argv = ["score", str(folder / "model.ganad"), str(folder / "train.csv"), "-o", str(out),
            "--explain", "1", "--only-scores", "--force"]  # fmt: skip
    assert main(argv) == 0
    scored = pd.read_csv(out)
    assert list(scored.columns) == [
        "score", "label", "explain_feature_1", "explain_contribution_1"
    ]  # fmt: skip
    assert set(scored["explain_feature_1"]) <= set("abcd")


def test_score_explain_errors(model_file, capsys):
    folder, frame = model_file
    argv = ["score", str(folder / "model.ganad"), str(folder / "train.csv"), "-o",
            str(folder / "x.csv"), "--force"]  # fmt: skip
    assert main([*argv, "--explain", "5"]) == 2
    assert "more features than the model has (4)" in capsys.readouterr().err
    assert main([*argv, "--explain", "1", "--score-column", "explain_feature_1"]) == 2
    assert "would be overwritten by --explain" in capsys.readouterr().err
    frame.assign(explain_feature_1=0).to_csv(folder / "taken.csv", index=False)
    argv[2] = str(folder / "taken.csv")
    assert main([*argv, "--explain", "1"]) == 2
    assert "'explain_feature_1', which --explain adds" in capsys.readouterr().err
