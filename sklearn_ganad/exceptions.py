"""Warnings and errors raised by sklearn_ganad."""


class TrainingDivergedWarning(UserWarning):
    """Training stopped because it diverged.

    Either a loss or a weight became NaN or infinite, or training ran away
    while staying finite: a weight beyond ``GANNet.weight_bound`` (no sane
    training reaches it), or a player's loss many orders of magnitude above
    its first epoch's (``GANNet.loss_jump``). The networks are restored to
    the last sane state (the end of the last complete sane epoch, or the
    initial weights when the first epoch diverged), so the fitted detector
    still gives finite scores. The message names the cause; the usual fix is
    a lower learning rate or scaled inputs.
    """


class TrainingInterruptedWarning(UserWarning):
    """Training was stopped by a ``KeyboardInterrupt`` (Ctrl-C) before its last epoch.

    As in skorch and scikit-learn's ``MLPClassifier``, the interrupted ``fit``
    returns normally: the networks keep the weights reached (their weight
    average, with ``ema_decay``), ``net_.history`` marks the interrupted epoch
    with ``interrupted=True``, and ``offset_`` is computed from the model as
    trained. A method with training stages (f-AnoGAN) does not start the next
    stage. Fit again to train in full. To stop instead, turn this warning
    into an error, e.g. ``warnings.simplefilter("error",
    TrainingInterruptedWarning)``: ``fit`` then raises it and the detector
    stays unfitted (the command line does this). A skorch callback that ends
    training on purpose (``EarlyStopping`` raises ``KeyboardInterrupt``) does
    not trigger it.
    """


class ConstantScoresWarning(UserWarning):
    """Every training row got the same score, so ``offset_`` separates nothing.

    ``predict`` then calls every row with that score an inlier, whatever
    ``contamination`` says. It happens when the training rows are all alike,
    or when training collapsed (see :class:`TrainingDivergedWarning`).
    """


class UnreliableScoreWarning(UserWarning):
    """The chosen score is known to rank anomalies backwards on this kind of data.

    Raised when training starts (``fit``, or the first ``partial_fit``) for
    a combination that the package's benchmarks found inverted (ROC AUC well
    below 0.5), such as ALAD's ``score_method="logits"`` on images. The
    detector is fitted as asked; the message names the score to use
    instead. Turn it into an error with
    ``warnings.simplefilter("error", UnreliableScoreWarning)``.
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
