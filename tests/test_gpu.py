"""CUDA runs (skipped on machines without a GPU, such as CI)."""

import pickle

import numpy as np
import pytest
import torch

from ._params import ALL_DETECTORS, make_fast

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("cls", ALL_DETECTORS, ids=lambda c: c.__name__)
def test_fit_and_score_on_cuda(cls, small_table):
    detector = make_fast(cls, device="cuda").fit(small_table)
    assert detector.device_.startswith("cuda")
    assert next(detector.net_.module_.parameters()).is_cuda
    scores = detector.score_samples(small_table)
    assert np.all(np.isfinite(scores))
    restored = pickle.loads(pickle.dumps(detector))
    np.testing.assert_allclose(restored.score_samples(small_table), scores, rtol=1e-5)
