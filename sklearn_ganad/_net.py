"""The skorch machinery that trains every method adversarially.

* :class:`AdversarialModel` is the base of each method's bundle of networks:
  it names the *players* (groups of networks that share an optimizer and a
  loss), computes each player's loss, and the anomaly score.
* :class:`GANNet` is a skorch ``NeuralNet`` that holds that bundle as its
  ``module_``, builds one optimizer per player, and alternates the players'
  updates in ``train_step``.

Keeping every network inside one ``module_`` is deliberate: skorch moves,
checkpoints (``Checkpoint(f_params=...)``), restores (``EarlyStopping(
load_best=True)``, ``LoadInitState``) and pickles ``module_``, so all the
networks of a GAN travel together.
"""

from __future__ import annotations

import contextlib
import copy
import linecache
import math
import sys
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    LRScheduler,
    PassthroughScoring,
    ProgressBar,
)
from skorch.dataset import ValidSplit, get_len, unpack_data
from skorch.utils import TeeGenerator, to_tensor
from torch import nn
from tqdm.auto import tqdm

from .exceptions import TrainingDivergedWarning, TrainingInterruptedWarning
from .utils._distributed import average_, broadcast_, process_group_size, shared_seed
from .utils._rows import ScaledRows
from .utils._torch import at_least_float32, frozen
from .utils._warnings import external_stacklevel

__all__ = ["AdversarialModel", "GANNet", "ArrayBatchIterator", "ModelLosses"]


class AdversarialModel(nn.Module):
    """Base class of a method's networks and objective.

    Subclasses set :attr:`player_networks`, implement one ``loss_<player>(x,
    handoff)`` method per player (see :meth:`player_loss`) and
    :meth:`anomaly_score`; the forward pass returns the anomaly score
    (higher = more anomalous), so skorch's ``net.forward(X)`` scores data.

    Attributes
    ----------
    player_networks : dict of str to tuple of str
        For each player, in update order, the names of the sub-modules it
        trains. Each player gets one optimizer. A sub-module the model was
        built without (set to None, as ALAD's D_zz without the latent cycle)
        trains nothing.
    main_player : str
        The player whose loss skorch records as ``train_loss``.
    loss_terms : tuple of str
        Names of the loss components :meth:`player_loss` reports; each is
        recorded per batch and per epoch as ``train_<name>``.
    adversary_players : tuple of str
        The players whose networks judge the others' (the discriminators,
        f-AnoGAN's critic): a coupled ensemble
        (:class:`~sklearn_ganad.CoupledEnsembleModel`) shuffles them between
        its members.
    score_every_pair : bool
        Whether a coupled ensemble scores a row with every (member,
        adversary) pair, as Han et al. do, or each member with its own
        adversary only: a score that does not read the adversary networks
        (GANomaly's) or whose cost is a search per pair (AnoGAN's) does the
        latter.

    These attributes are class attributes in every method's model:
    declarations, read by the net before any batch. A variant whose players
    or terms differ is a subclass (AnoGAN's WGAN-GP training is
    :class:`~sklearn_ganad.WassersteinAnoGANModel`). A
    :class:`~sklearn_ganad.CoupledEnsembleModel` copies its members' onto the
    instance.
    """

    player_networks: dict = {}
    main_player: str = "generator"
    loss_terms: tuple = ()
    adversary_players: tuple = ("discriminator",)
    score_every_pair: bool = True

    @property
    def players(self) -> tuple:
        """The players, in the order they are updated on each batch."""
        return tuple(self.player_networks)

    @property
    def active_players(self) -> tuple:
        """The players trained in the current stage (all of them by default).

        Two-stage methods (f-AnoGAN trains an encoder after its GAN) narrow
        this; every player keeps its optimizer throughout.
        """
        return self.players

    def sample_latent(self, x: torch.Tensor) -> torch.Tensor:
        """Draw one latent code per row of ``x`` from the prior N(0, I).

        Parameters
        ----------
        x : torch.Tensor of shape (n, ...)
            Sets the number of codes, their device and dtype.

        Returns
        -------
        z : torch.Tensor of shape (n, latent_dim)
        """
        return torch.randn(len(x), self.latent_dim, device=x.device, dtype=x.dtype)

    def player_parameters(self, player: str) -> Iterator[tuple[str, nn.Parameter]]:
        """Yield ``(name, parameter)`` for every parameter ``player`` trains.

        Parameters
        ----------
        player : str

        Yields
        ------
        name : str
        parameter : torch.nn.Parameter
        """
        for module_name in self.player_networks[player]:
            network = getattr(self, module_name)
            if network is None:
                continue
            for name, param in network.named_parameters():
                yield f"{module_name}.{name}", param

    def update_every(self, player: str) -> int:
        """Update ``player`` on one batch in this many (1: every batch).

        WGAN-style training updates the generator once per several critic
        steps, each on a fresh batch.

        Parameters
        ----------
        player : str

        Returns
        -------
        every : int
        """
        return 1

    def player_loss(self, player: str, x: torch.Tensor, handoff: dict):
        """Return the loss that ``player`` minimises on the batch ``x``.

        Every model defines its players the same way: ``player_networks``
        names them (in update order) and their networks, and for each player
        ``p`` a method ``loss_p(x, handoff)`` returns its loss (``loss_generator``,
        ``loss_discriminator``, ...); this method only dispatches to it.

        Parameters
        ----------
        player : str
        x : torch.Tensor of shape (n, n_features)
            The batch, on the training device.
        handoff : dict
            Shared by the players during one batch, in update order: what a
            player leaves for a later one (GANomaly's generator leaves its
            detached reconstruction ``"x_hat"`` for the discriminator).

        Returns
        -------
        loss : torch.Tensor (scalar)
        terms : dict of str to torch.Tensor
            Named components to record in the history (see ``loss_terms``).
        """
        return getattr(self, f"loss_{player}")(x, handoff)

    def after_losses_read(self, losses: dict, net: GANNet) -> bool:
        """Hook called each time the net reads the training losses back to the host.

        Training never waits for the device to report a loss: the losses stay
        on the device and are read in one go every ``net.loss_sync_every``
        batches (see :class:`GANNet`). A rule that depends on a loss's value
        (GANomaly re-initialises a discriminator that has won outright) acts
        here, on the values of the batches since the last read.

        Parameters
        ----------
        losses : dict of str to list of float
            Each player that stepped since the last read: its losses, in order.
        net : GANNet

        Returns
        -------
        changed : bool
            True when the hook changed weights outside the optimizers (so that
            data-parallel processes share the change).
        """
        return False

    def validation_loss(self, x: torch.Tensor) -> torch.Tensor:
        """Return a label-free loss on held-out normal data (lower is better).

        The default is the mean anomaly score, the early-stopping criterion
        of the ALAD code. Called without gradients, in evaluation mode.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)

        Returns
        -------
        loss : torch.Tensor (scalar)
        """
        return self.anomaly_score(x).mean()

    def anomaly_score(self, x: torch.Tensor) -> torch.Tensor:
        """Return the paper's anomaly score (higher = more anomalous).

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)

        Returns
        -------
        score : torch.Tensor of shape (n,)
        """
        raise NotImplementedError

    def score_parts(self, x: torch.Tensor):
        """Split :meth:`anomaly_score` into per-feature terms and the rest.

        ``feature_terms.sum(1) + remainder(x)`` equals :meth:`anomaly_score`
        (up to rounding): ``feature_terms`` are the score's own terms that are
        a sum over input features (a reconstruction residual's), and the
        remainder is what is not (a discriminator's or a latent term), which
        :meth:`BaseGANDetector.feature_contributions` spreads over the features.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)

        Returns
        -------
        feature_terms : torch.Tensor of shape (n, n_features) or None
            None when the score has no per-feature term.
        remainder : callable or None
            ``remainder(points)``, differentiable, gives the remainder at
            inputs ``points`` of x's shape, with what the score fixes for x
            held fixed (AnoGAN's searched code); None when the score is a sum
            over features.
        reconstruction : torch.Tensor of shape (n, n_features)
            What :meth:`reconstruct` returns: the remainder is spread along
            the way from it to x.

        Notes
        -----
        The default treats the whole score as the remainder, which any
        differentiable score supports; a model whose score has per-feature
        terms (a reconstruction residual) overrides it to keep them exact.
        """
        return None, self.anomaly_score, self.reconstruct(x)[1]

    def reconstruct(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the latent code of each row and the row rebuilt from it.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)

        Returns
        -------
        code : torch.Tensor of shape (n, latent_dim)
        reconstruction : torch.Tensor of shape (n, n_features)
        """
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return :meth:`anomaly_score`."""
        return self.anomaly_score(x)


class ArrayBatchIterator:
    """Mini-batches sliced from one in-memory tensor.

    skorch's default ``DataLoader`` indexes and collates one sample at a
    time; this iterator takes a whole batch with one tensor index, so the
    data pipeline costs no Python work per sample. A final batch of a single
    sample is merged into the previous one, because batch normalisation
    cannot train on one sample.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Subset of one
        Holds the array ``X`` to iterate over.
    batch_size : int
    shuffle : bool, default=False
        Draw a new order each epoch from torch's global generator (which
        the estimators seed).

    Notes
    -----
    :class:`GANNet` places an in-memory array of at most
    ``device_resident_bytes`` on the training device once per training call
    (:meth:`to_device`), so that no batch is copied from the host, and for
    data-parallel training gives each process its share of every batch
    (:meth:`shard`).
    """

    #: Largest in-memory array moved to an accelerator whole (1 GiB).
    device_resident_bytes = 2**30

    def __init__(self, dataset, batch_size: int, shuffle: bool = False):
        rows = _dataset_array(dataset)
        # In memory: one tensor, indexed per batch. Memory-mapped: rows read
        # (and scaled) a batch at a time.
        self.X = torch.from_numpy(rows) if isinstance(rows, np.ndarray) else rows
        self.batch_size = max(1, int(batch_size))
        self.shuffle = shuffle
        self.rank, self.world_size, self.generator = 0, 1, None
        self.batch_rows = None

    def to_device(self, device) -> ArrayBatchIterator:
        """Keep an in-memory array on ``device`` (if small enough).

        Parameters
        ----------
        device : str or torch.device or None

        Returns
        -------
        self : ArrayBatchIterator
        """
        device = torch.device(device or "cpu")
        in_memory = isinstance(self.X, torch.Tensor)
        small = in_memory and self.X.numel() * self.X.element_size() <= self.device_resident_bytes
        if device.type != "cpu" and small:
            self.X = self.X.to(device)
        return self

    def shard(self, rank: int, world_size: int, generator=None) -> ArrayBatchIterator:
        """Yield only process ``rank``'s part of every batch.

        Every process draws the same order (from ``generator``, seeded alike
        on all of them) and takes one of ``world_size`` contiguous, nearly
        equal parts of each batch, so that the processes together see each
        batch once. A final batch too small to give every process two rows
        is merged into the previous one.

        Parameters
        ----------
        rank, world_size : int
        generator : torch.Generator or None

        Returns
        -------
        self : ArrayBatchIterator
        """
        self.rank, self.world_size, self.generator = int(rank), int(world_size), generator
        return self

    def _bounds(self) -> list[tuple[int, int]]:
        n = len(self.X)
        # Batch normalisation needs two rows on every process.
        smallest = 2 * self.world_size if self.world_size > 1 else 2
        if self.world_size > 1 and n < smallest:
            raise ValueError(
                f"{n} rows cannot be shared by {self.world_size} processes: each needs at "
                "least 2 rows per batch."
            )
        starts = list(range(0, n, self.batch_size))
        bounds = [(start, min(start + self.batch_size, n)) for start in starts]
        if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < smallest:
            bounds[-2:] = [(bounds[-2][0], n)]
        return bounds

    def __len__(self) -> int:
        return len(self._bounds())

    def __iter__(self):
        order = torch.randperm(len(self.X), generator=self.generator) if self.shuffle else None
        in_memory = isinstance(self.X, torch.Tensor)
        if order is not None and in_memory and order.device != self.X.device:
            order = order.to(self.X.device)  # once per epoch
        for start, stop in self._bounds():
            self.batch_rows = stop - start  # the whole batch's rows, all processes'
            if self.world_size > 1:
                start, stop = _share_of(start, stop, self.rank, self.world_size)
            if order is None:
                rows = self.X[start:stop]
            else:
                rows = self.X[order[start:stop] if in_memory else order[start:stop].numpy()]
            yield (rows if in_memory else torch.from_numpy(rows)), None


def _share_of(start: int, stop: int, rank: int, world_size: int) -> tuple[int, int]:
    """Process ``rank``'s contiguous part of the rows ``[start, stop)``."""
    size, extra = divmod(stop - start, world_size)
    first = start + rank * size + min(rank, extra)
    return first, first + size + (rank < extra)


class _RowSubset:
    """Some rows of a :class:`~sklearn_ganad.utils._rows.ScaledRows`, read on demand."""

    def __init__(self, rows, indices: np.ndarray):
        self.rows, self.indices = rows, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index) -> np.ndarray:
        return self.rows[self.indices[index]]


def _dataset_array(dataset):
    """The rows of a skorch Dataset (or a Subset of one): an array, or rows read on demand."""
    if isinstance(dataset, torch.utils.data.Subset):
        rows = _dataset_array(dataset.dataset)
        indices = np.asarray(dataset.indices)
        return rows[indices] if isinstance(rows, np.ndarray) else _RowSubset(rows, indices)
    X = getattr(dataset, "X", None)
    if isinstance(X, ScaledRows):
        return X
    if not isinstance(X, np.ndarray):
        raise TypeError(
            "ArrayBatchIterator needs a skorch Dataset holding a numpy array, "
            f"got {type(dataset).__name__}."
        )
    # A read-only input is copied once, so torch may share it.
    return np.require(X, dtype=np.float32, requirements=["C", "W"])


class ModelLosses(nn.Module):
    """GANNet's criterion: a placeholder, as the model computes its own losses."""

    def forward(self, *args, **kwargs):
        """Raise: the losses are computed by the AdversarialModel."""
        raise RuntimeError(
            "GANNet's losses are computed by AdversarialModel.player_loss, not by the criterion."
        )


class _TrainingDiverged(Exception):
    """Raised inside the fit loop; ``cause`` completes "Training diverged in epoch k: ..."."""

    def __init__(self, cause: str):
        super().__init__(cause)
        self.cause = cause


class GANNet(NeuralNet):
    """skorch net with one optimizer per player and alternating updates.

    The ``module`` is an :class:`AdversarialModel`. Each player (a group of
    its networks) gets its own optimizer: the main player's is skorch's
    ``optimizer_`` and the others are ``optimizer_<player>_``, configured by
    ``optimizer__*`` (shared) and ``optimizer_<player>__*`` (overrides).
    On every batch the players step in turn; while one player steps, the
    other players' parameters are frozen, so no gradient is computed for
    them. Every loss is recorded per batch and averaged per epoch in
    ``history`` (``train_loss`` is the main player's loss,
    ``train_loss_<player>`` the others', ``train_<term>`` the components).

    Training never waits on the device for a loss: each step leaves its
    losses on the device, and the host reads them, checks that they are
    finite and writes them into ``history`` in one transfer every
    ``loss_sync_every`` batches (by default every batch on the CPU, where a
    read waits for nothing, and once per epoch on an accelerator, where a
    read per step would make the host wait for the device after every step).

    Training that diverges stops with a
    :class:`~sklearn_ganad.exceptions.TrainingDivergedWarning` and the
    networks and optimizers are restored to the end of the last sane epoch
    (or to their initial state): a loss or weight that becomes NaN or
    infinite, or runaway training that stays finite, checked after every
    epoch: a weight whose magnitude exceeds ``weight_bound`` times the
    largest at the start of training (at least 1), or a player's mean loss
    magnitude that exceeds ``loss_jump`` times its first epoch's (at least
    0.1). Both bounds are class attributes: no sane training reaches them.
    A non-finite loss is found when the losses are read, so the steps since
    the last read are discarded with the rest of the epoch.

    A ``KeyboardInterrupt`` (Ctrl-C) stops training as skorch does (``fit``
    returns), but not silently: a
    :class:`~sklearn_ganad.exceptions.TrainingInterruptedWarning` names the
    epoch reached, the epoch's history row records ``interrupted=True``, and
    ``interrupted_`` is True until the next training call. A callback that
    ends training on purpose with ``raise KeyboardInterrupt`` (skorch's
    ``EarlyStopping``) is not an interruption: no warning.

    skorch's ``LRScheduler`` drives every player's optimizer with the same
    policy; ``EarlyStopping(load_best=True)`` and ``Checkpoint(f_params=...)``
    cover all networks because they live in ``module_``. To resume from a
    checkpoint, also save the other optimizers, e.g.
    ``Checkpoint(f_optimizer_discriminator="opt_d.pt")``.

    Parameters
    ----------
    module : AdversarialModel instance or class
    criterion : torch.nn.Module class, default=ModelLosses
        A placeholder: the losses belong to the model. It exists so that
        skorch's save/load machinery (``Checkpoint``, ``LoadInitState``)
        finds the ``criterion_`` it expects.
    ema_decay : float in [0, 1) or None, default=None
        Keep an exponential moving average of every network's weights,
        updated after each batch, and use it for validation and, once
        training ends, as the model's weights (the EGBAD and ALAD code test
        with such averages). The averages are buffers of ``module_``, so
        checkpoints hold them. The decay warms up as
        ``min(ema_decay, (1 + t) / (10 + t))`` after ``t`` updates, as
        TensorFlow's ``ExponentialMovingAverage`` with ``num_updates``, so
        short runs are not stuck near the initial weights. Batch-norm
        statistics are not averaged.
    loss_sync_every : int, "epoch" or "auto", default="auto"
        Read the training losses back to the host every this many batches
        (``"epoch"``: once, at the end of each epoch). ``"auto"`` is 1 on the
        CPU and ``"epoch"`` on any other device. Between reads nothing waits:
        the per-batch history, the divergence check and
        :meth:`AdversarialModel.after_losses_read` catch up at each read.
    precision : {"32", "bf16", "16"}, default="32"
        Arithmetic of every player's step, of validation and of scoring:
        float32 (``"32"``), or mixed precision under :func:`torch.autocast`
        in bfloat16 (``"bf16"``) or float16 (``"16"``, with one
        :class:`torch.amp.GradScaler` per player, ``grad_scalers_``). The
        weights and the optimizers' state stay in float32.
    distributed : {"auto"} or bool, default="auto"
        Train data-parallel over the ``torch.distributed`` process group:
        ``"auto"`` when one of more than one process is initialised, ``True``
        always (an error without one), ``False`` never. Every process calls
        ``fit`` with the same data and parameters; each computes its share
        of every batch (``batch_size`` is the batch of all processes
        together), gradients and losses are averaged over the processes at
        every step, batch-norm statistics at the end of every epoch, and the
        processes start from rank 0's weights, so they hold the same weights
        throughout and each ends with the same fitted model.
    **kwargs
        Any other :class:`skorch.NeuralNet` parameter. The defaults differ
        from skorch's where a GAN needs it: ``optimizer=torch.optim.Adam``,
        ``train_split=None``, ``predict_nonlinearity=None``,
        ``use_caching=False`` and :class:`ArrayBatchIterator` as iterator.
    """

    #: Runaway bound on weights, relative to the largest at the start of training.
    weight_bound = 1e3
    #: Runaway bound on a player's mean loss magnitude, relative to its first epoch's.
    loss_jump = 1e4

    def __init__(
        self,
        module,
        criterion=ModelLosses,
        optimizer=torch.optim.Adam,
        train_split=None,
        iterator_train=ArrayBatchIterator,
        iterator_valid=ArrayBatchIterator,
        predict_nonlinearity=None,
        use_caching=False,
        ema_decay=None,
        loss_sync_every="auto",
        precision="32",
        distributed="auto",
        **kwargs,
    ):
        kwargs.setdefault("iterator_train__shuffle", True)
        self.ema_decay = ema_decay
        self.loss_sync_every = loss_sync_every
        self.precision = precision
        self.distributed = distributed
        super().__init__(
            module,
            criterion,
            optimizer=optimizer,
            train_split=train_split,
            iterator_train=iterator_train,
            iterator_valid=iterator_valid,
            predict_nonlinearity=predict_nonlinearity,
            use_caching=use_caching,
            **kwargs,
        )

    def __setstate__(self, state):
        # Nets pickled before these parameters existed trained this way.
        state.setdefault("loss_sync_every", "auto")
        state.setdefault("precision", "32")
        state.setdefault("distributed", "auto")
        super().__setstate__(state)

    # -- components -------------------------------------------------------

    def _model_class_attr(self, name):
        return getattr(self.module, name)

    @property
    def _default_callbacks(self):
        callbacks = list(super()._default_callbacks)
        main = self._model_class_attr("main_player")
        names = [f"train_loss_{p}" for p in self._model_class_attr("player_networks") if p != main]
        names += [f"train_{term}" for term in self._model_class_attr("loss_terms")]
        extra = [(name, PassthroughScoring(name=name, on_train=True)) for name in names]
        # Epoch-level losses must be computed before PrintLog prints them.
        return callbacks[:-1] + extra + callbacks[-1:]

    def optimizer_name(self, player: str) -> str:
        """Return the attribute prefix of ``player``'s optimizer.

        Parameters
        ----------
        player : str

        Returns
        -------
        name : str
            ``"optimizer"`` for the main player, ``"optimizer_<player>"`` else.
        """
        main = self._model_class_attr("main_player")
        return "optimizer" if player == main else f"optimizer_{player}"

    def initialize(self):
        """Initialise as skorch does, and start counting training batches afresh."""
        self.train_batches_ = 0
        return super().initialize()

    def get_iterator(self, dataset, training=False):
        """skorch's iterator; an :class:`ArrayBatchIterator` is placed on the device
        and, for data-parallel training, sharded."""
        iterator = super().get_iterator(dataset, training=training)
        if isinstance(iterator, ArrayBatchIterator):
            iterator.to_device(self.device)
            if training and self._data_parallel_size() > 1:
                iterator.shard(self._rank_, self._world_size_, self._shuffle_generator_)
        return iterator

    def _device_type(self) -> str:
        """``"cpu"``, ``"cuda"``, ... of the training device."""
        return torch.device(self.device or "cpu").type

    def _data_parallel_size(self) -> int:
        """Processes sharing this training call (1 outside one)."""
        return self.__dict__.get("_world_size_", 1)

    def _autocast(self):
        """The ``torch.autocast`` context of ``precision`` (none for ``"32"``)."""
        if self.precision not in _AUTOCAST_DTYPES:
            raise ValueError(
                f"precision must be one of {sorted(_AUTOCAST_DTYPES)}; got {self.precision!r}."
            )
        dtype = _AUTOCAST_DTYPES[self.precision]
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self._device_type(), dtype=dtype)

    def initialize_optimizer(self, *args, **kwargs):
        """Build one optimizer per player over that player's parameters.

        With ``precision="16"`` each player also gets a gradient scaler
        (``grad_scalers_``), since float16 gradients underflow unscaled.
        """
        shared = self.get_params_for("optimizer")
        shared.pop("param_groups", None)
        for player in self.module_.players:
            name = self.optimizer_name(player)
            groups, options = self.get_params_for_optimizer(
                name, self.module_.player_parameters(player)
            )
            options = {**shared, **options} if name != "optimizer" else options
            setattr(self, name + "_", self.optimizer(*groups, **options))
        self.grad_scalers_ = {}
        if self.precision == "16":
            for player in self.module_.players:
                self._grad_scaler(player)
        return self

    def initialize_callbacks(self):
        """Initialise callbacks; an ``LRScheduler`` drives every player's optimizer.

        Each skorch ``LRScheduler`` (or subclass) in ``callbacks`` is wrapped
        in a :class:`~sklearn_ganad.callbacks.PlayerLRScheduler`; the user's
        instance is not changed.
        """
        from .callbacks import PlayerLRScheduler  # callbacks imports this module

        super().initialize_callbacks()
        self.callbacks_ = [
            (name, PlayerLRScheduler(cb) if isinstance(cb, LRScheduler) else cb)
            for name, cb in self.callbacks_
        ]
        return self

    # -- training ----------------------------------------------------------

    def _idle_parameters(self, player):
        # Computed once per fit: walking the module tree on every step costs
        # as much as a small network's forward pass.
        cached = self.__dict__.setdefault("_idle_parameters_", {})
        if player not in cached:
            own = {id(p) for _, p in self.module_.player_parameters(player)}
            cached[player] = [p for p in self.module_.parameters() if id(p) not in own]
        return cached[player]

    def _player_step(self, player, x, handoff, batch):
        """One optimizer step of ``player``; its loss and terms stay on the device."""
        model = self.module_
        optimizer = getattr(self, self.optimizer_name(player) + "_")
        scaler = self._grad_scaler(player) if self.precision == "16" else None
        with frozen(self._idle_parameters(player)):
            optimizer.zero_grad(set_to_none=True)
            with self._autocast():
                loss, terms = model.player_loss(player, x, handoff)
            if scaler is None:
                loss.backward()
            else:
                scaler.scale(loss).backward()
            if self._data_parallel_size() > 1:
                grads = [p.grad for _, p in model.player_parameters(player) if p.grad is not None]
                average_(grads, self._world_size_)
            if scaler is not None:
                # Callbacks (gradient clipping) see the true gradients.
                scaler.unscale_(optimizer)
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(model.player_parameters(player)),
                batch=batch,
                training=True,
            )
            if scaler is None:
                optimizer.step()
            else:
                scaler.step(optimizer)  # skipped when a gradient is not finite
                scaler.update()
        # Read later, with the other steps' losses (see _read_losses).
        values = torch.stack([t.detach().float() for t in (loss, *terms.values())])
        return loss.detach().float(), tuple(terms), values

    def train_step(self, batch, **fit_params):
        """Update every player once (or as scheduled) on one batch.

        Parameters
        ----------
        batch : tuple
            ``(X, None)`` from the iterator.
        **fit_params : dict
            Unused.

        Returns
        -------
        step : dict
            ``{"loss": main player's loss, "y_pred": None}``.
        """
        if not self.module_.training:
            # Only after evaluation (validation, a scoring callback): setting
            # the mode on every batch walks the whole module tree each time.
            self._set_training(True)
        Xi, _ = unpack_data(batch)
        x = to_tensor(Xi, device=self.device)
        model = self.module_
        main = model.main_player
        # Counted over the whole training, not per epoch: a player that steps
        # every few batches must step even when an epoch (a small table, a
        # partial_fit chunk) has fewer batches than that.
        batch_index = getattr(self, "train_batches_", 0)
        self.train_batches_ = batch_index + 1
        handoff: dict = {}  # what one player leaves for the next, this batch
        active = model.active_players
        batch_record = self.history[-1]["batches"][-1]
        unread = self.__dict__.setdefault("_unread_losses_", [])
        for player in active:
            every = model.update_every(player)
            if (batch_index + 1) % every and every > 1:
                continue
            loss, term_names, values = self._player_step(player, x, handoff, batch)
            if player == main:
                self._last_main_loss_ = loss
            # The main player's loss is recorded as train_loss by run_single_epoch.
            names = (None if player == main else f"train_loss_{player}",)
            names += tuple(f"train_{term}" for term in term_names)
            unread.append((batch_record, player, names, values))
        if self.ema_decay is not None:
            if "_average_updates_" not in self.__dict__:  # a step outside fit
                self._average_updates_ = int(getattr(model, _AVERAGE_PREFIX + "updates"))
            _update_weight_average(model, self.ema_decay, self._average_updates_)
            self._average_updates_ += 1
        if main not in active:
            # A stage that does not train the main player: train_loss is the
            # loss of the last player that stepped.
            return {"loss": loss, "y_pred": None}
        if self._last_main_loss_ is None:
            # The main player has not stepped yet (it updates every few
            # batches): report its current loss, without training it (and in
            # evaluation mode, so batch-norm statistics do not move).
            self._set_training(False)
            with torch.no_grad(), self._autocast():
                self._last_main_loss_ = model.player_loss(main, x, handoff)[0].detach().float()
            self._set_training(True)
        return {"loss": self._last_main_loss_, "y_pred": None}

    def _grad_scaler(self, player):
        """``player``'s gradient scaler, made on first use (``precision`` may be set late)."""
        scalers = self.__dict__.setdefault("grad_scalers_", {})
        if player not in scalers:
            scalers[player] = torch.amp.GradScaler(self._device_type())
        return scalers[player]

    def _settle_grad_scalers(self):
        """Forget a step a Ctrl-C cut short (a scaler between unscale_ and update).

        Such a scaler refuses to pickle and to unscale again; its scale and
        growth tracker are kept.
        """
        for player, scaler in list(self.__dict__.get("grad_scalers_", {}).items()):
            if scaler._per_optimizer_states:
                fresh = torch.amp.GradScaler(self._device_type())
                fresh.load_state_dict(scaler.state_dict())
                self.grad_scalers_[player] = fresh

    def _sync_interval(self):
        """Batches between two reads of the losses (0: once per epoch)."""
        every = self.loss_sync_every
        if every == "auto":
            return 1 if self._device_type() == "cpu" else 0
        if every == "epoch":
            return 0
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(
                f"loss_sync_every must be a positive int, 'epoch' or 'auto'; got {every!r}."
            )
        return every

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run one epoch of training or validation as skorch does, reading losses in bulk.

        skorch reads each batch's loss (``loss.item()``) as it goes, which
        makes the host wait for the device after every step; here the
        losses are collected on the device and read every
        ``loss_sync_every`` batches and at the end of the epoch.
        """
        if iterator is None:
            return
        interval = self._sync_interval()
        batch_count = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            record = self.history[-1]["batches"][-1]
            loss = step["loss"].detach().reshape(1)
            self.__dict__.setdefault("_unread_losses_", []).append(
                (record, None, (f"{prefix}_loss",), loss)
            )
            rows = batch[0] if isinstance(batch, tuple | list) else batch
            # Data-parallel: the batch of all processes, so that every process
            # weighs the batches (PassthroughScoring's epoch means) alike.
            size = getattr(iterator, "batch_rows", None) or get_len(rows)
            self.history.record_batch(f"{prefix}_batch_size", size)
            batch_count += 1
            if interval and batch_count % interval == 0:
                self._read_losses()
            self.notify("on_batch_end", batch=batch, training=training, **step)
        self._read_losses()
        if training and self._data_parallel_size() > 1:
            # Each process's batch-norm statistics saw its own rows.
            average_(self._running_statistics(), self._world_size_)
        self.history.record(f"{prefix}_batch_count", batch_count)

    def _take_rank0_state(self):
        """Overwrite every parameter and buffer of ``module_`` with rank 0's."""
        with torch.no_grad():
            broadcast_([t.data for t in (*self.module_.parameters(), *self.module_.buffers())])

    def _running_statistics(self):
        """Floating-point buffers other than the weight averages (batch-norm statistics)."""
        return [
            buffer for name, buffer in self.module_.named_buffers()
            if buffer.is_floating_point() and not name.startswith(_AVERAGE_PREFIX)
        ]  # fmt: skip

    def _start_data_parallel(self):
        """Join the process group: rank 0's weights, a shared order, per-process noise."""
        if self.batch_size < 2 * self._world_size_:
            raise ValueError(
                f"batch_size={self.batch_size} is shared by {self._world_size_} processes; "
                f"it must be at least {2 * self._world_size_} (two rows per process)."
            )
        device = next(self.module_.parameters()).device
        self._take_rank0_state()
        seed = shared_seed(device)
        # The same batch order on every process; its own latent draws and dropout.
        self._shuffle_generator_ = torch.Generator().manual_seed(seed)
        own_seed = (seed + 1 + self._rank_) % 2**63
        # The CPU generator and this process's device only (``seeded`` restores both).
        torch.default_generator.manual_seed(own_seed)
        if device.type == "cuda":
            with torch.cuda.device(device):
                torch.cuda.manual_seed(own_seed)

    def _read_losses(self, check=True):
        """Copy the losses left on the device into ``history``, in one transfer.

        Raises ``_TrainingDiverged`` (with ``check``) at the first non-finite
        training loss, and hands each player's losses to
        :meth:`AdversarialModel.after_losses_read`.
        """
        unread = self.__dict__.get("_unread_losses_")
        if not unread:
            return
        self._unread_losses_ = []
        flat = torch.cat([values.float() for *_, values in unread])
        if check and self._data_parallel_size() > 1:
            # Every process then records, checks and acts on the same values.
            average_([flat], self._world_size_)
        flat = flat.tolist()
        position = 0
        by_player: dict = {}
        for record, player, names, _ in unread:
            values = flat[position : position + len(names)]
            position += len(names)
            for name, value in zip(names, values, strict=True):
                if name is not None:
                    record[name] = value
            if player is None:
                continue
            if check and not all(math.isfinite(v) for v in values):
                raise _TrainingDiverged(f"the {player} loss became {values[0]}")
            by_player.setdefault(player, []).append(values[0])
        if check and by_player:
            changed = self.module_.after_losses_read(by_player, self)
            if changed and self._data_parallel_size() > 1:
                self._take_rank0_state()

    def validation_step(self, batch, **fit_params):
        """Return the model's validation loss on a held-out batch.

        With ``train_split`` set, ``valid_loss`` is
        :meth:`AdversarialModel.validation_loss` on held-out (normal) data: a
        label-free quantity to monitor with ``EarlyStopping`` or ``Checkpoint``.

        Parameters
        ----------
        batch : tuple
        **fit_params : dict
            Unused.

        Returns
        -------
        step : dict
            ``{"loss": validation loss, "y_pred": None}``.
        """
        self._set_training(False)
        Xi, _ = unpack_data(batch)
        with torch.no_grad(), _averaged_weights(self.module_), self._autocast():
            loss = self.module_.validation_loss(to_tensor(Xi, device=self.device))
        return {"loss": loss.float(), "y_pred": None}

    # -- divergence guard -------------------------------------------------

    def _state_is_finite(self) -> bool:
        """Whether every weight and buffer is finite; one host-device sync."""
        tensors = [*self.module_.parameters(), *self.module_.buffers()]
        checks = [torch.isfinite(t).all() for t in tensors if t.is_floating_point()]
        return bool(torch.stack(checks).all()) if checks else True

    def _largest_weight(self) -> float:
        """The largest weight magnitude of every network; one sync."""
        weights = [p.detach() for p in self.module_.parameters() if p.is_floating_point()]
        if not weights:
            return 0.0
        return float(torch.stack([w.abs().amax() for w in weights if w.numel()]).amax())

    def _epoch_loss_magnitudes(self) -> dict:
        """Mean ``|loss|`` of each player over this epoch's batches."""
        batches = self.history[-1]["batches"]
        names = {name for batch in batches for name in batch if name.startswith("train_loss")}
        return {
            name: float(np.mean([abs(b[name]) for b in batches if name in b])) for name in names
        }

    def _runaway_cause(self):
        """Why this epoch's state is not sane (None if it is); see the class docstring."""
        if not self._state_is_finite():
            return "the parameters became non-finite"
        largest = self._largest_weight()
        bound = self.weight_bound * max(1.0, self._initial_weight_scale_)
        if largest > bound:
            return (
                f"a weight reached {largest:.3g}, beyond {bound:.3g} ({self.weight_bound:g} "
                "times the largest initial weight): runaway training"
            )
        magnitudes = self._epoch_loss_magnitudes()
        reference = self.__dict__.setdefault("_loss_reference_", magnitudes)
        for name, magnitude in sorted(magnitudes.items()):
            first = max(reference.get(name, magnitude), 0.1)
            if magnitude > self.loss_jump * first:
                return (
                    f"the mean |{name}| reached {magnitude:.3g}, more than {self.loss_jump:g} "
                    f"times its first epoch's ({reference.get(name, magnitude):.3g}): runaway "
                    "training"
                )
        return None

    def _take_snapshot(self):
        # Taken after every epoch: a clone of the tensors, not a deepcopy of
        # the state dicts, which costs more than a short epoch itself.
        self._finite_state_ = {
            "module": _clone_tensors(self.module_.state_dict()),
            "optimizers": {
                name: _clone_tensors(getattr(self, name + "_").state_dict())
                for name in self._optimizers
            },
            "epoch": len(self.history),
        }

    def _restore_snapshot(self):
        state = self._finite_state_
        self.module_.load_state_dict(state["module"])
        for name, optimizer_state in state["optimizers"].items():
            getattr(self, name + "_").load_state_dict(optimizer_state)
        return state["epoch"]

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Remember the initial, finite state and the scale of its weights."""
        self._last_main_loss_ = None
        self._unread_losses_ = []
        self._idle_parameters_ = {}
        self._settle_grad_scalers()
        self._rank_, self._world_size_ = process_group_size(self.distributed)
        if self._world_size_ > 1:
            self._start_data_parallel()
        self.__dict__.pop("_loss_reference_", None)
        self._set_training(True)
        if self.ema_decay is not None and not _has_weight_average(self.module_):
            _attach_weight_average(self.module_)
        if self.ema_decay is not None:
            # One read per training call; each step then counts on the host.
            self._average_updates_ = int(getattr(self.module_, _AVERAGE_PREFIX + "updates"))
        self._initial_weight_scale_ = self._largest_weight()
        self._take_snapshot()

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Start the epoch's history row; the first of a call records its planned epochs.

        ``planned_epochs`` is what ``max_epochs="auto"`` resolved to (or the
        ``epochs`` of a ``partial_fit``), so the history shows the budget.
        """
        super().on_epoch_begin(net, dataset_train=dataset_train, dataset_valid=dataset_valid)
        if getattr(self, "_first_epoch_of_call_", False):
            self.history.record("planned_epochs", self.planned_epochs_)
            self._first_epoch_of_call_ = False

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Remember the state of each sane epoch; stop on a non-finite or runaway one."""
        cause = self._runaway_cause()
        if cause is not None:
            raise _TrainingDiverged(cause)
        self._take_snapshot()

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Drop the snapshot, which is only needed while training."""
        for name in (
            "_finite_state_", "_last_main_loss_", "_idle_parameters_", "_first_epoch_of_call_",
            "_initial_weight_scale_", "_loss_reference_", "_unread_losses_",
            "_average_updates_", "_rank_", "_world_size_", "_shuffle_generator_",
        ):  # fmt: skip
            self.__dict__.pop(name, None)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train as skorch does; then, with ``ema_decay``, adopt the averaged weights.

        The averages are copied in after every ``on_train_end`` callback, so
        that ``EarlyStopping(load_best=True)`` first restores the best epoch
        (its weights and their averages).
        """
        # What this call will train for, for callbacks such as a progress bar:
        # on_train_begin runs before fit_loop receives ``epochs``.
        self.planned_epochs_ = fit_params.get("epochs") or self.max_epochs
        self._first_epoch_of_call_ = True
        self.interrupted_ = False
        self._epochs_before_call_ = len(self.history) if getattr(self, "history_", None) else 0
        super().partial_fit(X, y, classes=classes, **fit_params)
        if self.ema_decay is not None and _has_weight_average(self.module_):
            _adopt_weight_average(self.module_)
        return self

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """Run skorch's fit loop; on divergence restore a finite state and warn."""
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except _TrainingDiverged as diverged:
            epoch = len(self.history)
            restored = self._restore_snapshot()
            self.history.record("diverged", True)
            where = f"the end of epoch {restored}" if restored else "their initial weights"
            lr = f" (lr={self.lr:g})" if isinstance(self.lr, float | int) else ""
            warnings.warn(
                f"Training diverged in epoch {epoch}: {diverged.cause}. Training stopped and "
                f"the networks were restored to {where}. Lower the learning rate{lr} or "
                "scale the inputs.",
                TrainingDivergedWarning,
                stacklevel=external_stacklevel(),
            )
            return self
        except KeyboardInterrupt as interruption:
            self._read_losses(check=False)  # keep the losses of the steps taken
            self._settle_grad_scalers()
            if not _raised_by_a_callback(interruption):
                self._note_interruption()
            raise  # skorch's partial_fit ends training as on any interruption

    def _note_interruption(self):
        """Record a Ctrl-C in history and warn; keep a sane state."""
        self.interrupted_ = True
        epoch = len(self.history)
        if epoch:
            self.history.record("interrupted", True)
        if not self._state_is_finite():
            self._restore_snapshot()
        planned = self.planned_epochs_
        in_call = epoch - self._epochs_before_call_
        done = max(in_call - 1, 0)
        warnings.warn(
            f"Training was interrupted (KeyboardInterrupt) in epoch {in_call} of {planned}, "
            f"after {done} complete epoch{'s' * (done != 1)}; the networks keep the weights "
            "reached so far. Fit again to train in full.",
            TrainingInterruptedWarning,
            stacklevel=external_stacklevel(),
        )

    # -- scoring ------------------------------------------------------------

    def anomaly_scores(self, X: np.ndarray, chunk_size: int, exact: bool = True) -> np.ndarray:
        """Score ``X`` chunk by chunk, so that memory stays flat as ``X`` grows.

        A row's score should not depend on the rows scored with it, but BLAS
        kernels round a row differently depending on its position and on the
        batch size. With ``exact`` (on the CPU) the networks are evaluated in
        float64, on a copy, which shrinks those differences to about 1e-16.
        Otherwise they stay in float32 for speed, and every chunk is padded to
        ``chunk_size`` rows so that all rows go through kernels of one shape;
        differences then stay at float32 rounding (about 1e-7 relative).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float32
        chunk_size : int
        exact : bool, default=True
            Score in float64; ignored (float32) off the CPU.

        Returns
        -------
        scores : ndarray of shape (n_samples,), float64
            The anomaly scores (higher = more anomalous).
        """
        (scores,) = self._evaluate_in_chunks(
            X, lambda model, x: (model.anomaly_score(x),), chunk_size, exact, np.float64
        )
        return scores

    def reconstructions(
        self, X: np.ndarray, chunk_size: int, exact: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Latent codes and reconstructions of ``X``, chunk by chunk.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float32
        chunk_size : int
        exact : bool, default=True
            Evaluate in float64 on the CPU, as :meth:`anomaly_scores`.

        Returns
        -------
        codes : ndarray of shape (n_samples, latent_dim), float32
            What the model's :meth:`AdversarialModel.reconstruct` returns as
            the code of each row.
        reconstructions : ndarray of shape (n_samples, n_features), float32
        """
        return self._evaluate_in_chunks(
            X, lambda model, x: model.reconstruct(x), chunk_size, exact, np.float32
        )

    def feature_contributions(self, X: np.ndarray, chunk_size: int, exact: bool = True):
        """Per-feature contributions to the anomaly score of ``X``, chunk by chunk.

        See :func:`feature_contributions`.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float32
        chunk_size : int
        exact : bool, default=True
            Evaluate in float64 on the CPU, as :meth:`anomaly_scores`.

        Returns
        -------
        contributions : ndarray of shape (n_samples, n_features), float64
        """
        (contributions,) = self._evaluate_in_chunks(
            X, lambda model, x: (feature_contributions(model, x),), chunk_size, exact, np.float64
        )
        return contributions

    def _evaluate_in_chunks(self, X, function, chunk_size, exact, out_dtype):
        """Apply ``function(model, chunk)`` to fixed-size chunks of ``X``.

        ``function`` returns a tuple of tensors whose first dimension is the
        chunk's rows; the results are gathered into arrays of ``out_dtype``.
        """
        self.check_is_fitted()
        self._set_training(False)
        # Mixed precision scores at that precision, not in float64.
        exact = exact and torch.device(self.device).type == "cpu" and self.precision == "32"
        model = copy.deepcopy(self.module_).double().eval() if exact else self.module_
        dtype = torch.float64 if exact else torch.float32
        n_samples = X.shape[0]
        outputs = None
        # A bar for long work only: verbose, on a terminal, more than one chunk.
        show = bool(self.verbose) and n_samples > chunk_size and sys.stderr.isatty()
        bar = tqdm(total=n_samples, desc="scoring", unit="row", file=sys.stderr, leave=False,
                   disable=not show)  # fmt: skip
        with torch.no_grad(), bar, self._autocast():
            for start in range(0, n_samples, chunk_size):
                stop = min(start + chunk_size, n_samples)
                # A view of an in-memory array; a copy of a memory-mapped or
                # read-only one (torch cannot share those), one chunk at a time.
                rows = np.require(X[start:stop], dtype=np.float32, requirements=["C", "W"])
                chunk = torch.from_numpy(rows).to(dtype)
                if not exact and stop - start < chunk_size:
                    # Padding rows are evaluated and dropped; in evaluation
                    # mode they do not affect the other rows.
                    chunk = torch.cat([chunk, chunk.new_zeros(chunk_size - len(chunk), X.shape[1])])
                results = function(model, chunk.to(self.device))
                if outputs is None:
                    outputs = tuple(
                        np.empty((n_samples, *r.shape[1:]), dtype=out_dtype) for r in results
                    )
                for output, result in zip(outputs, results, strict=True):
                    # Half precisions have no numpy dtype.
                    output[start:stop] = at_least_float32(result[: stop - start]).cpu().numpy()
                bar.update(stop - start)
        return outputs


def feature_contributions(model: AdversarialModel, x: torch.Tensor, n_steps: int = 16):
    """Each feature's part of each row's anomaly score; a row's parts sum to its score.

    The score's per-feature terms (:meth:`AdversarialModel.score_parts`:
    a reconstruction residual's) are taken as they are. The remainder R (a
    discriminator's or a latent term) is spread over the features in
    proportion to the size of their integrated gradients from the
    reconstruction x̂ to x: ``|(x_j - x̂_j) * mean_k dR/dx_j(x̂ + a_k (x -
    x̂))|`` over ``n_steps`` points ``a_k`` of (0, 1) (the midpoint rule).
    Integrated gradients split the change ``R(x) - R(x̂)``; here the whole of
    ``R(x)`` is split in proportion to their sizes, an approximation that
    keeps every part non-negative and the total exact. A row where they are
    zero everywhere is spread by ``|x_j - x̂_j|``, and one reconstructed
    exactly, evenly.

    Parameters
    ----------
    model : AdversarialModel
        In evaluation mode.
    x : torch.Tensor of shape (n, n_features)
    n_steps : int, default=16
        Points on the way from x̂ to x; 1 is the gradient at its middle.

    Returns
    -------
    contributions : torch.Tensor of shape (n, n_features)
        Non-negative for the package's scores, which are sums of
        non-negative terms.
    """
    with torch.enable_grad():
        x = x.detach()
        feature_terms, remainder, reconstruction = model.score_parts(x)
        contributions = torch.zeros_like(x) if feature_terms is None else feature_terms.detach()
        if remainder is None:
            return contributions
        reconstruction = reconstruction.detach()
        difference = x - reconstruction
        gradient = torch.zeros_like(x)
        for step in range(n_steps):
            point = (reconstruction + (step + 0.5) / n_steps * difference).requires_grad_(True)
            (step_gradient,) = torch.autograd.grad(remainder(point).sum(), point, allow_unused=True)
            if step_gradient is None:  # a remainder that does not depend on x
                break
            gradient += step_gradient
        total = remainder(x).detach()
    weights = (gradient * difference).abs()
    for fallback in (difference.abs(), torch.ones_like(difference)):
        weights = torch.where(weights.sum(1, keepdim=True) > 0, weights, fallback)
    shares = weights / weights.sum(1, keepdim=True)
    return contributions + total[:, None] * shares


def _raised_by_a_callback(interruption: KeyboardInterrupt) -> bool:
    """Whether a callback ended training on purpose, as skorch's ``EarlyStopping`` does.

    skorch's convention for "stop now" is a callback that executes ``raise
    KeyboardInterrupt``. A Ctrl-C is raised by the signal handler wherever
    the program happens to be, almost never on such a statement.
    """
    traceback = interruption.__traceback__
    if traceback is None:
        return False
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    frame = traceback.tb_frame
    if not isinstance(frame.f_locals.get("self"), Callback):
        return False
    line = linecache.getline(frame.f_code.co_filename, traceback.tb_lineno).strip()
    return line.startswith("raise")


def _clone_tensors(state):
    """Copy a (nested) state dict: tensors cloned, containers rebuilt."""
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, dict):
        return type(state)((key, _clone_tensors(value)) for key, value in state.items())
    if isinstance(state, (list, tuple)):
        return type(state)(_clone_tensors(value) for value in state)
    return state


# precision -> torch.autocast's dtype (None: float32, no autocast).
_AUTOCAST_DTYPES = {"32": None, "bf16": torch.bfloat16, "16": torch.float16}

# History entries that are bookkeeping, not losses.
_HISTORY_BOOKKEEPING = {
    "epoch", "dur", "train_batch_count", "valid_batch_count", "planned_epochs",
}  # fmt: skip


def epoch_losses(epoch: dict) -> dict[str, float]:
    """The losses recorded in one epoch of a :class:`GANNet`'s history.

    Every float entry that is not bookkeeping (duration, batch counts) or a
    ``*_best`` flag: ``train_loss``, ``valid_loss``, each player's loss and
    each named term (``train_loss_adv``, ``train_wasserstein_distance``, ...).
    """
    return {
        key: float(value)
        for key, value in epoch.items()
        if isinstance(value, (float, np.floating))
        and not key.endswith("_best")
        and key not in _HISTORY_BOOKKEEPING
    }


_AVERAGE_PREFIX = "weight_average__"


def _average_name(parameter_name: str) -> str:
    return _AVERAGE_PREFIX + parameter_name.replace(".", "__")


def _has_weight_average(model: nn.Module) -> bool:
    return hasattr(model, _AVERAGE_PREFIX + "updates")


def _attach_weight_average(model: nn.Module) -> None:
    for name, param in model.named_parameters():
        model.register_buffer(_average_name(name), param.detach().clone())
    model.register_buffer(_AVERAGE_PREFIX + "updates", torch.zeros((), dtype=torch.long))


def _weight_average_pairs(model: nn.Module):
    params, averages = [], []
    for name, param in model.named_parameters():
        params.append(param)
        averages.append(getattr(model, _average_name(name)))
    return params, averages


def _update_weight_average(model: nn.Module, decay: float, t: int) -> None:
    """Move the averages towards the weights; ``t`` is the updates so far (kept on
    the host, so that the step reads nothing back from the device)."""
    updates = getattr(model, _AVERAGE_PREFIX + "updates")
    weight = 1.0 - min(decay, (1.0 + t) / (10.0 + t))
    params, averages = _weight_average_pairs(model)
    with torch.no_grad():
        torch._foreach_lerp_(averages, [p.detach() for p in params], weight)
    updates += 1


@contextlib.contextmanager
def _averaged_weights(model: nn.Module):
    """Use the averaged weights inside the block (no-op without averages)."""
    if not _has_weight_average(model):
        yield
        return
    params, averages = _weight_average_pairs(model)
    saved = [p.detach().clone() for p in params]
    _copy_into(params, averages)
    try:
        yield
    finally:
        _copy_into(params, saved)


def _adopt_weight_average(model: nn.Module) -> None:
    _copy_into(*_weight_average_pairs(model))


def _copy_into(targets, sources) -> None:
    with torch.no_grad():
        torch._foreach_copy_(targets, sources)


def build_callbacks(callbacks, verbose: int, *, restore_best_weights: bool = False) -> list:
    """Return the user's callbacks, plus the ones the estimator's settings ask for.

    Parameters
    ----------
    callbacks : list or None
        skorch callbacks (instances or ``(name, callback)`` pairs), deep-copied
        so that fitting never mutates the estimator's parameters.
    verbose : int
        A progress bar is added when ``verbose >= 2``.
    restore_best_weights : bool, default=False
        Add ``"restore_best_weights"``: skorch's ``EarlyStopping`` on
        ``valid_loss`` that never stops training and, at its end, loads the
        weights (and weight averages) of the epoch with the lowest
        ``valid_loss``.

    Returns
    -------
    callbacks : list
    """
    callbacks = copy.deepcopy(list(callbacks or []))
    if restore_best_weights:
        restorer = EarlyStopping(
            monitor="valid_loss",
            patience=sys.maxsize,  # select the best epoch, never stop early
            threshold=0.0,
            threshold_mode="abs",
            load_best=True,
            sink=_discard,
        )
        callbacks.append(("restore_best_weights", restorer))
    if verbose >= 2:
        callbacks.append(("progress_bar", ProgressBar()))
    return callbacks


def _discard(*args, **kwargs):
    """A skorch ``sink`` that prints nothing."""


def make_train_split(validation_fraction, seed: int):
    """Return skorch's ``train_split`` for an optional validation fraction.

    Parameters
    ----------
    validation_fraction : float in (0, 1) or None
    seed : int

    Returns
    -------
    train_split : ValidSplit or None
    """
    if validation_fraction is None:
        return None
    return ValidSplit(validation_fraction, stratified=False, random_state=seed)
