"""
Explaining scores: anomaly maps and feature contributions
=========================================================

Which pixels, or which columns, made a sample anomalous? Every detector splits
its anomaly score into one part per input feature
(``feature_contributions``; ``anomaly_map`` for images): the parts sum to the
score, ``-score_samples``. Terms of the score that are a sum over features
(reconstruction residuals) are taken exactly; the rest (a discriminator's or a
latent term) is spread by integrated gradients from the reconstruction to the
input (see the user guide's "Explaining scores").

Two checks on data that ships with scikit-learn, with GANomaly's defaults:

* digits with a bright 3x3 patch pasted on them: the map should put its mass
  on the patch;
* the breast-cancer table with one column of each test row shifted by six of
  its standard deviations: that column should contribute most.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from sklearn.datasets import load_breast_cancer, load_digits

from sklearn_ganad import GANomaly
from sklearn_ganad.plotting import AnomalyMapDisplay, FeatureContributionsDisplay

rng = np.random.default_rng(0)

# %%
# Digits with a pasted patch
# --------------------------
# Trained on the first 1,000 digits (all classes, pixels in [0, 1]); a patch
# of value 1 is pasted at a random place on each of the 797 others.
images = load_digits().images.astype(np.float32)[:, None] / 16.0
train, test = images[:1000], images[1000:].copy()
masks = np.zeros((len(test), 8, 8), dtype=bool)
for index, (top, left) in enumerate(rng.integers(0, 6, size=(len(test), 2))):
    masks[index, top : top + 3, left : left + 3] = True
test[:, 0][masks] = 1.0

detector = GANomaly(random_state=0).fit(train)
maps = detector.anomaly_map(test)
inside = (maps * masks).sum(axis=(1, 2)) / maps.sum(axis=(1, 2))
print(f"share of the map's mass on the patch: {inside.mean():.3f} "
      f"(the patch covers {masks[0].mean():.3f} of the image)")  # fmt: skip
print("maps sum to the scores:", np.allclose(maps.sum(axis=(1, 2)), -detector.score_samples(test)))

# %%
# Images, their maps, and the maps over the images; each column's title is
# its anomaly score, and a green square marks the pasted patch.
display = AnomalyMapDisplay.from_estimator(detector, test, n_images=6)
for column, mask in enumerate(masks[:6]):
    top, left = np.argwhere(mask)[0]
    for ax in display.axes_[:, column]:
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), 3, 3, fill=False, color="lime", lw=1.5))

# %%
# A table with one corrupted column per row
# -----------------------------------------
cancer = load_breast_cancer()
X = cancer.data.astype(np.float32)
order = rng.permutation(len(X))
train_rows, test_rows = X[order[:400]], X[order[400:]].copy()
columns = rng.integers(0, X.shape[1], size=len(test_rows))
shift = 6.0 * train_rows.std(axis=0)[columns] * rng.choice([-1.0, 1.0], size=len(test_rows))
test_rows[np.arange(len(test_rows)), columns] += shift

table_detector = GANomaly(random_state=0).fit(train_rows)  # standardises the raw table
contributions = table_detector.feature_contributions(test_rows)
top = contributions.argmax(axis=1)
print(f"the corrupted column contributes most in {np.mean(top == columns):.1%} of the rows "
      f"(chance: {1 / X.shape[1]:.1%})")  # fmt: skip

# %%
# The largest contributions of the first test row; its corrupted column is
# named in the title.
_, ax = plt.subplots(figsize=(7, 4), layout="constrained")  # room for long names
bars = FeatureContributionsDisplay(
    contributions=contributions[0], feature_names=list(cancer.feature_names), max_features=8
).plot(ax=ax)
_ = bars.ax_.set_title(f"corrupted: {cancer.feature_names[columns[0]]}")
