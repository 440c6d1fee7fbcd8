"""Warnings and errors raised by sklearn_ganad."""


class TrainingDivergedWarning(UserWarning):
    """Training stopped because a loss became NaN or infinite.

    The networks are restored to the last state whose parameters and losses
    were all finite (the end of the last complete epoch, or the initial
    weights when the first epoch diverged), so the fitted detector still gives
    finite scores.
    """
