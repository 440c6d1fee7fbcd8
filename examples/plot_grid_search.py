"""
Tuning with a few labels: GridSearchCV
======================================

The detectors are trained without labels, but where some labelled
anomalies exist they can pick hyper-parameters. Two scikit-learn habits
matter:

* ``scoring="roc_auc"`` reads ``decision_function``, which is *higher for
  normal* samples: label inliers 1. With the usual anomaly = 1 labels, use
  :data:`sklearn_ganad.metrics.anomaly_roc_auc_scorer`.
* for an estimator that is not a classifier, ``cv=3`` means an unshuffled
  ``KFold``: pass a shuffled :class:`~sklearn.model_selection.StratifiedKFold`.

Each fold trains on all of its training rows, labelled or not; the labels are
only used to score the folds.
"""

# %%
import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ganad import GANomaly
from sklearn_ganad.datasets import load_breast_cancer_outliers
from sklearn_ganad.metrics import anomaly_roc_auc_scorer

# All benign rows and 30 malignant ones, as unlabelled data with a few known
# anomalies would look (about 8 % anomalies).
data = load_breast_cancer_outliers()
malignant = np.flatnonzero(data.y_test == 1)[:30]
benign = np.flatnonzero(data.y_test == 0)
X = np.vstack([data.X_train, data.X_test[benign], data.X_test[malignant]])
y = np.r_[np.zeros(len(data.X_train) + len(benign), int), np.ones(len(malignant), int)]
print(f"{len(X)} rows, {y.mean():.1%} anomalies")

search = GridSearchCV(
    make_pipeline(StandardScaler(), GANomaly(max_epochs=30, random_state=0)),
    param_grid={"ganomaly__latent_dim": [4, 32], "ganomaly__lr": [2e-4, 1e-3]},
    scoring=anomaly_roc_auc_scorer,
    cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
)
search.fit(X, y)
for params, score in zip(
    search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
):
    print(f"{params}: ROC AUC {score:.3f}")
print("best:", search.best_params_)
