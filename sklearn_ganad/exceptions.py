"""Warnings and errors raised by sklearn_ganad."""


class TrainingDivergedWarning(UserWarning):
    """Training stopped because a loss became NaN or infinite.

    The networks are restored to the last state whose parameters and losses
    were all finite (the end of the last complete epoch, or the initial
    weights when the first epoch diverged), so the fitted detector still gives
    finite scores.
    """


class InconsistentVersionWarning(UserWarning):
    """A detector was unpickled by another version of sklearn-ganad than wrote it.

    Networks and scores may differ between versions; refit the detector, or
    install the version that saved it.

    Parameters
    ----------
    estimator_name : str
        The class of the unpickled detector.
    original_version : str
        The sklearn-ganad version that pickled it (``"unknown"`` when it
        predates the record).
    current_version : str
        The version that unpickled it.
    """

    def __init__(self, *, estimator_name, original_version, current_version):
        self.estimator_name = estimator_name
        self.original_version = original_version
        self.current_version = current_version

    def __str__(self):
        return (
            f"Trying to unpickle {self.estimator_name} from sklearn-ganad "
            f"{self.original_version} with sklearn-ganad {self.current_version}. Networks "
            "and scores may differ between versions: refit it, or install sklearn-ganad=="
            f"{self.original_version}."
        )
