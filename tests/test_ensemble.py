"""SeedEnsemble: several seeds of one detector, standardized and averaged."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import LocalOutlierFactor
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ganad import EGBAD, GANomaly
from sklearn_ganad.ensemble import SeedEnsemble

from ._params import ALL_DETECTORS, make_fast


def _blobs(n_normal=200, n_outliers=20, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_normal, 4)).astype(np.float32)
    outliers = rng.uniform(5, 8, size=(n_outliers, 4)).astype(np.float32)
    return X, np.vstack([X[:50], outliers]), np.r_[np.zeros(50), np.ones(n_outliers)]


@parametrize_with_checks([SeedEnsemble(make_fast(GANomaly), n_estimators=2, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("detector_class", ALL_DETECTORS, ids=lambda c: c.__name__)
def test_every_detector_ensembles_to_the_mean_of_its_standardized_members(detector_class):
    X, X_test, _ = _blobs()
    ensemble = SeedEnsemble(make_fast(detector_class), n_estimators=3, random_state=0).fit(X)
    assert len(ensemble.estimators_) == 3
    assert len(set(ensemble.seeds_.tolist())) == 3
    assert [m.random_state for m in ensemble.estimators_] == ensemble.seeds_.tolist()
    members = [m.score_samples(X_test) for m in ensemble.estimators_]
    # Each member is one fit of the detector with that seed.
    alone = clone(make_fast(detector_class)).set_params(random_state=int(ensemble.seeds_[1]))
    np.testing.assert_allclose(alone.fit(X).score_samples(X_test), members[1], rtol=1e-5)
    train = [m.score_samples(X) for m in ensemble.estimators_]
    np.testing.assert_allclose(ensemble.score_location_, [np.median(s) for s in train], rtol=1e-5)
    iqr = [np.subtract(*np.percentile(s, [75, 25])) / 1.349 for s in train]
    np.testing.assert_allclose(ensemble.score_scale_, iqr, rtol=1e-4)
    standardized = zip(members, ensemble.score_location_, iqr, strict=True)
    expected = np.mean([(s - loc) / sc for s, loc, sc in standardized], axis=0)
    np.testing.assert_allclose(ensemble.score_samples(X_test), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        ensemble.decision_function(X_test), expected - ensemble.offset_, rtol=1e-4, atol=1e-6
    )


def test_offset_is_the_contamination_percentile_of_the_training_scores():
    X, _, _ = _blobs()
    ensemble = SeedEnsemble(make_fast(GANomaly), n_estimators=2, contamination=0.2, random_state=0)
    labels = ensemble.fit_predict(X)
    scores = ensemble.score_samples(X)
    np.testing.assert_allclose(ensemble.offset_, np.percentile(scores, 20), rtol=1e-5)
    assert np.mean(labels == -1) == pytest.approx(0.2, abs=0.01)
    np.testing.assert_array_equal(labels, ensemble.predict(X))


def test_same_random_state_same_scores_and_global_state_untouched():
    X, X_test, _ = _blobs()
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    first = SeedEnsemble(make_fast(EGBAD), n_estimators=2, random_state=7).fit(X)
    second = SeedEnsemble(make_fast(EGBAD), n_estimators=2, random_state=7).fit(X)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.testing.assert_array_equal(first.seeds_, second.seeds_)
    np.testing.assert_array_equal(first.score_samples(X_test), second.score_samples(X_test))
    other = SeedEnsemble(make_fast(EGBAD), n_estimators=2, random_state=8).fit(X)
    assert not np.array_equal(other.seeds_, first.seeds_)


def test_ranks_outliers_above_inliers_and_works_with_any_seeded_detector():
    X, X_test, y = _blobs()
    ensemble = SeedEnsemble(IsolationForest(n_estimators=20), n_estimators=3, random_state=0)
    auc = roc_auc_score(y, -ensemble.fit(X).score_samples(X_test))
    assert auc > 0.99
    gan = SeedEnsemble(make_fast(GANomaly, max_epochs=20), n_estimators=2, random_state=0)
    assert roc_auc_score(y, -gan.fit(X).score_samples(X_test)) > 0.9


def test_default_member_is_egbad_and_a_detector_without_a_seed_is_refused():
    assert isinstance(SeedEnsemble()._member_template(), EGBAD)
    X, _, _ = _blobs()
    with pytest.raises(ValueError, match="LocalOutlierFactor has no random_state"):
        SeedEnsemble(LocalOutlierFactor(novelty=True)).fit(X)
    with pytest.raises(NotFittedError):
        SeedEnsemble(make_fast(GANomaly)).score_samples(X)


def test_bad_input_is_refused_before_any_member_trains():
    X, _, _ = _blobs()
    X[3, 1] = np.nan
    ensemble = SeedEnsemble(make_fast(GANomaly), n_estimators=2)
    with pytest.raises(ValueError, match="NaN"):
        ensemble.fit(X)
    assert not hasattr(ensemble, "estimators_")
    fitted = SeedEnsemble(make_fast(GANomaly), n_estimators=2, random_state=0).fit(_blobs()[0])
    with pytest.raises(ValueError, match="features"):
        fitted.score_samples(np.zeros((3, 5), dtype=np.float32))


def test_member_parameters_are_tunable_through_the_ensemble():
    X, X_test, y = _blobs()
    X_all = np.vstack([X, X_test])
    labels = np.r_[np.ones(len(X)), np.where(y == 1, -1, 1)]
    search = GridSearchCV(
        SeedEnsemble(make_fast(GANomaly), n_estimators=2, random_state=0),
        {"estimator__latent_dim": [2, 3], "n_estimators": [1, 2]},
        scoring="roc_auc",
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
    ).fit(X_all, labels)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.estimators_[0].latent_dim in (2, 3)
