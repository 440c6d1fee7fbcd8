"""encode/reconstruct and the Display classes of sklearn_ganad.plotting."""

import sys

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklearn_ganad import EGBAD, FAnoGAN, GANomaly
from sklearn_ganad.plotting import (
    LatentMapDisplay,
    ReconstructionDisplay,
    ScoreDistributionDisplay,
    TrainingCurvesDisplay,
)

from ._params import ALL_DETECTORS, make_fast

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted(small_table):
    return {cls: make_fast(cls).fit(small_table) for cls in ALL_DETECTORS}


@pytest.fixture(scope="module")
def image_detector(small_images):
    return make_fast(GANomaly).fit(small_images)


# -- encode and reconstruct ----------------------------------------------------


@pytest.mark.parametrize("detector_class", ALL_DETECTORS, ids=lambda c: c.__name__)
def test_encode_and_reconstruct_shapes_and_invariance(detector_class, fitted, small_table):
    detector = fitted[detector_class]
    codes, rebuilt = detector.encode(small_table), detector.reconstruct(small_table)
    assert codes.shape == (len(small_table), detector.latent_dim_)
    assert rebuilt.shape == small_table.shape
    assert np.all(np.isfinite(codes)) and np.all(np.isfinite(rebuilt))
    # A row's code does not depend on the rows encoded with it.
    np.testing.assert_allclose(
        detector.encode(small_table[7:12]), codes[7:12], rtol=1e-5, atol=1e-6
    )


def test_reconstruct_is_the_generators_output(fitted, small_table):
    """GANomaly: G_D(G_E(x)); EGBAD: G(E(x)); computed here with the modules."""
    x = torch.as_tensor(small_table, dtype=torch.float32)
    with torch.no_grad():
        ganomaly = fitted[GANomaly].net_.module_
        expected = ganomaly.decoder(ganomaly.encoder(x)).numpy()
        np.testing.assert_allclose(fitted[GANomaly].reconstruct(small_table), expected, atol=1e-5)
        egbad = fitted[EGBAD].net_.module_
        code = egbad.encoder(x)
        np.testing.assert_allclose(fitted[EGBAD].encode(small_table), code.numpy(), atol=1e-5)
        np.testing.assert_allclose(
            fitted[EGBAD].reconstruct(small_table), egbad.generator(code).numpy(), atol=1e-5
        )


def test_anogan_codes_are_the_search_result(fitted, small_table):
    from sklearn_ganad import AnoGAN

    detector = fitted[AnoGAN]
    model = detector.net_.module_
    loss, z = model.latent_search(torch.as_tensor(small_table[:16], dtype=torch.float32))
    np.testing.assert_allclose(detector.encode(small_table[:16]), z.numpy(), rtol=1e-4, atol=1e-5)
    # The score is the search loss at those codes.
    np.testing.assert_allclose(
        -detector.score_samples(small_table[:16]), loss.numpy(), rtol=1e-4, atol=1e-6
    )


def test_reconstruct_keeps_the_image_layout(image_detector, small_images):
    assert image_detector.reconstruct(small_images).shape == small_images.shape
    flat = small_images.reshape(len(small_images), -1)
    detector = make_fast(GANomaly, image_shape=(1, 8, 8)).fit(flat)
    assert detector.reconstruct(flat).shape == flat.shape
    assert detector.encode(flat).shape == (len(flat), 2)


def test_encode_needs_a_fitted_detector_and_the_fitted_features(fitted, small_table):
    with pytest.raises(NotFittedError):
        GANomaly().encode(small_table)
    with pytest.raises(ValueError, match="features"):
        fitted[GANomaly].reconstruct(small_table[:, :3])


# -- displays ------------------------------------------------------------------


def test_training_curves_draw_every_loss(fitted):
    detector = fitted[GANomaly]
    display = TrainingCurvesDisplay.from_estimator(detector)
    history = detector.net_.history
    expected = {"train_loss", "train_loss_discriminator", "train_loss_adv", "train_loss_con"}
    assert expected <= set(display.lines_)
    for name, line in display.lines_.items():
        np.testing.assert_allclose(line.get_ydata(), history[:, name])
        np.testing.assert_array_equal(line.get_xdata(), history[:, "epoch"])
    assert display.ax_.get_xlabel() == "epoch"
    assert display.figure_ is display.ax_.figure


def test_training_curves_of_a_staged_method_leave_gaps(fitted):
    display = TrainingCurvesDisplay.from_estimator(fitted[FAnoGAN], log_scale=False)
    # Two GAN epochs then two encoder epochs: each stage's losses are NaN in the other.
    critic = display.losses["train_loss_critic"]
    encoder = display.losses["train_loss_image"]
    assert np.isfinite(critic[:2]).all() and np.isnan(critic[2:]).all()
    assert np.isnan(encoder[:2]).all() and np.isfinite(encoder[2:]).all()


def test_training_curves_subset_and_errors(fitted):
    display = TrainingCurvesDisplay.from_estimator(
        fitted[GANomaly], losses=["train_loss"], log_scale=True
    )
    assert list(display.lines_) == ["train_loss"]
    assert display.ax_.get_yscale() == "log"
    with pytest.raises(ValueError, match="not in the history"):
        TrainingCurvesDisplay.from_estimator(fitted[GANomaly], losses=["nope"])
    with pytest.raises(TypeError, match="sklearn_ganad's detectors"):
        TrainingCurvesDisplay.from_estimator(IsolationForest().fit(np.eye(3)))


def test_score_distribution_counts_and_threshold(fitted, blobs):
    detector = make_fast(GANomaly).fit(blobs[:200])
    y = np.r_[np.zeros(200, int), np.ones(5, int)]
    display = ScoreDistributionDisplay.from_estimator(detector, blobs, y, density=False)
    counts = {label: sum(p.get_height() for p in bars) for label, bars in display.hists_.items()}
    assert counts == {0: 200, 1: 5}
    assert display.threshold_line_.get_xdata()[0] == detector.offset_
    decision = ScoreDistributionDisplay.from_estimator(
        detector, blobs, y, response_method="decision_function"
    )
    assert decision.threshold == 0.0
    np.testing.assert_allclose(decision.scores, detector.decision_function(blobs))


def test_score_distribution_of_pipelines_and_other_detectors(small_table):
    forest = make_pipeline(StandardScaler(), IsolationForest(random_state=0)).fit(small_table)
    display = ScoreDistributionDisplay.from_estimator(forest, small_table)
    assert display.threshold == forest[-1].offset_
    assert list(display.hists_) == ["all"]
    with pytest.raises(ValueError, match="response_method"):
        ScoreDistributionDisplay.from_estimator(forest, small_table, response_method="predict")


def test_score_distribution_from_predictions():
    display = ScoreDistributionDisplay.from_predictions(
        ["a", "b", "a"], [0.1, 0.5, 0.2], threshold=0.3, bins=4
    )
    assert set(display.hists_) == {"a", "b"}
    with pytest.raises(ValueError, match="same shape"):
        ScoreDistributionDisplay.from_predictions([0, 1], [0.1, 0.2, 0.3])


def test_reconstructions_show_input_reconstruction_and_difference(image_detector, small_images):
    display = ReconstructionDisplay.from_estimator(
        image_detector, small_images, n_images=3, titles=["a", "b", "c", "d"]
    )
    assert display.axes_.shape == (3, 3)
    np.testing.assert_array_equal(display.images, small_images[:3])
    np.testing.assert_allclose(
        display.reconstructions, image_detector.reconstruct(small_images[:3])
    )
    difference = display.axes_[2, 1].get_images()[0].get_array()
    expected = np.abs(display.images[1] - display.reconstructions[1]).mean(axis=0)
    np.testing.assert_allclose(difference, expected, rtol=1e-6)
    assert [ax.get_title() for ax in display.axes_[0]] == ["a", "b", "c"]


def test_reconstructions_through_a_pipeline_and_errors(small_images, fitted, small_table):
    flat = small_images.reshape(len(small_images), -1)
    pipe = make_pipeline(
        FunctionTransformer(lambda X: X * 0.5), make_fast(GANomaly, image_shape=(1, 8, 8))
    ).fit(flat)
    display = ReconstructionDisplay.from_estimator(pipe, flat, n_images=2)
    np.testing.assert_allclose(display.images, small_images[:2] * 0.5)
    with pytest.raises(ValueError, match="fitted on a table"):
        ReconstructionDisplay.from_estimator(fitted[GANomaly], small_table)
    with pytest.raises(ValueError, match="n_images"):
        ReconstructionDisplay.from_estimator(pipe, flat, n_images=0)


def test_latent_map_is_the_pca_of_the_codes(fitted, small_table):
    detector = fitted[EGBAD]
    y = np.arange(len(small_table)) % 2
    display = LatentMapDisplay.from_estimator(detector, small_table, y, random_state=0)
    expected = PCA(n_components=2, random_state=0).fit_transform(detector.encode(small_table))
    np.testing.assert_allclose(display.embedding, expected, rtol=1e-5, atol=1e-6)
    assert {label: len(s.get_offsets()) for label, s in display.scatters_.items()} == {
        0: 30,
        1: 30,
    }
    assert display.ax_.get_xlabel() == "PC1"


def test_latent_map_tsne_and_errors(fitted, small_table):
    display = LatentMapDisplay.from_estimator(
        fitted[GANomaly], small_table, method="tsne", random_state=0
    )
    assert display.embedding.shape == (len(small_table), 2)
    with pytest.raises(ValueError, match="'pca' or 'tsne'"):
        LatentMapDisplay.from_estimator(fitted[GANomaly], small_table, method="umap")
    with pytest.raises(ValueError, match="labels for"):
        LatentMapDisplay.from_estimator(fitted[GANomaly], small_table, y=[0, 1])


def test_missing_matplotlib_names_the_extra(fitted, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install sklearn-ganad\[plot\]"):
        TrainingCurvesDisplay.from_estimator(fitted[GANomaly])
