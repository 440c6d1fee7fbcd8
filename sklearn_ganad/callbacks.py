"""skorch callbacks of the package, usable in any detector's ``callbacks=``."""

from __future__ import annotations

import sys

from skorch.callbacks import Callback
from tqdm import tqdm

from ._net import epoch_losses

__all__ = ["EpochProgressBar"]


class EpochProgressBar(Callback):
    """skorch callback: one tqdm bar per training call, advanced once per epoch.

    The bar is written to ``sys.stderr`` (looked up when training starts) and
    shows the last epoch's losses as its postfix.

    Parameters
    ----------
    stages : list of (str, int or None) or None, default=None
        Label and number of epochs of each successive training call of the
        net (f-AnoGAN, for one, trains its GAN with ``fit`` and then its
        encoder with ``partial_fit``); ``None`` epochs are read from the net
        when the call starts (``GANNet.planned_epochs_``), which is how
        ``max_epochs="auto"`` is shown. Calls beyond the list, or every call
        when ``None``, are labelled ``"training"``.
    """

    def __init__(self, stages=None):
        self.stages = stages

    def initialize(self):
        """Reset the count of training calls; skorch calls it before ``fit``.

        Returns
        -------
        self : EpochProgressBar
        """
        self.n_training_calls_ = 0
        self.bar_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Open the bar of this training call.

        Parameters
        ----------
        net : skorch.NeuralNet
        X, y : Ignored
        **kwargs : dict
            Ignored.
        """
        stages = list(self.stages or [])
        call = getattr(self, "n_training_calls_", 0)
        label, epochs = stages[call] if call < len(stages) else ("training", None)
        if epochs is None:
            epochs = getattr(net, "planned_epochs_", net.max_epochs)
        self.n_training_calls_ = call + 1
        self.bar_ = tqdm(
            total=epochs, desc=label, unit="epoch", file=sys.stderr, leave=True, disable=False
        )

    def on_epoch_end(self, net, **kwargs):
        """Advance the bar by one epoch and show the epoch's losses.

        Parameters
        ----------
        net : skorch.NeuralNet
        **kwargs : dict
            Ignored.
        """
        if getattr(self, "bar_", None) is None:
            return
        self.bar_.set_postfix(_short_losses(net.history[-1]), refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Close the bar.

        Parameters
        ----------
        net : skorch.NeuralNet
        X, y : Ignored
        **kwargs : dict
            Ignored.
        """
        if getattr(self, "bar_", None) is not None:
            self.bar_.close()
        self.bar_ = None

    def __getstate__(self):
        # A bar holds a stream; a pickled (saved) net keeps none.
        state = dict(self.__dict__)
        state["bar_"] = None
        return state


def _short_losses(epoch: dict) -> dict:
    """The losses of one epoch of skorch's history, with short names, formatted."""
    losses = {}
    for key, value in epoch_losses(epoch).items():
        name = "loss" if key == "train_loss" else key.removeprefix("train_loss_")
        losses[name] = f"{value:.4g}"
    return losses
