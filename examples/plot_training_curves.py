"""
Training curves, callbacks and early stopping
=============================================

Every detector trains a skorch net, kept as ``net_``: each player's losses
are recorded per epoch in ``net_.history``, and skorch callbacks work as
usual. With ``validation_fraction`` a share of the training rows is held out
and ``valid_loss`` (a label-free loss on normal data) drives
:class:`~skorch.callbacks.EarlyStopping`, which restores every network of
the best epoch.
"""

# %%
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import EarlyStopping

from sklearn_ganad import EGBAD
from sklearn_ganad.datasets import load_breast_cancer_outliers
from sklearn_ganad.plotting import TrainingCurvesDisplay

data = load_breast_cancer_outliers()
X_train = StandardScaler().fit_transform(data.X_train)

detector = EGBAD(
    max_epochs=150,
    lr=1e-4,
    validation_fraction=0.2,
    callbacks=[EarlyStopping(monitor="valid_loss", patience=15, load_best=True)],
    random_state=0,
)
detector.fit(X_train)
history = detector.net_.history
best_epochs = [row["epoch"] for row in history if row["valid_loss_best"]]
print(f"trained {len(history)} epochs; the best valid_loss was at epoch {best_epochs[-1]}")

# %%
# Every loss, per epoch
# ---------------------
# The discriminator's loss, the generator player's loss and its terms, and
# ``valid_loss``. ``log_scale`` helps when losses differ in size.
TrainingCurvesDisplay.from_estimator(detector, log_scale=True)
