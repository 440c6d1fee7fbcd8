"""GAN-based anomaly detectors as scikit-learn estimators, trained with skorch."""

from ._ganomaly import GANomaly, GANomalyModel
from ._net import AdversarialModel, ArrayBatchIterator, GANNet
from .base import BaseGANDetector
from .exceptions import TrainingDivergedWarning

__version__ = "0.1.0"

__all__ = [
    "GANomaly",
    "BaseGANDetector",
    "GANNet",
    "AdversarialModel",
    "ArrayBatchIterator",
    "GANomalyModel",
    "TrainingDivergedWarning",
    "__version__",
]
