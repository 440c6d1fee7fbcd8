"""skorch callbacks of the package, usable in any detector's ``callbacks=``."""

from __future__ import annotations

import sys

from skorch.callbacks import Callback
from tqdm import tqdm

from ._net import epoch_losses

__all__ = ["EpochProgressBar", "PlayerLRScheduler"]


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


class _OptimizerView:
    """The net as one scheduler copy sees it: ``optimizer_`` is one player's optimizer.

    Every other attribute (``history``, ``verbose``, ...) is the net's own.
    """

    def __init__(self, net, optimizer):
        self._net = net
        self.optimizer_ = optimizer

    def __getattr__(self, name):
        if name.startswith("__") or name == "_net":  # unpickling asks before _net is set
            raise AttributeError(name)
        return getattr(self._net, name)


class PlayerLRScheduler(Callback):
    """Drive every player's optimizer with its own copy of a skorch ``LRScheduler``.

    skorch's :class:`~skorch.callbacks.LRScheduler` builds one scheduler, on
    ``net.optimizer_``; a :class:`~sklearn_ganad.GANNet` has one optimizer
    per player. This callback makes one copy of ``scheduler`` per optimizer
    (``type(scheduler)(**scheduler.get_params())``, so a subclass keeps its
    behaviour) and forwards each of the scheduler's hooks to every copy,
    with a view of the net whose ``optimizer_`` is that copy's optimizer.
    Only the main player's copy records the learning rate in ``history``
    (under the scheduler's ``event_name``).

    You rarely create it yourself: a ``GANNet`` wraps every ``LRScheduler``
    given in ``callbacks`` in one, so ``LRScheduler(policy=StepLR,
    step_size=10)`` lowers every player's rate.

    Parameters
    ----------
    scheduler : skorch.callbacks.LRScheduler
        The scheduler to apply to every player; not modified.
    """

    def __init__(self, scheduler):
        self.scheduler = scheduler

    def initialize(self):
        """Forget the copies of a previous training call."""
        self.schedulers_ = []
        return self

    def on_train_begin(self, net, **kwargs):
        """Make and start one copy of the scheduler per optimizer of ``net``."""
        self.schedulers_ = []
        for name in net._optimizers:
            params = self.scheduler.get_params()
            if name != "optimizer":  # the main player's is skorch's "optimizer"
                params["event_name"] = None
            copy = type(self.scheduler)(**params).initialize()
            view = _OptimizerView(net, getattr(net, name + "_"))
            copy.on_train_begin(view, **kwargs)
            self.schedulers_.append((copy, view))

    def on_epoch_end(self, net, **kwargs):
        """Step every copy (with ``step_every="epoch"``)."""
        for copy, view in self.schedulers_:
            copy.on_epoch_end(view, **kwargs)

    def on_batch_end(self, net, **kwargs):
        """Step every copy (with ``step_every="batch"``)."""
        for copy, view in self.schedulers_:
            copy.on_batch_end(view, **kwargs)
