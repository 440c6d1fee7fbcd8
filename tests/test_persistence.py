"""Saving and loading detectors with joblib and pickle, across devices and versions."""

import os
import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.exceptions import DeviceWarning

import sklearn_ganad
from sklearn_ganad import AnoGAN, AnoGANModel, InconsistentVersionWarning

from ._params import ALL_DETECTORS, make_fast


@pytest.mark.parametrize("detector_class", ALL_DETECTORS, ids=lambda c: c.__name__)
def test_joblib_round_trip_keeps_scores_and_history(detector_class, small_table, tmp_path):
    detector = make_fast(detector_class).fit(small_table)
    path = tmp_path / "detector.joblib"
    joblib.dump(detector, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no warning
        loaded = joblib.load(path)
    np.testing.assert_array_equal(
        loaded.score_samples(small_table), detector.score_samples(small_table)
    )
    np.testing.assert_array_equal(loaded.predict(small_table), detector.predict(small_table))
    assert loaded.offset_ == detector.offset_
    assert len(loaded.net_.history) == len(detector.net_.history)
    assert loaded.get_params().keys() == detector.get_params().keys()


def test_pipeline_round_trip_of_images(small_images, tmp_path):
    detector = make_fast(sklearn_ganad.GANomaly).fit(small_images)
    path = tmp_path / "images.joblib"
    joblib.dump(detector, path)
    loaded = joblib.load(path)
    assert loaded.image_shape_ == (1, 8, 8)
    np.testing.assert_array_equal(
        loaded.reconstruct(small_images), detector.reconstruct(small_images)
    )


def test_loaded_detector_keeps_training(small_table, tmp_path):
    """The optimizers are saved too: partial_fit continues from the loaded state."""
    detector = make_pipeline(StandardScaler(), make_fast(sklearn_ganad.EGBAD)).fit(small_table)
    path = tmp_path / "pipe.joblib"
    joblib.dump(detector, path)
    loaded = joblib.load(path)
    net = loaded[-1].net_
    assert net.optimizer_.state_dict()["state"], "optimizer moments were not saved"
    net.partial_fit(loaded[:-1].transform(small_table).astype(np.float32), epochs=1)
    assert len(net.history) == len(detector[-1].net_.history) + 1


def test_another_version_warns(small_table, monkeypatch):
    detector = make_fast(sklearn_ganad.GANomaly).fit(small_table)
    monkeypatch.setattr(sklearn_ganad.base, "__version__", "0.0.1")
    payload = pickle.dumps(detector)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match="from sklearn-ganad 0.0.1 with") as record:
        pickle.loads(payload)
    warning = record[0].message
    assert (warning.original_version, warning.current_version) == (
        "0.0.1",
        sklearn_ganad.__version__,
    )


def test_model_saved_on_a_gpu_loads_on_the_cpu(small_table):
    """skorch maps a CUDA net to the CPU when none is available; the detector follows.

    The net is marked as a CUDA net before pickling (its tensors stay on the
    CPU), which is what a machine without a GPU sees in a GPU-trained pickle.
    tests/test_gpu.py does it for real where CUDA is available.
    """
    if torch.cuda.is_available():
        pytest.skip("this simulates a machine without CUDA")
    detector = make_fast(sklearn_ganad.ALAD).fit(small_table)
    expected = detector.score_samples(small_table)
    detector.net_.device = "cuda"
    detector.device_ = "cuda"
    payload = pickle.dumps(detector)
    with pytest.warns(DeviceWarning, match="available"):
        loaded = pickle.loads(payload)
    assert loaded.device_ == "cpu" and str(loaded.net_.device) == "cpu"
    np.testing.assert_array_equal(loaded.score_samples(small_table), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_trained_model_scores_in_a_process_without_gpu(small_table, tmp_path):
    detector = make_fast(sklearn_ganad.GANomaly, device="cuda").fit(small_table)
    path = tmp_path / "gpu.joblib"
    joblib.dump(detector, path)
    np.save(tmp_path / "X.npy", small_table)
    script = (
        "import joblib, numpy as np, torch, warnings; assert not torch.cuda.is_available();"
        "warnings.simplefilter('ignore');"
        f"d = joblib.load({str(path)!r}); X = np.load({str(tmp_path / 'X.npy')!r});"
        "print(d.device_); np.save("
        f"{str(tmp_path / 's.npy')!r}, d.score_samples(X))"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cpu"
    np.testing.assert_allclose(
        np.load(tmp_path / "s.npy"), detector.score_samples(small_table), rtol=1e-4, atol=1e-6
    )


def test_file_from_before_a_parameter_existed_loads_with_its_default(small_table):
    # An AnoGAN saved before gan_loss, n_critic and gradient_penalty_weight
    # existed: the estimator lacks them, its model is the standard GAN's.
    detector = make_fast(AnoGAN).fit(small_table)
    old = pickle.loads(pickle.dumps(detector))
    added = ("gan_loss", "n_critic", "gradient_penalty_weight")
    for name in added:
        delattr(old, name)
    loaded = pickle.loads(pickle.dumps(old))
    defaults = AnoGAN().get_params()
    assert all(loaded.get_params()[name] == defaults[name] for name in added)
    assert type(loaded.net_.module_) is AnoGANModel
    np.testing.assert_array_equal(
        loaded.score_samples(small_table), detector.score_samples(small_table)
    )
    loaded.net_.partial_fit(small_table)  # training goes on with the standard GAN
    assert "train_wasserstein_distance" not in loaded.net_.history[-1]
