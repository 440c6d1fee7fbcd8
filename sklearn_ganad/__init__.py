"""GAN-based anomaly detectors as scikit-learn estimators, trained with skorch."""

from ._alad import ALAD, ALADModel
from ._anogan import AnoGAN, AnoGANModel, WassersteinAnoGANModel
from ._bigan import BiGANModel
from ._coupled import CoupledEnsembleModel
from ._egbad import EGBAD, EGBADModel
from ._fanogan import FAnoGAN, FAnoGANModel
from ._ganomaly import GANomaly, GANomalyModel
from ._net import AdversarialModel, ArrayBatchIterator, GANNet
from ._version import __version__
from .base import BaseGANDetector
from .exceptions import (
    ConstantScoresWarning,
    InconsistentVersionWarning,
    TrainingDivergedWarning,
    TrainingInterruptedWarning,
    UnreliableScoreWarning,
)

__all__ = [
    "AnoGAN",
    "FAnoGAN",
    "EGBAD",
    "ALAD",
    "GANomaly",
    "BaseGANDetector",
    "GANNet",
    "AdversarialModel",
    "ArrayBatchIterator",
    "CoupledEnsembleModel",
    "GANomalyModel",
    "BiGANModel",
    "EGBADModel",
    "ALADModel",
    "AnoGANModel",
    "WassersteinAnoGANModel",
    "FAnoGANModel",
    "TrainingDivergedWarning",
    "TrainingInterruptedWarning",
    "ConstantScoresWarning",
    "InconsistentVersionWarning",
    "UnreliableScoreWarning",
    "__version__",
]
