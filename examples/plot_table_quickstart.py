"""
Outliers in a table, inside a Pipeline
======================================

The breast-cancer table from scikit-learn: benign tumours are the normal
class, malignant ones the anomalies. The detector trains on benign rows only
(one-class learning) and scales its inputs inside a
:class:`~sklearn.pipeline.Pipeline`, so the scaler learns from the training
rows and nothing else.
"""

# %%
# Fit a detector in a pipeline
# ----------------------------
# ``contamination`` sets the share of training rows called outliers: it
# places ``offset_``, the threshold of ``predict``.
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ganad import GANomaly
from sklearn_ganad.datasets import load_breast_cancer_outliers
from sklearn_ganad.plotting import ScoreDistributionDisplay

data = load_breast_cancer_outliers()
print(f"train: {data.X_train.shape}, test: {data.X_test.shape}")
detector = make_pipeline(
    StandardScaler(), GANomaly(max_epochs=60, contamination=0.05, random_state=0)
)
detector.fit(data.X_train)

# %%
# Scores, decisions and labels
# ----------------------------
# ``score_samples`` is higher for normal rows; ``decision_function`` subtracts
# ``offset_`` and is negative for outliers; ``predict`` returns +1 / -1, as
# scikit-learn's :class:`~sklearn.ensemble.IsolationForest` does.
scores = detector.score_samples(data.X_test)
labels = detector.predict(data.X_test)
print(f"offset_ = {detector[-1].offset_:.4f}")
print(f"ROC AUC (malignant = positive) = {roc_auc_score(data.y_test, -scores):.3f}")
print(
    f"flagged: {(labels == -1).mean():.0%} of the test rows, of which "
    f"{data.y_test.mean():.0%} are malignant"
)

# %%
# The score distribution per class
# --------------------------------
# The dashed line is ``offset_``: rows left of it are called outliers.
display = ScoreDistributionDisplay.from_estimator(detector, data.X_test, data.y_test, bins=40)
display.ax_.set_xlim(left=float(scores.min()))
