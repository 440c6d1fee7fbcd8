"""
A map of the latent codes
=========================

Each method assigns every sample a latent code (:meth:`~sklearn_ganad.FAnoGAN.encode`):
the encoder's output for f-AnoGAN, EGBAD and ALAD, the generator's encoding
for GANomaly, and the code found by the latent search for AnoGAN.
:class:`~sklearn_ganad.plotting.LatentMapDisplay` projects the codes to two
dimensions, with PCA or t-SNE, coloured by label.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from sklearn_ganad import FAnoGAN
from sklearn_ganad.datasets import load_digits_one_class
from sklearn_ganad.plotting import LatentMapDisplay

digits = load_digits_one_class(3)
detector = FAnoGAN(
    max_epochs=40, encoder_epochs=40, batch_size=32, latent_dim=16, random_state=0
).fit(digits.X_train)
print(f"codes of shape {detector.encode(digits.X_test).shape}")

# %%
# PCA and t-SNE of the codes of every test three (label 0) and 500 other
# digits (label 1).
rows = np.r_[np.flatnonzero(digits.y_test == 0), np.flatnonzero(digits.y_test == 1)[:500]]
X_map, y_map = digits.X_test[rows], digits.y_test[rows]
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
LatentMapDisplay.from_estimator(detector, X_map, y_map, ax=left)
LatentMapDisplay.from_estimator(detector, X_map, y_map, method="tsne", random_state=0, ax=right)
fig.tight_layout()
