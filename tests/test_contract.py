"""The contract every detector of the package honours (the shared base)."""

import copy
import io
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sklearn_ganad import FAnoGAN

from ._params import ALL_DETECTORS, make_fast

pytestmark = pytest.mark.parametrize("cls", ALL_DETECTORS, ids=lambda c: c.__name__)


@pytest.fixture(scope="module")
def fitted(request):
    cache = {}

    def get(cls, X):
        key = (cls, X.shape)
        if key not in cache:
            cache[key] = make_fast(cls, contamination=0.2).fit(X)
        return cache[key]

    return get


def test_score_samples_is_minus_the_models_anomaly_score(cls, fitted, small_table):
    detector = fitted(cls, small_table)
    model = detector.net_.module_.eval()
    with torch.no_grad():
        anomaly = model(torch.as_tensor(small_table, dtype=torch.float32)).double().numpy()
    assert_allclose(detector.score_samples(small_table), -anomaly, rtol=1e-5, atol=1e-6)


def test_decision_function_and_predict_follow_offset(cls, fitted, small_table):
    detector = fitted(cls, small_table)
    scores = detector.score_samples(small_table)
    decision = detector.decision_function(small_table)
    assert_allclose(decision, scores - detector.offset_)
    assert detector.offset_ == pytest.approx(np.percentile(scores, 20.0))
    predicted = detector.predict(small_table)
    assert predicted.dtype.kind == "i"
    assert_array_equal(predicted, np.where(decision < 0, -1, 1))
    # contamination=0.2 of the 60 training rows are below the offset.
    assert np.mean(predicted == -1) == pytest.approx(0.2, abs=1 / 60)


def test_fit_predict_equals_fit_then_predict(cls, small_table):
    detector = make_fast(cls, contamination=0.15)
    labels = detector.fit_predict(small_table)
    assert_array_equal(labels, detector.predict(small_table))
    assert set(np.unique(labels)) == {-1, 1}


@pytest.mark.parametrize("contamination", [0.05, 0.25, 0.5])
def test_contamination_sets_the_share_of_training_outliers(cls, small_table, contamination):
    detector = make_fast(cls, contamination=contamination).fit(small_table)
    share = np.mean(detector.predict(small_table) == -1)
    assert share == pytest.approx(contamination, abs=1 / len(small_table))


def test_same_random_state_gives_identical_scores(cls, small_table):
    first = make_fast(cls, random_state=3).fit(small_table).score_samples(small_table)
    second = make_fast(cls, random_state=3).fit(small_table).score_samples(small_table)
    other = make_fast(cls, random_state=4).fit(small_table).score_samples(small_table)
    assert_array_equal(first, second)
    assert not np.allclose(first, other)


def test_fit_leaves_global_random_state_untouched(cls, small_table):
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()
    make_fast(cls, random_state=0).fit(small_table)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == numpy_state[0]
    assert_array_equal(after[1], numpy_state[1])


def test_clone_copies_parameters_not_fit(cls, fitted, small_table):
    detector = fitted(cls, small_table)
    copy = clone(detector)
    assert copy.get_params() == detector.get_params()
    assert not hasattr(copy, "net_")
    assert_array_equal(
        copy.fit(small_table).score_samples(small_table), detector.score_samples(small_table)
    )


def test_pickle_and_joblib_round_trips_give_identical_scores(cls, fitted, small_table, tmp_path):
    detector = fitted(cls, small_table)
    expected = detector.score_samples(small_table)
    restored = pickle.loads(pickle.dumps(detector))
    assert_array_equal(restored.score_samples(small_table), expected)
    path = tmp_path / "detector.joblib"
    joblib.dump(detector, path)
    assert_array_equal(joblib.load(path).score_samples(small_table), expected)
    assert restored.offset_ == detector.offset_


def test_refit_resets_history(cls, small_table):
    # f-AnoGAN's encoder stage adds its epochs after the GAN's.
    extra = make_fast(cls).get_params().get("encoder_epochs", 0)
    detector = make_fast(cls, max_epochs=3).fit(small_table)
    assert len(detector.net_.history) == 3 + extra
    first_net = detector.net_
    detector.set_params(max_epochs=2).fit(small_table)
    assert len(detector.net_.history) == 2 + extra
    assert detector.net_ is not first_net


def test_history_records_every_loss_per_epoch(cls, fitted, small_table):
    if cls is FAnoGAN:
        pytest.skip("f-AnoGAN's losses depend on the stage: see test_fanogan.py")
    history = fitted(cls, small_table).net_.history
    model = fitted(cls, small_table).net_.module_
    keys = ["train_loss"]
    keys += [f"train_loss_{p}" for p in model.players if p != model.main_player]
    keys += [f"train_{term}" for term in model.loss_terms]
    for key in keys:
        values = history[:, key]
        assert len(values) == len(history)
        assert np.all(np.isfinite(values))


def test_dataframe_input_records_feature_names(cls, small_table):
    frame = pd.DataFrame(small_table, columns=[f"f{i}" for i in range(small_table.shape[1])])
    detector = make_fast(cls).fit(frame)
    assert_array_equal(detector.feature_names_in_, frame.columns)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = detector.score_samples(small_table)
    assert_array_equal(detector.score_samples(frame), from_array)
    renamed = frame.rename(columns={"f0": "other"})
    with pytest.raises(ValueError, match="feature names"):
        detector.score_samples(renamed)


def test_image_inputs_2d_3d_and_4d_agree(cls, small_images):
    flat = small_images.reshape(len(small_images), -1)
    from_flat = make_fast(cls, image_shape=(1, 8, 8)).fit(flat)
    from_3d = make_fast(cls).fit(small_images[:, 0])
    from_4d = make_fast(cls).fit(small_images)
    assert from_flat.image_shape_ == from_3d.image_shape_ == from_4d.image_shape_ == (1, 8, 8)
    assert from_4d.architecture_ == "conv"
    expected = from_flat.score_samples(flat)
    assert_array_equal(from_3d.score_samples(small_images[:, 0]), expected)
    assert_array_equal(from_4d.score_samples(small_images), expected)
    assert_array_equal(from_4d.score_samples(flat), expected)


def test_images_with_mlp_architecture(cls, small_images):
    detector = make_fast(cls, architecture="mlp").fit(small_images)
    assert detector.architecture_ == "mlp"
    assert detector.score_samples(small_images).shape == (len(small_images),)


def test_verbose_prints_skorch_progress(cls, small_table, capsys):
    make_fast(cls, verbose=0).fit(small_table)
    assert capsys.readouterr().out == ""
    make_fast(cls, verbose=1, max_epochs=2).fit(small_table)
    out = capsys.readouterr().out
    assert "train_loss" in out and "dur" in out
    assert len([line for line in out.splitlines() if line.strip().startswith(("1 ", "2 "))]) == 2


def test_callbacks_parameter_is_not_mutated(cls, small_table):
    from skorch.callbacks import EarlyStopping

    stopper = EarlyStopping(monitor="train_loss", patience=1)
    before = dict(vars(stopper))
    detector = make_fast(cls, max_epochs=3, callbacks=[stopper]).fit(small_table)
    assert vars(stopper) == before
    assert any(isinstance(cb, EarlyStopping) for _, cb in detector.net_.callbacks_)


# -- bad input -------------------------------------------------------------------


def test_predict_before_fit_raises_not_fitted(cls, small_table):
    detector = make_fast(cls)
    for method in ("score_samples", "decision_function", "predict"):
        with pytest.raises(NotFittedError):
            getattr(detector, method)(small_table)


@pytest.mark.parametrize(
    "make_X, message",
    [
        (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), "NaN"),
        (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X), "infinity"),
        (lambda X: X[:0], "0 sample"),
        (lambda X: X[:1], "1 sample"),
        (lambda X: X[:, :0], "0 feature"),
        (lambda X: X.astype(str).astype(object) + "x", "could not convert"),
        (lambda X: X.reshape(len(X), 1, 1, 1, -1), "4-D"),
    ],
    ids=["nan", "inf", "empty", "one-sample", "no-feature", "strings", "5-d"],
)
def test_bad_training_data_raises_before_training(cls, small_table, make_X, message):
    detector = make_fast(cls)
    with pytest.raises(ValueError, match=message):
        detector.fit(make_X(small_table))
    assert not hasattr(detector, "net_")


def test_bad_scoring_data_raises(cls, fitted, small_table):
    detector = fitted(cls, small_table)
    with pytest.raises(ValueError, match="5 features"):
        detector.score_samples(small_table[:, :4])
    bad = small_table.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        detector.predict(bad)
    with pytest.raises(ValueError, match="tabular"):
        detector.score_samples(small_table.reshape(len(small_table), 1, 5, 1))


def test_image_shape_errors_name_the_problem(cls, small_images):
    flat = small_images.reshape(len(small_images), -1)
    with pytest.raises(ValueError, match=r"implies 49 features, but X has 64"):
        make_fast(cls, image_shape=(1, 7, 7)).fit(flat)
    with pytest.raises(ValueError, match=r"image_shape is \(1, 8, 9\)"):
        make_fast(cls, image_shape=(1, 8, 9)).fit(small_images)
    with pytest.raises(ValueError, match="image_shape must be"):
        make_fast(cls, image_shape=(1, 0, 8)).fit(flat)
    with pytest.raises(ValueError, match="needs images"):
        make_fast(cls, architecture="conv").fit(flat)
    detector = make_fast(cls).fit(small_images)
    with pytest.raises(ValueError, match=r"fitted on \(1, 8, 8\)"):
        detector.score_samples(np.zeros((3, 2, 8, 8)))


def test_invalid_parameters_raise_at_fit(cls, small_table):
    for params, message in [
        (dict(contamination=0.6), "contamination"),
        (dict(batch_size=1), "batch_size"),
        (dict(lr=0.0), "lr"),
        (dict(hidden_layer_sizes=(8, 0)), "hidden_layer_sizes"),
        (dict(betas=(0.5, 1.5)), "betas"),
        (dict(device="tpu:9"), "device"),
        (dict(validation_fraction=0.001), "validation_fraction"),
    ]:
        with pytest.raises(ValueError, match=message):
            make_fast(cls, **params).fit(small_table)


def test_bounded_output_warns_when_data_is_out_of_range(cls, small_images):
    with pytest.warns(UserWarning, match=r"tanh.*X spans \[0, 16\]"):
        make_fast(cls).fit(np.round((small_images + 1) * 8))


def test_non_finite_scores_are_an_error_not_output(cls, fitted, small_table):
    detector = copy.deepcopy(fitted(cls, small_table))
    with torch.no_grad():
        next(detector.net_.module_.parameters()).fill_(float("inf"))
    with pytest.raises(ValueError, match=r"rows got a non-finite score"):
        detector.score_samples(small_table)


def test_non_finite_training_scores_fail_fit_clearly(cls, small_table, monkeypatch):
    detector = make_fast(cls)
    monkeypatch.setattr(type(detector), "_anomaly_score", lambda self, X: np.full(len(X), np.inf))
    with pytest.raises(ValueError, match="training rows got a non-finite score"):
        detector.fit(small_table)
    with pytest.raises(NotFittedError):
        detector.predict(small_table)


def test_a_failed_refit_leaves_an_unfitted_detector(cls, small_table):
    detector = make_fast(cls).fit(small_table)
    with pytest.raises(ValueError, match="validation_fraction"):
        detector.set_params(validation_fraction=0.001).fit(small_table)
    assert not hasattr(detector, "net_") and not hasattr(detector, "offset_")
    with pytest.raises(NotFittedError):
        detector.score_samples(small_table)


def test_models_can_be_saved_in_memory_with_torch(cls, fitted, small_table):
    # The fitted skorch net exposes skorch's own persistence too.
    detector = fitted(cls, small_table)
    buffer = io.BytesIO()
    detector.net_.save_params(f_params=buffer)
    assert buffer.tell() > 0


def test_paper_architecture_builds_the_papers_image_layers(cls, small_images, small_table):
    from sklearn_ganad.networks import ResidualBlock

    # 8x8 fits every paper model but ALAD's (sides divisible by 8): 16x16 for all.
    images = np.kron(small_images[:40], np.ones((1, 1, 2, 2), dtype=small_images.dtype))
    detector = make_fast(cls, architecture="paper", max_epochs=1).fit(images)
    assert detector.architecture_ == "conv"
    assert np.all(np.isfinite(detector.score_samples(images[:5])))
    module = detector.net_.module_
    layers = {type(m).__name__ for m in module.modules()}
    widths = {m.out_features for m in module.modules() if isinstance(m, torch.nn.Linear)}
    papers_layers = {
        # f-AnoGAN's ResNet; EGBAD's (and AnoGAN's) MNIST model has a 1,024
        # unit layer; ALAD's CIFAR model a 1,024-unit D_xz joint layer and 5x5 D_xx.
        "FAnoGAN": lambda: ResidualBlock.__name__ in layers,
        "EGBAD": lambda: 1024 in widths and 512 in widths,
        "AnoGAN": lambda: 1024 in widths,
        "ALAD": lambda: (
            1024 in widths
            and any(getattr(m, "kernel_size", None) == (5, 5) for m in module.cycle_x.modules())
        ),
    }.get(cls.__name__)
    if papers_layers is not None:
        assert papers_layers()
    else:  # no image layers of its own (GANomaly's paper uses DCGAN's): as "conv"
        conv = make_fast(cls, architecture="conv", max_epochs=1).fit(images)
        assert_allclose(detector.score_samples(images), conv.score_samples(images))
    # Tables: the papers' perceptrons, exactly as "auto" builds them.
    table = make_fast(cls, architecture="paper", max_epochs=1).fit(small_table)
    auto = make_fast(cls, max_epochs=1).fit(small_table)
    assert table.architecture_ == "mlp"
    assert_array_equal(table.score_samples(small_table), auto.score_samples(small_table))


def test_paper_architecture_names_the_image_sizes_it_takes(cls, small_images):
    if not getattr(cls, "_paper_image_networks", None):
        pytest.skip(f"{cls.__name__}'s paper networks are DCGAN's, for any image size")
    odd = np.zeros((20, 1, 6, 6), dtype=np.float32)
    with pytest.raises(ValueError, match="got 6x6 images. Pad or resize") as error:
        make_fast(cls, architecture="paper").fit(odd)
    assert "architecture='conv'" in str(error.value)
