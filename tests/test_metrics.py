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
