"""The detectors of the benchmark: the package's methods and their peers.

Every detector is wrapped to expose ``fit(X)`` and ``anomaly_score(X)``
(higher = more anomalous) on a :class:`~benchmarks._tasks.Task`'s arrays.
scikit-learn's detectors and PyOD's read flat rows; the package's detectors
read images as (n, C, H, W).

Training budgets are given to the package's methods in epochs; PyOD's peers
get the same number of *samples seen*: PyOD's AnoGAN counts real epochs,
while its ALAD trains on one mini-batch per "epoch", so its ``epochs`` is
``our_epochs * n_train / batch_size``.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM

from sklearn_ganad import GANomaly

PYOD_AVAILABLE = importlib.util.find_spec("pyod") is not None

# Epochs and batch size of the package's GANs per profile and data set family.
BUDGETS = {
    "quick": {
        "kddcup99": dict(max_epochs=5, batch_size=64),
        "arrhythmia": dict(max_epochs=100, batch_size=32),
        "mnist": dict(max_epochs=15, batch_size=64),
        "digits": dict(max_epochs=40, batch_size=32),
    },
    "paper": {
        "kddcup99": dict(max_epochs=15, batch_size=64),
        "arrhythmia": dict(max_epochs=100, batch_size=32),
        "mnist": dict(max_epochs=15, batch_size=64),
        "digits": dict(max_epochs=40, batch_size=32),
    },
}

# Training rows some peers are limited to (their cost grows faster than n).
TRAIN_CAPS = {
    "quick": {"LocalOutlierFactor": 10_000, "OneClassSVM": 5_000, "PyOD-AnoGAN": 2_000},
    "paper": {"LocalOutlierFactor": 50_000, "OneClassSVM": 20_000, "PyOD-AnoGAN": 10_000},
}


# Runs left out of a profile, with the reason printed under the data set's table.
SKIPPED = {
    "quick": {
        (
            "kddcup99-unscaled",
            "PyOD-ALAD",
        ): "PyOD peers run on the scaled KDDCUP99 only (CPU budget)",
        (
            "kddcup99-unscaled",
            "PyOD-AnoGAN",
        ): "PyOD peers run on the scaled KDDCUP99 only (CPU budget)",
        ("mnist", "PyOD-AnoGAN"): "PyOD's AnoGAN (a per-sample Python loop) takes about 40 s "
        "per digit on two CPU cores; it runs in the paper profile",
    },
    "paper": {},
}


def family(dataset: str) -> str:
    """The budget family of a data set (``kddcup99-unscaled`` -> ``kddcup99``)."""
    for name in ("kddcup99", "mnist", "arrhythmia", "digits"):
        if dataset.startswith(name):
            return name
    raise KeyError(dataset)


@dataclass
class Wrapped:
    """A fitted-on-demand detector with the benchmark's interface."""

    detector: object
    flat: bool  # feed 2-D rows
    sign: float  # anomaly score = sign * raw score
    raw: str  # name of the scoring method
    train_cap: int | None = None
    config: str = ""

    def _prepare(self, X):
        return X.reshape(len(X), -1) if self.flat else X

    def fit(self, X, seed):
        if self.train_cap is not None and len(X) > self.train_cap:
            rows = np.random.RandomState(seed).choice(len(X), self.train_cap, replace=False)
            X = X[np.sort(rows)]
        self.n_train = len(X)
        self.detector.fit(self._prepare(X))
        return self

    def anomaly_score(self, X):
        return self.sign * np.asarray(getattr(self.detector, self.raw)(self._prepare(X)))


def _ganomaly(task, profile, seed, device):
    budget = BUDGETS[profile][family(task.dataset)]
    detector = GANomaly(random_state=seed, device=device, **budget)
    return Wrapped(detector, flat=False, sign=-1.0, raw="score_samples", config=str(budget))


def _sklearn(cls, **params):
    def build(task, profile, seed, device):
        seeded = {"random_state": seed} if "random_state" in cls().get_params() else {}
        cap = TRAIN_CAPS[profile].get(cls.__name__)
        config = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
        return Wrapped(cls(**params, **seeded), flat=True, sign=-1.0, raw="score_samples",
                       train_cap=cap, config=config)  # fmt: skip

    return build


def _pyod_samples_seen(task, profile, n_train):
    budget = BUDGETS[profile][family(task.dataset)]
    return budget["max_epochs"] * min(len(task.X_train), n_train)


def _pyod_alad(task, profile, seed, device):
    from pyod.models.alad import ALAD

    batch_size = 32
    seen = _pyod_samples_seen(task, profile, len(task.X_train))
    epochs = math.ceil(seen / batch_size)
    # PyOD's ALAD draws from the global RNGs; seed them for a repeatable run.
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)
    detector = ALAD(epochs=epochs, batch_size=batch_size, device=_torch_device(device))
    return Wrapped(detector, flat=True, sign=1.0, raw="decision_function",
                   config=f"epochs={epochs} (mini-batches of {batch_size})")  # fmt: skip


def _pyod_anogan(task, profile, seed, device):
    from pyod.models.anogan import AnoGAN

    cap = TRAIN_CAPS[profile]["PyOD-AnoGAN"]
    n_train = min(len(task.X_train), cap)
    seen = _pyod_samples_seen(task, profile, len(task.X_train))
    epochs = math.ceil(seen / n_train)
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)
    detector = AnoGAN(epochs=epochs, device=_torch_device(device))
    return Wrapped(detector, flat=True, sign=1.0, raw="decision_function", train_cap=cap,
                   config=f"epochs={epochs} on {n_train} rows")  # fmt: skip


def _torch_device(device):
    import torch

    from sklearn_ganad.utils._torch import resolve_device

    return torch.device(resolve_device(device))


#: Method name -> (builder, "package" or "peer").
METHODS = {
    "GANomaly": (_ganomaly, "package"),
    "IsolationForest": (_sklearn(IsolationForest), "peer"),
    "LocalOutlierFactor": (_sklearn(LocalOutlierFactor, novelty=True), "peer"),
    "OneClassSVM": (_sklearn(OneClassSVM), "peer"),
    "PyOD-ALAD": (_pyod_alad, "peer"),
    "PyOD-AnoGAN": (_pyod_anogan, "peer"),
}

DEFAULT_METHODS = [
    name for name in METHODS if PYOD_AVAILABLE or not name.startswith("PyOD")
]  # fmt: skip
