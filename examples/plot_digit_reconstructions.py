"""
Images: reconstructions and where they differ
=============================================

scikit-learn's 8x8 digits as a one-class problem: zeros are normal, the nine
other digits are anomalies. Images are passed as arrays of shape
``(n, C, H, W)`` (or ``(n, H, W)``), scaled to [-1, 1] for the generators'
``tanh`` output; the detectors then use DCGAN-style convolutional networks.

GANomaly rebuilds every input as the normal class would look: the difference
between an image and its reconstruction shows what made it anomalous.
"""

# %%
import numpy as np
from sklearn.metrics import roc_auc_score

from sklearn_ganad import GANomaly
from sklearn_ganad.datasets import load_digits_one_class
from sklearn_ganad.plotting import ReconstructionDisplay, ScoreDistributionDisplay

digits = load_digits_one_class(0)
print(f"train: {digits.X_train.shape} (zeros only), test: {digits.X_test.shape}")
detector = GANomaly(max_epochs=40, batch_size=32, random_state=0).fit(digits.X_train)
scores = detector.score_samples(digits.X_test)
print(f"ROC AUC (other digits = positive) = {roc_auc_score(digits.y_test, -scores):.3f}")

# %%
# Inputs, reconstructions and differences
# ---------------------------------------
# Four normal test images (label 0), then four anomalies (label 1).
rows = np.r_[np.flatnonzero(digits.y_test == 0)[:4], np.flatnonzero(digits.y_test == 1)[:4]]
ReconstructionDisplay.from_estimator(
    detector, digits.X_test[rows], n_images=8, titles=digits.y_test[rows]
)

# %%
# Scores per class
# ----------------
ScoreDistributionDisplay.from_estimator(detector, digits.X_test, digits.y_test)
