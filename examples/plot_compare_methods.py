"""
The five methods side by side
=============================

All five detectors on one one-class digits task (sixes normal, the other
digits anomalous), next to scikit-learn's
:class:`~sklearn.ensemble.IsolationForest`. Each GAN is trained briefly, so
the figures illustrate the interface rather than each method's best;
the benchmark pages compare them at the papers' budgets.
"""

# %%
import time

import matplotlib.pyplot as plt
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from sklearn_ganad import ALAD, EGBAD, AnoGAN, FAnoGAN, GANomaly
from sklearn_ganad.datasets import load_digits_one_class

digits = load_digits_one_class(6)
flat_train = digits.X_train.reshape(len(digits.X_train), -1)
flat_test = digits.X_test.reshape(len(digits.X_test), -1)
detectors = {
    "GANomaly": GANomaly(max_epochs=30, batch_size=32, random_state=0),
    "EGBAD": EGBAD(max_epochs=30, batch_size=32, lr=2e-4, random_state=0),
    "ALAD": ALAD(max_epochs=30, batch_size=32, lr=2e-4, random_state=0),
    "f-AnoGAN": FAnoGAN(max_epochs=40, encoder_epochs=40, batch_size=32, random_state=0),
    "AnoGAN": AnoGAN(max_epochs=20, batch_size=32, lr=2e-4, n_search_iter=20, random_state=0),
}
auc, seconds = {}, {}
for name, detector in detectors.items():
    start = time.perf_counter()
    scores = detector.fit(digits.X_train).score_samples(digits.X_test)
    seconds[name] = time.perf_counter() - start
    auc[name] = roc_auc_score(digits.y_test, -scores)
start = time.perf_counter()
forest = IsolationForest(random_state=0).fit(flat_train)
auc["IsolationForest"] = roc_auc_score(digits.y_test, -forest.score_samples(flat_test))
seconds["IsolationForest"] = time.perf_counter() - start
for name in auc:
    print(f"{name:16s} ROC AUC {auc[name]:.3f}  ({seconds[name]:.1f} s)")

# %%
fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(list(auc), list(auc.values()))
ax.set_xlim(0.5, 1.0)
ax.set_xlabel("ROC AUC, other digits = positive")
ax.invert_yaxis()
fig.tight_layout()
