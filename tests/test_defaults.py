"""Defaults for the data a user brings: step budgets, built-in scaling, paper presets."""

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ganad import ALAD, EGBAD, AnoGAN, FAnoGAN, GANomaly
from sklearn_ganad.base import _AUTO_FEATURE_CLIP
from sklearn_ganad.presets import PAPER_DATASETS, paper_params

from ._params import ALL_DETECTORS, make_fast


def _batches(n_rows, batch_size):
    return math.ceil(n_rows / batch_size)


@pytest.mark.parametrize("cls", ALL_DETECTORS)
def test_defaults_are_auto_budgets_and_scaling(cls):
    params = cls().get_params()
    assert params["max_epochs"] == "auto" and params["preprocessing"] == "auto"


@pytest.mark.parametrize("n_rows", [40, 700, 5000])
def test_auto_epochs_give_the_step_budget(n_rows):
    X = np.random.RandomState(0).normal(size=(n_rows, 3))
    detector = make_fast(GANomaly, max_epochs="auto")
    # Instance overrides, to stay fast: 60 steps, at least 2 epochs.
    detector._auto_train_steps = {"mlp": 60, "conv": 60}
    detector._auto_min_epochs = {"mlp": 2, "conv": 1}
    detector.fit(X)
    batches = _batches(n_rows, detector.batch_size)
    assert detector.max_epochs_ == max(2, math.ceil(60 / batches))
    assert len(detector.net_.history) == detector.max_epochs_
    assert detector.net_.max_epochs == detector.max_epochs_
    # Enough steps on a small table, few epochs on a large one.
    assert detector.max_epochs_ * batches >= 60


def test_auto_epochs_are_capped_and_count_only_training_rows():
    detector = GANomaly(batch_size=16, validation_fraction=0.5)
    detector.architecture_ = "mlp"
    detector._resolve_validation(100, one_epoch=False)
    # 100 rows, half held out: 50 training rows in 4 batches.
    steps = GANomaly._auto_train_steps["mlp"]
    assert detector._resolve_epochs("auto", 100) == math.ceil(steps / 4)
    assert detector._resolve_epochs("auto", 2) == detector._auto_max_epochs
    assert detector._resolve_epochs(7, 100) == 7


def test_auto_epochs_see_a_large_table_at_least_five_times():
    detector = GANomaly(batch_size=64, validation_fraction=None)
    detector.architecture_ = "mlp"
    detector._resolve_validation(100, one_epoch=False)
    steps = GANomaly._auto_train_steps
    # 50,000 rows are 782 batches: the step budget alone would give 3 epochs.
    assert math.ceil(steps["mlp"] / 782) == 3
    assert detector._resolve_epochs("auto", 50_000) == 5
    assert detector._resolve_epochs("auto", 1_000) == math.ceil(steps["mlp"] / 16)
    # Images keep the step budget alone, however many there are.
    detector.architecture_ = "conv"
    assert detector._resolve_epochs("auto", 70_000) == math.ceil(steps["conv"] / 1094) == 1
    floors = {cls.__name__: cls._auto_min_epochs for cls in ALL_DETECTORS}
    assert floors.pop("AnoGAN") == {"mlp": 1, "conv": 1}
    assert all(floor == {"mlp": 5, "conv": 1} for floor in floors.values())


def test_an_explicit_epoch_count_means_what_it_says(small_table):
    detector = make_fast(EGBAD, max_epochs=3).fit(small_table)
    assert detector.max_epochs_ == 3 and len(detector.net_.history) == 3


def test_fanogan_encoder_epochs_auto(small_table):
    detector = make_fast(FAnoGAN, max_epochs=1, encoder_epochs="auto")
    detector._auto_train_steps = {"mlp": 30, "conv": 30}
    detector.fit(small_table)
    expected = math.ceil(30 / _batches(len(small_table), detector.batch_size))
    assert detector.encoder_epochs_ == expected
    assert len(detector.net_.history) == 1 + expected


def test_anogan_search_steps_auto(small_table):
    detector = make_fast(AnoGAN, n_search_iter="auto").fit(small_table)
    assert detector.n_search_iter_ == AnoGAN._auto_search_iter["mlp"] == 100
    assert detector.net_.module_.n_search_iter == 100
    explicit = make_fast(AnoGAN, n_search_iter=7).fit(small_table)
    assert explicit.n_search_iter_ == 7


def test_tables_are_standardised_and_images_are_not(small_table, small_images):
    X = small_table * 1000.0 + 50.0
    detector = make_fast(GANomaly, preprocessing="auto").fit(X)
    assert detector.preprocessing_ == "standard"
    np.testing.assert_allclose(detector.scaler_.mean_, X.mean(axis=0), rtol=1e-5)
    images = make_fast(GANomaly, preprocessing="auto").fit(small_images)
    assert images.preprocessing_ is None and images.scaler_ is None
    none = make_fast(GANomaly, preprocessing=None).fit(X)
    assert none.preprocessing_ is None and none.scaler_ is None
    minmax = make_fast(GANomaly, preprocessing="minmax").fit(small_images)
    assert minmax.preprocessing_ == "minmax"


def test_preprocessing_makes_scores_independent_of_units(small_table):
    # A standardised detector sees the same data whatever the units of X.
    a = make_fast(EGBAD, preprocessing="auto").fit(small_table)
    b = make_fast(EGBAD, preprocessing="auto").fit(small_table * 1e3 - 7.0)
    np.testing.assert_allclose(
        a.score_samples(small_table), b.score_samples(small_table * 1e3 - 7.0), rtol=1e-4
    )


def test_preprocessing_in_a_pipeline_is_the_same_as_inside(small_table):
    X = small_table * 10.0 + 3.0
    inside = make_fast(GANomaly, preprocessing="auto").fit(X)
    outside = make_pipeline(StandardScaler(), make_fast(GANomaly, preprocessing=None)).fit(X)
    # Equal up to float32 rounding (the Pipeline scales in float64), grown by training.
    np.testing.assert_allclose(
        inside.score_samples(X), outside.score_samples(X), rtol=1e-2, atol=1e-3
    )


def test_reconstructions_are_in_the_units_of_X(small_table):
    X = small_table * 100.0 + 10.0
    detector = make_fast(GANomaly, max_epochs=30, preprocessing="auto").fit(X)
    reconstruction = detector.reconstruct(X)
    # In X's units: centred near X's mean, not near 0 as in the scaled space.
    assert abs(reconstruction.mean() - X.mean()) < 0.5 * X.std()


@pytest.mark.parametrize("method", ["GANomaly", "EGBAD", "ALAD", "AnoGAN", "FAnoGAN"])
@pytest.mark.parametrize("dataset", PAPER_DATASETS)
def test_paper_presets_are_valid_parameters(method, dataset):
    cls = {c.__name__: c for c in ALL_DETECTORS}[method]
    params = paper_params(method, dataset)
    assert params["preprocessing"] is None and isinstance(params["max_epochs"], int)
    detector = cls(**params)
    detector._validate_params()
    assert paper_params(cls, dataset) == params  # the class works as the name
    params["lr"] = 1.0
    assert paper_params(method, dataset)["lr"] != 1.0  # a new dict every call


def test_paper_presets_hold_the_papers_settings():
    egbad = paper_params("EGBAD", "kddcup99")
    assert (egbad["lr"], egbad["batch_size"], egbad["max_epochs"], egbad["ema_decay"]) == (
        1e-5, 50, 100, 0.9999,
    )  # fmt: skip
    alad = paper_params(ALAD, "kddcup99-unscaled")
    assert (alad["lr"], alad["batch_size"], alad["ema_decay"]) == (1e-5, 50, 0.999)
    assert paper_params("AnoGAN", "kddcup99")["n_search_iter"] == 500
    assert paper_params("GANomaly", "mnist")["max_epochs"] == 15
    fanogan = paper_params("FAnoGAN", "mnist")
    assert (fanogan["max_epochs"], fanogan["encoder_epochs"], fanogan["encoder_lr"]) == (
        50, 50, 5e-5,
    )  # fmt: skip
    assert paper_params("ALAD", "arrhythmia")["max_epochs"] == 1000
    assert egbad["restore_best_weights"] is False  # the authors score the last weights


def test_unknown_presets_are_refused():
    with pytest.raises(ValueError, match="method 'IsolationForest'"):
        paper_params("IsolationForest", "kddcup99")
    with pytest.raises(ValueError, match="data set 'cover'"):
        paper_params("EGBAD", "cover")


def test_model_files_from_before_preprocessing_load_unscaled(small_table):
    detector = make_fast(GANomaly, preprocessing=None).fit(small_table)
    old = pickle.loads(pickle.dumps(detector))
    for name in ("preprocessing", "preprocessing_", "scaler_", "max_epochs_"):
        delattr(old, name)
    loaded = pickle.loads(pickle.dumps(old))
    assert loaded.preprocessing is None and loaded.scaler_ is None
    assert loaded.max_epochs_ == loaded.max_epochs
    np.testing.assert_array_equal(
        loaded.score_samples(small_table), detector.score_samples(small_table)
    )


def test_the_history_records_the_planned_epochs_of_each_call(small_table):
    detector = make_fast(FAnoGAN, max_epochs=2, encoder_epochs=3).fit(small_table)
    history = detector.net_.history
    assert history[0, "planned_epochs"] == 2 and history[2, "planned_epochs"] == 3
    assert "planned_epochs" not in history[1]
    assert detector.net_.planned_epochs_ == 3


_CAPPED_LATENT = (EGBAD, AnoGAN)


@pytest.mark.parametrize("cls", _CAPPED_LATENT)
@pytest.mark.parametrize("n_features, expected", [(1, 2), (3, 2), (7, 3), (64, 32), (121, 32)])
def test_auto_latent_is_at_most_half_the_features(cls, n_features, expected):
    X = np.random.RandomState(0).normal(size=(40, n_features))
    detector = make_fast(cls, latent_dim="auto").fit(X)
    assert detector.latent_dim_ == expected
    first_generator_layer = next(
        m for m in detector.net_.module_.generator.modules() if isinstance(m, torch.nn.Linear)
    )
    assert first_generator_layer.in_features == expected
    assert detector.score_samples(X).shape == (40,)


@pytest.mark.parametrize("cls", ALL_DETECTORS)
def test_auto_latent_cap_is_for_tables_only(cls, small_table, small_images):
    # An explicit size means what it says, however narrow the table.
    assert make_fast(cls, latent_dim=32).fit(small_table).latent_dim_ == 32
    # Images keep the paper's size, and the other methods 32 on narrow tables.
    images = make_fast(cls, latent_dim="auto").fit(small_images)
    assert images.latent_dim_ == cls._auto_latent_dim["conv"]
    on_table = make_fast(cls, latent_dim="auto").fit(small_table).latent_dim_
    assert on_table == (small_table.shape[1] // 2 if cls in _CAPPED_LATENT else 32)


def test_the_user_guide_states_the_budgets_the_code_uses():
    from pathlib import Path

    guide = Path(__file__).resolve().parents[1] / "docs" / "user_guide.rst"
    if not guide.exists():
        pytest.skip("docs/ is not part of this installation")
    text = " ".join(guide.read_text().split())
    steps = GANomaly._auto_train_steps
    bigans = (EGBAD, ALAD)
    own_image_budget = (*bigans, FAnoGAN)
    shared = [cls for cls in ALL_DETECTORS if cls not in own_image_budget]
    assert all(cls._auto_train_steps == steps for cls in shared)
    assert f"about {steps['mlp']:,} mini-batches for tables and {steps['conv']:,} for images" in (
        text
    )
    # The BiGANs' images train for fewer steps, with half the widths above 16x16.
    assert EGBAD._auto_train_steps == {"mlp": steps["mlp"], "conv": 200}
    assert ALAD._auto_train_steps == {"mlp": steps["mlp"], "conv": 100}
    for cls in bigans:
        assert cls().get_params()["conv_channels"] == "auto"
        assert cls()._auto_conv_channels((1, 8, 8)) == (64, 128, 256, 512)
        assert cls()._auto_conv_channels((1, 28, 28)) == (32, 64, 128, 256)
    assert "(200 for EGBAD and 100 for ALAD, the BiGANs" in text
    # f-AnoGAN's images: fewer steps per stage (its critic's gradient penalty).
    assert FAnoGAN._auto_train_steps == {"mlp": steps["mlp"], "conv": 600}
    assert "600 per stage for f-AnoGAN" in text
    assert f"at most {GANomaly._auto_max_epochs:,} epochs" in text
    assert AnoGAN._auto_search_iter == {"mlp": 100, "conv": 20}
    assert "100 steps per row for tables and 20 for images" in text
    assert (EGBAD._auto_lr, FAnoGAN._auto_lr, GANomaly._auto_lr) == (
        {"mlp": 1e-3, "conv": 2e-4}, {"mlp": 5e-4, "conv": 5e-4}, {"mlp": 2e-4, "conv": 2e-4},
    )  # fmt: skip
    restoring = {cls.__name__: cls._auto_restore_best_weights for cls in ALL_DETECTORS}
    assert restoring.pop("EGBAD") == {"mlp": True, "conv": True}
    assert restoring.pop("GANomaly") == {"mlp": True, "conv": False}
    assert all(value == {"mlp": False, "conv": False} for value in restoring.values())
    minimum = {cls.__name__: cls._auto_restore_min_rows for cls in ALL_DETECTORS}
    assert minimum.pop("GANomaly") == 2000 and set(minimum.values()) == {1}
    assert "GANomaly keeps its best epoch on tables of at least 20,000 rows" in text
    assert AnoGAN._auto_min_epochs == {"mlp": 1, "conv": 1}
    assert "AnoGAN's tables have no floor" in text
    assert "rounded up to whole epochs, at least 5 for tables" in text
    assert EGBAD._auto_validation_fraction == 0.1
    assert "EGBAD, whose tables and images default to it" in text and "holds out a tenth" in text
    shares = {cls.__name__: cls._auto_latent_feature_share for cls in ALL_DETECTORS}
    assert {name for name, share in shares.items() if share is not None} == {"EGBAD", "AnoGAN"}
    assert shares["EGBAD"] == shares["AnoGAN"] == 0.5
    assert "capped at half the number of features (at least 2)" in text
    assert _AUTO_FEATURE_CLIP == 10.0
    assert "standardised features are then clipped to ten standard deviations" in text


def _restoring_egbad(**overrides):
    return make_fast(EGBAD, **{"max_epochs": 8, "restore_best_weights": "auto", **overrides})


def test_egbad_keeps_the_epoch_with_the_lowest_valid_loss_on_tables(small_table):
    detector = _restoring_egbad().fit(small_table)
    assert detector.validation_fraction_ == 0.1 and detector.restore_best_weights_
    valid_loss = detector.net_.history[:, "valid_loss"]
    assert len(valid_loss) == 8
    assert detector.best_epoch_ == int(np.argmin(valid_loss)) + 1
    # The weights kept are those after best_epoch_ epochs: training that many
    # epochs (same seed, same split) and keeping the last gives the same scores.
    truncated = _restoring_egbad(max_epochs=detector.best_epoch_, restore_best_weights=False)
    truncated.set_params(validation_fraction=0.1).fit(small_table)
    np.testing.assert_allclose(
        detector.score_samples(small_table), truncated.score_samples(small_table), rtol=1e-6
    )


def test_best_epoch_differs_from_the_last_when_valid_loss_rose(small_table):
    # Guard against a restore that silently keeps the last epoch: find a
    # seed whose valid_loss is not lowest at the end, and check the scores
    # differ from the last epoch's.
    for seed in range(10):
        detector = _restoring_egbad(random_state=seed).fit(small_table)
        if detector.best_epoch_ != 8:
            break
    else:
        pytest.fail("valid_loss was lowest at the last epoch for every seed")
    last = _restoring_egbad(random_state=seed, restore_best_weights=False)
    last.set_params(validation_fraction=0.1).fit(small_table)
    assert not np.allclose(detector.score_samples(small_table), last.score_samples(small_table))


def test_restore_best_weights_auto_is_off_where_it_cannot_choose(small_table, small_images):
    # Other methods, one epoch, partial_fit, no split, too few rows: no rows
    # held out and the last weights kept.
    cases = [
        make_fast(GANomaly, max_epochs=3).fit(small_table),
        make_fast(GANomaly, max_epochs=3).fit(small_images),
        _restoring_egbad(max_epochs=1).fit(small_table),
        _restoring_egbad().partial_fit(small_table),
        _restoring_egbad(validation_fraction=None).fit(small_table),
        _restoring_egbad().fit(small_table[:9]),
    ]
    for detector in cases:
        assert detector.validation_fraction_ is None
        assert detector.restore_best_weights_ is False and detector.best_epoch_ is None
        assert "valid_loss" not in detector.net_.history[-1]


def test_egbad_keeps_its_best_epoch_on_images_too(small_images):
    detector = make_fast(EGBAD, max_epochs=3, restore_best_weights="auto").fit(small_images)
    assert detector.restore_best_weights_ and detector.validation_fraction_ == 0.1
    valid_loss = detector.net_.history[:, "valid_loss"]
    assert detector.best_epoch_ == int(np.argmin(valid_loss)) + 1


def test_auto_epochs_of_one_hold_no_rows_out(small_table):
    detector = _restoring_egbad(max_epochs="auto")
    detector._auto_train_steps = {"mlp": 1, "conv": 1}  # one epoch is enough
    detector._auto_min_epochs = {"mlp": 1, "conv": 1}
    detector.fit(small_table)
    assert detector.max_epochs_ == 1 and detector.validation_fraction_ is None


def test_ganomaly_keeps_its_best_epoch_on_large_tables_only():
    detector = GANomaly()
    detector.architecture_ = "mlp"
    # A tenth of 19,999 rows is under 2,000 held-out rows: the last epoch.
    detector._resolve_validation(19_999, one_epoch=False)
    assert not detector.restore_best_weights_ and detector.validation_fraction_ is None
    detector._resolve_validation(20_000, one_epoch=False)
    assert detector.restore_best_weights_ and detector.validation_fraction_ == 0.1
    # An explicit share counts its own held-out rows.
    detector.set_params(validation_fraction=0.5)._resolve_validation(4_000, one_epoch=False)
    assert detector.restore_best_weights_ and detector.validation_fraction_ == 0.5
    detector._resolve_validation(3_998, one_epoch=False)
    assert not detector.restore_best_weights_ and detector.validation_fraction_ == 0.5
    # Images keep the last epoch, however many.
    detector.set_params(validation_fraction="auto").architecture_ = "conv"
    detector._resolve_validation(70_000, one_epoch=False)
    assert not detector.restore_best_weights_ and detector.validation_fraction_ is None


def test_ganomaly_on_a_large_table_trains_on_nine_tenths_and_keeps_the_best(small_table):
    detector = make_fast(GANomaly, max_epochs=4)
    detector._auto_restore_min_rows = 6  # an instance override: 60 rows count as large
    detector.fit(small_table)
    assert detector.restore_best_weights_ and detector.validation_fraction_ == 0.1
    valid_loss = detector.net_.history[:, "valid_loss"]
    assert detector.best_epoch_ == int(np.argmin(valid_loss)) + 1
    small = make_fast(GANomaly, max_epochs=4).fit(small_table)
    assert not small.restore_best_weights_ and small.best_epoch_ is None
    assert "valid_loss" not in small.net_.history[-1]


def test_restore_best_weights_can_be_asked_of_any_method(small_table):
    detector = make_fast(GANomaly, max_epochs=4, restore_best_weights=True).fit(small_table)
    assert detector.validation_fraction_ == 0.1 and detector.restore_best_weights_
    valid_loss = detector.net_.history[:, "valid_loss"]
    assert detector.best_epoch_ == int(np.argmin(valid_loss)) + 1


def test_restore_best_weights_needs_a_validation_split(small_table):
    detector = make_fast(EGBAD, restore_best_weights=True, validation_fraction=None)
    with pytest.raises(ValueError, match="restore_best_weights=True .* validation_fraction"):
        detector.fit(small_table)
    assert not hasattr(detector, "net_")


def test_model_files_from_before_restore_best_weights_keep_the_last_weights(small_table):
    detector = make_fast(EGBAD, restore_best_weights=False).fit(small_table)
    state = detector.__getstate__()
    for name in ("restore_best_weights", "validation_fraction_", "restore_best_weights_"):
        del state[name]
    del state["best_epoch_"]
    old = EGBAD.__new__(EGBAD)
    old.__setstate__(state)
    assert old.restore_best_weights is False and old.restore_best_weights_ is False
    assert old.validation_fraction_ == detector.validation_fraction and old.best_epoch_ is None
    np.testing.assert_array_equal(
        old.score_samples(small_table), detector.score_samples(small_table)
    )


def _with_extremes(X, scale=1e4):
    """X with its first feature pushed far beyond ten standard deviations in two rows."""
    X = np.array(X, dtype=np.float32)
    X[:2, 0] = [scale, -scale]
    return X


@pytest.mark.parametrize("cls", ALL_DETECTORS)
def test_feature_clip_auto_bounds_standardised_tables_only(cls, small_table, small_images):
    assert cls().get_params()["feature_clip"] == "auto"
    standard = make_fast(cls, preprocessing="auto").fit(small_table)
    assert standard.preprocessing_ == "standard" and standard.feature_clip_ == 10.0
    for params in ({"preprocessing": "minmax"}, {"preprocessing": None}):
        assert make_fast(cls, **params).fit(small_table).feature_clip_ is None
    assert make_fast(cls, preprocessing="auto").fit(small_images).feature_clip_ is None
    # A number is kept, whatever the scaling; None never clips.
    assert make_fast(cls, preprocessing=None, feature_clip=3).fit(small_table).feature_clip_ == 3.0
    no_clip = make_fast(cls, preprocessing="auto", feature_clip=None).fit(small_table)
    assert no_clip.feature_clip_ is None


def test_feature_clip_scores_values_beyond_the_bound_as_the_bound(small_table):
    # One training row 1e4 out lies about 20 standard deviations out of 400.
    train = np.random.RandomState(5).normal(size=(400, 5)).astype(np.float32)
    train[0, 0] = 1e4
    detector = make_fast(GANomaly, preprocessing="auto").fit(train)
    # What the networks see is bounded, in training and in scoring.
    assert np.abs(detector.scaler_.transform(train)).max() > 19
    assert np.abs(detector._scale(train)).max() == pytest.approx(10.0)
    mean, scale = detector.scaler_.mean_[0], detector.scaler_.scale_[0]
    X = _with_extremes(small_table, scale=1e6)
    at_bound = X[:2].copy()
    at_bound[:, 0] = [mean + 10 * scale, mean - 10 * scale]
    np.testing.assert_allclose(
        detector.score_samples(X[:2]), detector.score_samples(at_bound), rtol=1e-5
    )
    farther = X[:2].copy()
    farther[:, 0] *= 100
    np.testing.assert_array_equal(detector.score_samples(farther), detector.score_samples(X[:2]))
    # Without the bound the extreme rows score differently from the bound.
    unclipped = make_fast(GANomaly, preprocessing="auto", feature_clip=None).fit(train)
    assert not np.allclose(unclipped.score_samples(X[:2]), unclipped.score_samples(at_bound))


def test_feature_clip_changes_nothing_within_the_bound(small_table):
    # small_table lies within 4 standard deviations: clipping is the identity.
    clipped = make_fast(EGBAD, preprocessing="auto").fit(small_table)
    plain = make_fast(EGBAD, preprocessing="auto", feature_clip=None).fit(small_table)
    np.testing.assert_array_equal(
        clipped.score_samples(small_table), plain.score_samples(small_table)
    )


def test_feature_clip_on_unscaled_input_does_not_touch_the_callers_array(small_table):
    X = _with_extremes(small_table, scale=50.0)
    before = X.copy()
    detector = make_fast(GANomaly, preprocessing=None, feature_clip=2.0).fit(X)
    detector.score_samples(X)
    np.testing.assert_array_equal(X, before)
    assert np.abs(detector._scale(X)).max() == 2.0


def test_model_files_from_before_feature_clip_load_without_clipping(small_table):
    X = _with_extremes(small_table)  # 1e4 out: beyond the bound when scored
    detector = make_fast(GANomaly, preprocessing="auto").fit(small_table)
    old = pickle.loads(pickle.dumps(detector))
    for name in ("feature_clip", "feature_clip_"):
        delattr(old, name)
    loaded = pickle.loads(pickle.dumps(old))
    # Fitted before clipping existed: it scores as it was trained, unclipped.
    assert loaded.feature_clip is None and loaded.feature_clip_ is None
    clipped_scores = detector.score_samples(X)
    detector.feature_clip_ = None
    np.testing.assert_array_equal(loaded.score_samples(X), detector.score_samples(X))
    assert not np.allclose(loaded.score_samples(X[:2]), clipped_scores[:2])
