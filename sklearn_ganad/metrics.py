"""Scorers for tuning detectors with labels that mark anomalies as 1.

scikit-learn's ``"roc_auc"`` scorer reads ``decision_function``, which is
higher for *normal* samples. It is therefore right when ``y`` is 1 for
inliers (as ``predict``'s +1) and gives 1 - AUC when ``y`` is 1 for
anomalies, the papers' convention. The scorers here take the papers'
labels and flip the sign themselves::

    GridSearchCV(detector, grid, scoring=anomaly_roc_auc_scorer,
                 cv=StratifiedKFold(3, shuffle=True, random_state=0))

(Outlier detectors are not classifiers, so ``cv=3`` would give an unshuffled
``KFold``; pass a stratified, shuffled splitter.)
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    make_scorer,
    precision_recall_fscore_support,
    roc_auc_score,
)

__all__ = [
    "precision_recall_f1_at_percentile",
    "anomaly_roc_auc",
    "anomaly_average_precision",
    "anomaly_roc_auc_scorer",
    "anomaly_average_precision_scorer",
]


def anomaly_roc_auc(y_true, decision):
    """ROC AUC of detecting anomalies (``y_true == 1``) from a decision function.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 for anomalies, 0 for normal samples.
    decision : array-like of shape (n_samples,)
        ``decision_function`` or ``score_samples`` output (higher = normal).

    Returns
    -------
    auc : float
    """
    return roc_auc_score(y_true, -decision)


def anomaly_average_precision(y_true, decision):
    """Average precision of detecting anomalies (``y_true == 1``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 for anomalies, 0 for normal samples.
    decision : array-like of shape (n_samples,)
        ``decision_function`` or ``score_samples`` output (higher = normal).

    Returns
    -------
    average_precision : float
    """
    return average_precision_score(y_true, -decision)


#: Scorer for ``GridSearchCV``: ROC AUC with anomalies labelled 1.
anomaly_roc_auc_scorer = make_scorer(anomaly_roc_auc, response_method="decision_function")

#: Scorer for ``GridSearchCV``: average precision with anomalies labelled 1.
anomaly_average_precision_scorer = make_scorer(
    anomaly_average_precision, response_method="decision_function"
)


def precision_recall_f1_at_percentile(y_true, anomaly_scores, percentile):
    """Precision, recall and F1 of flagging the scores at or above a percentile.

    This is the papers' evaluation protocol: the threshold is a percentile of
    the *test* scores themselves, set from the known anomaly share (the 80th
    for KDDCUP99, where anomalies are 20%; see the ``threshold_percentile``
    of the :mod:`sklearn_ganad.datasets` loaders). It is transductive, unlike
    ``predict``, whose threshold ``offset_`` comes from the training data.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 for anomalies, 0 for normal samples.
    anomaly_scores : array-like of shape (n_samples,)
        Higher = more anomalous, e.g. ``-detector.score_samples(X)``.
    percentile : float in [0, 100]
        Scores at or above this percentile are flagged as anomalies.

    Returns
    -------
    precision, recall, f1 : float
        Of the anomaly class.
    """
    anomaly_scores = np.asarray(anomaly_scores, dtype=float)
    threshold = np.percentile(anomaly_scores, percentile)
    flagged = (anomaly_scores >= threshold).astype(int)
    precision, recall, f1, _ = precision_recall_fscore_support(
        np.asarray(y_true).astype(int), flagged, average="binary", zero_division=0
    )
    return float(precision), float(recall), float(f1)
