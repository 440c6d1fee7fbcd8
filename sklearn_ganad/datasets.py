"""Data sets and the one-class protocols of the papers.

Every loader returns a :class:`sklearn.utils.Bunch` with ``X_train`` (normal
data only), ``X_test`` and ``y_test``, where ``y_test`` is **1 for an
anomaly and 0 for a normal sample**, as in the papers. The detectors'
``score_samples`` is higher for normal samples, so evaluate with
``roc_auc_score(y_test, -detector.score_samples(X_test))``.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.utils import Bunch, check_random_state

__all__ = ["one_class_split", "load_digits_one_class", "load_breast_cancer_outliers"]


def one_class_split(X, is_anomaly, *, train_fraction=0.8, random_state=0):
    """Split labelled data into normal training data and a mixed test set.

    A share ``train_fraction`` of the normal samples (drawn at random) is the
    training set; the test set is the remaining normal samples plus every
    anomaly, in random order.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
        Samples; images keep their shape.
    is_anomaly : array-like of bool of shape (n_samples,)
        True for the anomalous samples.
    train_fraction : float in (0, 1), default=0.8
        Share of the normal samples used for training.
    random_state : int, RandomState instance or None, default=0
        Seeds the split.

    Returns
    -------
    data : Bunch
        ``X_train``, ``X_test`` and ``y_test`` (1 = anomaly, 0 = normal).
    """
    X = np.asarray(X)
    is_anomaly = np.asarray(is_anomaly, dtype=bool)
    if is_anomaly.shape != (X.shape[0],):
        raise ValueError(
            f"is_anomaly must have one entry per sample ({X.shape[0]}), "
            f"got shape {is_anomaly.shape}."
        )
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}.")
    rng = check_random_state(random_state)
    normal = rng.permutation(np.flatnonzero(~is_anomaly))
    n_train = int(round(train_fraction * normal.size))
    if n_train < 2 or n_train == normal.size:
        raise ValueError(
            f"{normal.size} normal samples with train_fraction={train_fraction} leave no "
            "room for both a training set (at least 2) and normal test samples."
        )
    test = rng.permutation(np.concatenate([normal[n_train:], np.flatnonzero(is_anomaly)]))
    return Bunch(
        X_train=X[normal[:n_train]],
        X_test=X[test],
        y_test=is_anomaly[test].astype(int),
    )


def load_digits_one_class(
    digit=0, *, protocol="one-normal", as_images=True, train_fraction=0.8, random_state=0
):
    """scikit-learn's 8x8 digits as a one-class problem, scaled to [-1, 1].

    The 1,797 images ship with scikit-learn, so this works offline.

    Parameters
    ----------
    digit : int in [0, 9], default=0
        The digit the protocol singles out.
    protocol : {"one-normal", "one-anomalous"}, default="one-normal"
        ``"one-normal"``: ``digit`` is normal and the nine others are
        anomalies (EGBAD's and ALAD's image protocol). ``"one-anomalous"``:
        ``digit`` is the anomaly and the others are normal (GANomaly's).
    as_images : bool, default=True
        Return arrays of shape (n, 1, 8, 8); otherwise (n, 64).
    train_fraction : float in (0, 1), default=0.8
        Share of the normal images used for training.
    random_state : int, RandomState instance or None, default=0
        Seeds the split.

    Returns
    -------
    data : Bunch
        ``X_train``, ``X_test``, ``y_test`` (1 = anomaly) and ``image_shape``.
    """
    if protocol not in ("one-normal", "one-anomalous"):
        raise ValueError(f"protocol must be 'one-normal' or 'one-anomalous', got {protocol!r}.")
    if digit not in range(10):
        raise ValueError(f"digit must be an integer in [0, 9], got {digit!r}.")
    digits = load_digits()
    # Pixel values are 0..16; the convolutional generators end in tanh.
    X = (digits.data / 8.0 - 1.0).astype(np.float32)
    if as_images:
        X = X.reshape(-1, 1, 8, 8)
    is_anomaly = digits.target != digit if protocol == "one-normal" else digits.target == digit
    data = one_class_split(X, is_anomaly, train_fraction=train_fraction, random_state=random_state)
    data.image_shape = (1, 8, 8)
    return data


def load_breast_cancer_outliers(*, train_fraction=0.8, random_state=0):
    """scikit-learn's breast-cancer table with malignant tumours as anomalies.

    Benign samples (357) are normal and malignant ones (212) anomalous, as in
    the ODDS "wbc" set. The 30 features are left unscaled: put a scaler in
    front of the detector (``make_pipeline(StandardScaler(), detector)``).

    Parameters
    ----------
    train_fraction : float in (0, 1), default=0.8
        Share of the benign samples used for training.
    random_state : int, RandomState instance or None, default=0
        Seeds the split.

    Returns
    -------
    data : Bunch
        ``X_train``, ``X_test``, ``y_test`` (1 = malignant) and ``feature_names``.
    """
    cancer = load_breast_cancer()
    # In this set target 0 is malignant.
    data = one_class_split(
        cancer.data, cancer.target == 0, train_fraction=train_fraction, random_state=random_state
    )
    data.feature_names = cancer.feature_names
    return data
