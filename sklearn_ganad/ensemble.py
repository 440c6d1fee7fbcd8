"""An ensemble of one detector trained with several seeds, for steadier rankings."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, OutlierMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from .base import BaseGANDetector, OffsetThresholdMixin
from .utils._torch import draw_seed, limited_threads

__all__ = ["SeedEnsemble"]

# IQR / _IQR_PER_SD is the standard deviation of a normal distribution.
_IQR_PER_SD = 1.349


class SeedEnsemble(OffsetThresholdMixin, OutlierMixin, MetaEstimatorMixin, BaseEstimator):
    """Average the scores of one detector trained with several seeds.

    GAN training oscillates: the same detector fitted with two seeds can rank
    the same rows quite differently (see the user guide's "Training
    budgets"). This meta-estimator fits ``n_estimators`` clones of
    ``estimator`` that differ only in ``random_state`` and scores a row by
    the mean of the members' standardized ``score_samples``: each member's
    scores are centred on the median of its training scores and divided by
    their interquartile range (as a standard deviation), so that no member
    dominates by the scale of its score. It works with every detector of the
    package, and with any outlier detector that has ``score_samples`` and
    ``random_state``.

    The members train independently, one after the other: fitting costs
    ``n_estimators`` fits, scoring ``n_estimators`` passes. Han et al. ("GAN
    Ensemble for Anomaly Detection", AAAI 2021) instead couple the GANs
    during training, each generator meeting the others' discriminators: that
    is every detector's ``ensemble_size`` parameter.

    Parameters
    ----------
    estimator : estimator object, default=None
        The detector to train several times; ``None`` means
        :class:`~sklearn_ganad.EGBAD` with its defaults. Its ``random_state``
        is replaced by a seed per member.
    n_estimators : int, default=5
        Number of members.
    contamination : float in (0, 0.5], default=0.1
        Expected share of outliers in the training data: ``offset_`` is that
        percentile of the ensemble's training scores. The members' own
        ``contamination`` is not used.
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds. An int gives the same members, hence the
        same scores, on every fit (on the CPU), without touching NumPy's or
        torch's global random state.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members.
    seeds_ : ndarray of shape (n_estimators,)
        The ``random_state`` of each member.
    score_location_ : ndarray of shape (n_estimators,)
        Median of each member's training ``score_samples``.
    score_scale_ : ndarray of shape (n_estimators,)
        Interquartile range of each member's training ``score_samples``
        divided by 1.349 (1 where it is 0).
    offset_ : float
        ``decision_function = score_samples - offset_``; the
        ``contamination`` percentile of the training scores.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when ``X`` had string column
        names.

    See Also
    --------
    sklearn.ensemble.IsolationForest : A detector that is an ensemble by design.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ganad import GANomaly
    >>> from sklearn_ganad.ensemble import SeedEnsemble
    >>> X = np.random.default_rng(0).normal(size=(200, 4))
    >>> ensemble = SeedEnsemble(GANomaly(max_epochs=2), n_estimators=3, random_state=0)
    >>> ensemble.fit(X).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "score_samples"]), None],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, n_estimators=5, contamination=0.1, random_state=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.contamination = contamination
        self.random_state = random_state

    def _member_template(self):
        if self.estimator is not None:
            return self.estimator
        from ._egbad import EGBAD

        return EGBAD()

    def _check_member(self, template):
        if "random_state" not in template.get_params(deep=False):
            raise ValueError(
                f"estimator {type(template).__name__} has no random_state parameter, so its "
                "members would all be the same model; pass a detector with random_state."
            )

    @staticmethod
    def _fit_member(member, X):
        """Fit ``member`` on ``X``; return its ``score_samples`` of ``X``."""
        if isinstance(member, BaseGANDetector):
            # The package's detectors score their training rows to set
            # offset_; reuse those scores (AnoGAN's are a latent search each).
            member._validate_params()
            with limited_threads(member.n_threads):
                return np.asarray(member._fit(X), dtype=np.float64)
        return np.asarray(member.fit(X).score_samples(X), dtype=np.float64)

    def _fit(self, X):
        # A refit that fails must not leave the previous fit's members behind.
        for name in ("estimators_", "seeds_", "score_location_", "score_scale_", "offset_"):
            self.__dict__.pop(name, None)
        template = self._member_template()
        self._check_member(template)
        # One seed per member, drawn as the package's detectors draw theirs.
        rng = np.random.RandomState(draw_seed(self.random_state))
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_estimators)
        members, locations, scales, standardized = [], [], [], []
        for seed in seeds:
            member = clone(template).set_params(random_state=int(seed))
            scores = self._fit_member(member, X)
            location = float(np.median(scores))
            q1, q3 = np.percentile(scores, [25.0, 75.0])
            scale = float(q3 - q1) / _IQR_PER_SD
            if not np.isfinite(scale) or scale <= 0.0:
                scale = 1.0
            members.append(member)
            locations.append(location)
            scales.append(scale)
            standardized.append((scores - location) / scale)
        self.estimators_ = members
        self.seeds_ = seeds
        self.score_location_ = np.asarray(locations)
        self.score_scale_ = np.asarray(scales)
        first = members[0]
        self.n_features_in_ = first.n_features_in_
        if hasattr(first, "feature_names_in_"):
            self.feature_names_in_ = first.feature_names_in_
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        scores = np.mean(standardized, axis=0)
        self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))
        return scores

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit ``n_estimators`` members on ``X``, each with its own seed.

        Parameters
        ----------
        X : array-like
            Training data, as the member detector takes it.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted ensemble.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_predict(self, X, y=None):
        """Fit on ``X`` and return its labels, reusing the training scores.

        Parameters
        ----------
        X : array-like
            Training data, as the member detector takes it.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        is_inlier : ndarray of shape (n_samples,)
            +1 for inliers, -1 for outliers.
        """
        return self._labels(self._fit(X) - self.offset_)

    def score_samples(self, X):
        """Mean of the members' standardized ``score_samples``: higher is more normal.

        Parameters
        ----------
        X : array-like
            Rows to score, with the training data's features.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        total = None
        for member, location, scale in zip(
            self.estimators_, self.score_location_, self.score_scale_, strict=True
        ):
            standardized = (
                np.asarray(member.score_samples(X), dtype=np.float64) - location
            ) / scale
            total = standardized if total is None else total + standardized
        return total / len(self.estimators_)
