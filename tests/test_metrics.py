"""Scorers that take anomalies as the positive class."""

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, get_scorer, roc_auc_score

from sklearn_ganad.metrics import (
    anomaly_average_precision,
    anomaly_average_precision_scorer,
    anomaly_roc_auc,
    anomaly_roc_auc_scorer,
)


def test_metrics_flip_the_normality_score():
    y = np.array([0, 0, 1, 1])
    decision = np.array([2.0, 1.0, -1.0, 0.5])  # higher = more normal
    assert anomaly_roc_auc(y, decision) == roc_auc_score(y, -decision) == 1.0
    assert anomaly_average_precision(y, decision) == average_precision_score(y, -decision)


def test_scorers_agree_with_roc_auc_on_inlier_labels(blobs):
    y_anomaly = np.r_[np.zeros(len(blobs) - 5, int), np.ones(5, int)]
    detector = IsolationForest(random_state=0).fit(blobs)
    expected = get_scorer("roc_auc")(detector, blobs, 1 - y_anomaly)
    assert anomaly_roc_auc_scorer(detector, blobs, y_anomaly) == pytest.approx(expected)
    assert anomaly_roc_auc_scorer(detector, blobs, y_anomaly) > 0.99
    assert anomaly_average_precision_scorer(detector, blobs, y_anomaly) > 0.9


def test_precision_recall_f1_at_percentile_flags_the_top_scores():
    from sklearn_ganad.metrics import precision_recall_f1_at_percentile

    y = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 0])
    scores = np.arange(10, dtype=float)  # the top 2 (8, 9) and 7 ...
    # 80th percentile of 0..9 is 7.2: rows 8 and 9 are flagged; one is an anomaly.
    assert precision_recall_f1_at_percentile(y, scores, 80) == pytest.approx((0.5, 0.5, 0.5))
    perfect = np.where(y == 1, 10.0, 0.0)
    assert precision_recall_f1_at_percentile(y, perfect, 80) == (1.0, 1.0, 1.0)
    # Ties at the threshold are flagged (the papers use >=).
    assert precision_recall_f1_at_percentile(y, np.zeros(10), 80) == pytest.approx(
        (0.2, 1.0, 1 / 3)
    )
