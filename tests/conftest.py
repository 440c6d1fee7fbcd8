import numpy as np
import pytest


@pytest.fixture(scope="session")
def blobs():
    """A normal blob (first 200 rows) and five far outliers (last 5 rows)."""
    rng = np.random.RandomState(0)
    normal = rng.normal(size=(200, 4))
    outliers = np.array(
        [[8, -8, 8, -8], [-8, 8, -8, 8], [9, 9, -9, 9], [-9, -9, 9, -9], [10, 0, -10, 0]],
        dtype=float,
    )
    return np.vstack([normal, outliers])


@pytest.fixture(scope="session")
def small_table():
    return np.random.RandomState(1).normal(size=(60, 5))


@pytest.fixture(scope="session")
def small_images():
    """40 images of shape (1, 8, 8) in [-1, 1]."""
    rng = np.random.RandomState(2)
    return np.tanh(rng.normal(size=(40, 1, 8, 8))).astype(np.float32)
