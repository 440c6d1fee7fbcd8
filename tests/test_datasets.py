"""The embedded one-class data sets and the split protocol."""

import numpy as np
import pytest

from sklearn_ganad.datasets import (
    load_breast_cancer_outliers,
    load_digits_one_class,
    one_class_split,
)


def test_one_class_split_trains_on_normal_data_only():
    X = np.arange(100).reshape(50, 2)
    is_anomaly = np.arange(50) >= 40
    data = one_class_split(X, is_anomaly, train_fraction=0.75, random_state=0)
    assert len(data.X_train) == 30 and len(data.X_test) == 20
    assert np.all(data.X_train[:, 0] < 80)  # rows 0..39 are the normal ones
    assert data.y_test.sum() == 10
    np.testing.assert_array_equal(data.y_test, (data.X_test[:, 0] >= 80).astype(int))
    seen = np.concatenate([data.X_train[:, 0], data.X_test[:, 0]])
    assert sorted(seen) == list(range(0, 100, 2))
    again = one_class_split(X, is_anomaly, train_fraction=0.75, random_state=0)
    np.testing.assert_array_equal(again.X_test, data.X_test)


def test_one_class_split_rejects_bad_arguments():
    with pytest.raises(ValueError, match="one entry per sample"):
        one_class_split(np.zeros((5, 2)), [True, False])
    with pytest.raises(ValueError, match="train_fraction"):
        one_class_split(np.zeros((5, 2)), np.zeros(5, bool), train_fraction=1.5)
    with pytest.raises(ValueError, match="leave no room"):
        one_class_split(np.zeros((3, 2)), [False, True, True])


@pytest.mark.parametrize("protocol", ["one-normal", "one-anomalous"])
def test_digits_protocols(protocol):
    data = load_digits_one_class(3, protocol=protocol)
    assert data.X_train.shape[1:] == (1, 8, 8) and data.image_shape == (1, 8, 8)
    assert data.X_train.min() >= -1 and data.X_train.max() <= 1
    n_threes = 183  # in scikit-learn's digits
    if protocol == "one-normal":
        assert len(data.X_train) == round(0.8 * n_threes)
        assert data.y_test.sum() == 1797 - n_threes
    else:
        assert data.y_test.sum() == n_threes
    flat = load_digits_one_class(3, protocol=protocol, as_images=False)
    assert flat.X_train.shape[1] == 64


def test_digits_loader_validates_its_arguments():
    with pytest.raises(ValueError, match="protocol"):
        load_digits_one_class(1, protocol="both")
    with pytest.raises(ValueError, match="digit"):
        load_digits_one_class(10)


def test_breast_cancer_outliers():
    data = load_breast_cancer_outliers()
    assert data.X_train.shape == (286, 30)
    assert data.y_test.sum() == 212 and len(data.y_test) == 357 - 286 + 212
    assert len(data.feature_names) == 30
