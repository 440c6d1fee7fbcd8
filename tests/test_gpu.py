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


class _NoSyncInSteps:
    """Makes CUDA raise on any host-device synchronisation inside a training step."""

    def __init__(self, net_class):
        from sklearn_ganad import GANNet

        class Guarded(GANNet):
            def train_step(self, batch, **fit_params):
                torch.cuda.set_sync_debug_mode("error")
                try:
                    return super().train_step(batch, **fit_params)
                finally:
                    torch.cuda.set_sync_debug_mode("default")

        self.net_class = Guarded


@pytest.mark.parametrize("cls", ALL_DETECTORS, ids=lambda c: c.__name__)
def test_no_host_synchronisation_inside_a_training_step(cls, small_table, monkeypatch):
    import sklearn_ganad.base as base

    monkeypatch.setattr(base, "GANNet", _NoSyncInSteps(base.GANNet).net_class)
    detector = make_fast(cls, device="cuda", max_epochs=2).fit(small_table)
    assert detector.net_._sync_interval() == 0  # losses read once per epoch on CUDA
    assert np.isfinite(detector.net_.history[-1, "train_loss"])


@pytest.mark.parametrize("precision", ["bf16", "16"])
@pytest.mark.parametrize("cls", ALL_DETECTORS, ids=lambda c: c.__name__)
def test_mixed_precision_on_cuda(cls, precision, small_table):
    detector = make_fast(cls, device="cuda", precision=precision).fit(small_table)
    assert np.isfinite(detector.score_samples(small_table)).all()
    if precision == "16":
        assert set(detector.net_.grad_scalers_) == set(detector.net_.module_.players)


@pytest.mark.parametrize("cls", [c for c in ALL_DETECTORS if c._score_is_one_pass],
                         ids=lambda c: c.__name__)  # fmt: skip
def test_a_detector_trained_on_cuda_exports_for_the_cpu(cls, small_table, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from sklearn_ganad.export import export_onnx

    X = small_table.astype(np.float32)
    detector = make_fast(cls, device="cuda").fit(X)
    path = export_onnx(detector, tmp_path / "detector.onnx")
    assert next(detector.net_.module_.parameters()).is_cuda  # the fitted one is untouched
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    scores = session.run(["score_samples"], {"X": X})[0]
    # CUDA scores in float32 (TF32 may be on): a looser match than on the CPU.
    np.testing.assert_allclose(scores, detector.score_samples(X), rtol=1e-3, atol=1e-5)


def test_feature_contributions_on_cuda_sum_to_the_score(small_table):
    from sklearn_ganad import EGBAD

    X = small_table.astype(np.float32)
    detector = make_fast(EGBAD, device="cuda").fit(X)
    contributions = detector.feature_contributions(X)
    np.testing.assert_allclose(contributions.sum(axis=1), -detector.score_samples(X), rtol=1e-4)
