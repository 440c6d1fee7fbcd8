"""
Saving and loading a detector
=============================

Detectors are saved with :mod:`joblib` (or :mod:`pickle`), as any
scikit-learn estimator. All networks and the optimizers' states are saved
with them, so a loaded detector scores identically and can keep training.

A detector trained on a GPU loads on a machine without one: skorch maps its
tensors to the CPU (with a ``DeviceWarning``) and ``device_`` says ``"cpu"``.
Loading a file written by another version of sklearn-ganad warns with
:class:`~sklearn_ganad.InconsistentVersionWarning`: refit the detector there.
"""

# %%
import tempfile
from pathlib import Path

import joblib
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ganad import EGBAD
from sklearn_ganad.datasets import load_breast_cancer_outliers

data = load_breast_cancer_outliers()
detector = make_pipeline(StandardScaler(), EGBAD(max_epochs=20, random_state=0))
detector.fit(data.X_train)

with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "egbad.joblib"
    joblib.dump(detector, path)
    print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")
    loaded = joblib.load(path)

same = np.array_equal(loaded.score_samples(data.X_test), detector.score_samples(data.X_test))
print(f"identical scores after loading: {same}; device_: {loaded[-1].device_}")

# %%
# A loaded detector keeps training from where it stopped: its optimizers'
# moments were saved too.
net = loaded[-1].net_
net.partial_fit(loaded[:-1].transform(data.X_train).astype(np.float32), epochs=2)
print(f"epochs in the history: {len(detector[-1].net_.history)} -> {len(net.history)}")
