"""The estimator base shared by every GAN anomaly detector of the package."""

from __future__ import annotations

import math
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._coupled import CoupledEnsembleModel
from ._net import GANNet, build_callbacks, make_train_split
from ._version import __version__
from .exceptions import ConstantScoresWarning, InconsistentVersionWarning
from .networks import NetworkSpec
from .utils._distributed import process_group_size, shared_seed
from .utils._rows import ScaledRows, is_memory_mapped, iter_blocks
from .utils._torch import (
    call_seed,
    draw_seed,
    fused_adam_supported,
    limited_threads,
    resolve_device,
    seeded,
)
from .utils._validation import (
    FLOAT32_MAX,
    check_image_shape,
    check_image_shape_matches,
    check_not_ragged,
    check_numeric_columns,
    check_widths,
    count_beyond_float32,
)
from .utils._warnings import external_stacklevel

__all__ = ["BaseGANDetector"]

# The scalers of ``preprocessing``, fitted on the training data.
_SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler}

# feature_clip="auto" under "standard" scaling, in standard deviations: on
# KDDCUP99 (one-hot columns of standard deviation 0.002, test values 11,000
# deviations out) it raised every tabular method's F1; on the ADBench suite it
# changes only rows beyond it (see the user guide's "Training budgets").
_AUTO_FEATURE_CLIP = 10.0

# Bounded output layers and the range of data they can reproduce.
_OUTPUT_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


class OffsetThresholdMixin:
    """``decision_function`` and ``predict`` from ``score_samples`` and ``offset_``.

    scikit-learn's outlier convention, written once for every estimator of the
    package that sets ``offset_``: ``decision_function = score_samples -
    offset_`` (negative for outliers) and ``predict`` gives -1 where it is
    negative, +1 elsewhere.
    """

    def decision_function(self, X):
        """Return ``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like, see :meth:`fit`

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Return +1 for inliers and -1 for outliers.

        Parameters
        ----------
        X : array-like, see :meth:`fit`

        Returns
        -------
        is_inlier : ndarray of shape (n_samples,)
        """
        return self._labels(self.decision_function(X))

    @staticmethod
    def _labels(decision):
        is_inlier = np.ones(decision.shape[0], dtype=int)
        is_inlier[decision < 0] = -1
        return is_inlier


class BaseGANDetector(OffsetThresholdMixin, OutlierMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the GAN anomaly detectors.

    It implements scikit-learn's outlier-detector contract once:
    ``score_samples`` is minus the paper's anomaly score (higher = more
    normal), ``decision_function = score_samples - offset_`` (negative for
    outliers), ``predict`` returns +1 for inliers and -1 for outliers, and
    ``offset_`` is the ``contamination`` percentile of the training scores.

    It validates the data (tables as 2-D arrays or DataFrames; images as 2-D
    with ``image_shape``, or as 3-D/4-D arrays), seeds torch from
    ``random_state`` without touching the global random state, builds the
    method's :class:`~sklearn_ganad.AdversarialModel`, trains it in a
    :class:`~sklearn_ganad.GANNet` held as ``net_``, and scores in
    fixed-size chunks.

    Subclasses implement :meth:`_build_model` and may extend
    ``_parameter_constraints`` and ``_net_params``.
    """

    _parameter_constraints: dict = {
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "preprocessing": [StrOptions({"auto", "standard", "minmax"}), None],
        "feature_clip": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"}), None],
        "architecture": [StrOptions({"auto", "mlp", "conv", "paper"})],
        "image_shape": [tuple, list, None],
        "latent_dim": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "hidden_layer_sizes": [tuple, list],
        "conv_channels": [tuple, list, StrOptions({"auto"})],
        "output_activation": [StrOptions({"auto", "linear", "tanh", "sigmoid"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "betas": [tuple, list],
        "validation_fraction": [
            Interval(Real, 0, 1, closed="neither"),
            StrOptions({"auto"}),
            None,
        ],
        "restore_best_weights": ["boolean", StrOptions({"auto"})],
        "ensemble_size": [Interval(Integral, 1, None, closed="left")],
        "precision": [StrOptions({"32", "bf16", "16"})],
        "distributed": ["boolean", StrOptions({"auto"})],
        "device": [str, None],
        "n_threads": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
    }

    # The training calls ``fit`` makes, in order, by label (one unnamed call
    # for most methods); progress bars and reports read it, so that no caller
    # branches on a method.
    _training_stages = ("",)
    # The papers' latent sizes per input kind, used by latent_dim="auto".
    _auto_latent_dim = {"mlp": 32, "conv": 100}
    # latent_dim="auto" on tables: at most this share of the features (and at
    # least 2), so that the code is narrower than the rows it encodes; None
    # keeps the paper's size however narrow the table (see _auto_latent).
    _auto_latent_feature_share = None
    # Rows per scoring chunk: small enough to keep memory flat as n grows,
    # and fixed per model (see GANNet.anomaly_scores).
    _score_chunk_size = {"mlp": 4096, "conv": 256}
    # Score perceptrons in float64 on the CPU (exactly invariant to the other
    # rows; about 2x the cost of float32); convolutions in float32, for which
    # float64 costs about 4x on the CPU.
    _exact_scores = {"mlp": True, "conv": False}
    # The score is one forward pass of the networks (so it exports as one
    # ONNX graph); AnoGAN's is a latent search.
    _score_is_one_pass = True
    # max_epochs="auto": about this many optimisation steps (mini-batches) per
    # network family, in whole epochs, at most _auto_max_epochs of them. A
    # step budget rather than an epoch count keeps small tables from being
    # undertrained and large ones from taking hours (see the user guide's
    # "Training budgets").
    _auto_train_steps = {"mlp": 2000, "conv": 1000}
    _auto_max_epochs = 1000
    # ... and at least this many epochs: 2,000 steps show each row of a
    # table above about 20,000 rows only two to four times. The floor raised
    # ALAD's KDDCUP99 F1 (50,000 rows, three seeds: 0.883 to 0.898) and
    # GANomaly's ROC AUC on five large ADBench tables (0.904 to 0.911).
    # Images keep the step budget alone: longer training ranked the BiGANs
    # worse on MNIST (the user guide's "Training budgets"). AnoGAN has none.
    _auto_min_epochs = {"mlp": 5, "conv": 1}
    # lr="auto": Adam's step size per network family, large enough to train
    # within the step budget (the BiGAN papers' 1e-5 needs hundreds of
    # thousands of steps), DCGAN's 2e-4 for convolutions.
    _auto_lr = {"mlp": 1e-3, "conv": 2e-4}
    # restore_best_weights="auto": keep the epoch with the lowest valid_loss
    # per network family, where the suite measured a gain from it (EGBAD's
    # tables); validation_fraction="auto" then holds out this share.
    _auto_restore_best_weights = {"mlp": False, "conv": False}
    _auto_validation_fraction = 0.1
    # ... where the held-out rows would number at least this many: one row,
    # or more where a small held-out split chose worse epochs (GANomaly).
    _auto_restore_min_rows = 1
    # Values of parameters added after the first release that reproduce how
    # models fitted before them behave; a model file without the parameter
    # loads with this value rather than the current default.
    _legacy_params = {"preprocessing": None, "restore_best_weights": False, "feature_clip": None}
    # partial_fit keeps a uniform sample (reservoir sampling) of at most this
    # many of the rows it has seen, per network family, and sets offset_ on
    # them with the model as it stands after each call.
    _threshold_sample_size = {"mlp": 10_000, "conv": 2_000}

    @abstractmethod
    def __init__(
        self,
        *,
        contamination,
        preprocessing,
        architecture,
        image_shape,
        latent_dim,
        hidden_layer_sizes,
        conv_channels,
        output_activation,
        max_epochs,
        batch_size,
        lr,
        betas,
        validation_fraction,
        # A default, so that subclasses written before it keep working.
        restore_best_weights="auto",
        ensemble_size=1,
        precision="32",
        distributed="auto",
        feature_clip="auto",
        device,
        n_threads,
        random_state,
        verbose,
        callbacks,
    ):
        self.contamination = contamination
        self.preprocessing = preprocessing
        self.feature_clip = feature_clip
        self.architecture = architecture
        self.image_shape = image_shape
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.conv_channels = conv_channels
        self.output_activation = output_activation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.betas = betas
        self.validation_fraction = validation_fraction
        self.restore_best_weights = restore_best_weights
        self.ensemble_size = ensemble_size
        self.precision = precision
        self.distributed = distributed
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    # -- input validation --------------------------------------------------

    def __sklearn_is_fitted__(self):
        # Fitted means trained: a fit that failed half-way leaves none of this.
        return hasattr(self, "offset_") and hasattr(self, "net_")

    def _validate_X(self, X, *, reset):
        """Validate ``X`` and return it scaled, as a float32 2-D array.

        With ``reset`` the scaler is fitted on ``X``.
        """
        X = self._check_X(X, reset=reset)
        if reset:
            self._fit_scaler(X)
        return self._scale(X)

    def _fit_scaler(self, X):
        """Fit ``scaler_`` (or set it to None) on validated ``X``.

        A memory-mapped ``X`` is read block by block.
        """
        self.scaler_ = _SCALERS[self.preprocessing_]() if self.preprocessing_ else None
        if self.scaler_ is None:
            return
        for block in iter_blocks(X) if is_memory_mapped(X) else [X]:
            self.scaler_.partial_fit(block)

    def _scale(self, X):
        """Apply the fitted scaler (if any) to validated ``X``.

        A memory-mapped ``X`` is not read here: it is wrapped so that the
        rows training and scoring ask for are read and scaled then.
        """
        transforms = self.scaler_ is not None or self.feature_clip_ is not None
        if is_memory_mapped(X):
            return ScaledRows(X, self._scale_block if transforms else None)
        return self._scale_block(X)

    def _scale_block(self, X):
        if self.scaler_ is not None:
            X = self.scaler_.transform(X).astype(np.float32, copy=False)
            if self.feature_clip_ is not None:
                np.clip(X, -self.feature_clip_, self.feature_clip_, out=X)  # our own copy
        elif self.feature_clip_ is not None:
            X = np.clip(X, -self.feature_clip_, self.feature_clip_)  # not the caller's array
        return X

    def _check_X(self, X, *, reset):
        """Validate ``X`` and return it, unscaled, as a float32 2-D array.

        3-D ``(n, H, W)`` and 4-D ``(n, C, H, W)`` arrays are flattened after
        their image shape is checked (or recorded, when ``reset``).
        """
        image_shape = None
        check_numeric_columns(X)
        if not hasattr(X, "ndim") and not isinstance(X, (str, bytes)):
            try:
                X = np.asarray(X)
            except ValueError:
                check_not_ragged(X)  # rows of different lengths: say so
                # otherwise validate_data explains
        if getattr(X, "ndim", 2) >= 3:
            X = np.asarray(X)
            if X.ndim > 4:
                raise ValueError(
                    f"X must be 2-D (n_samples, n_features), 3-D (n, H, W) or 4-D "
                    f"(n, C, H, W); got an array of shape {X.shape}."
                )
            image_shape = (1, *X.shape[1:]) if X.ndim == 3 else tuple(X.shape[1:])
            if reset:
                self._check_images_match_image_shape(image_shape)
            else:
                self._check_images_match_fit(image_shape)
            # Not reshape(n, -1): that cannot infer the width of 0 rows.
            X = X.reshape(X.shape[0], math.prod(X.shape[1:]))
        # float64 stays float64 until its range is checked: casting first would
        # turn 1e300 into inf and blame "infinity" on a file that has none.
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=(np.float32, np.float64),
            ensure_min_samples=2 if reset else 1,
        )
        if X.dtype != np.float32:
            _check_float32_range(X, getattr(self, "feature_names_in_", None))
            X = X.astype(np.float32)
        if reset:
            if image_shape is None and self.image_shape is not None:
                image_shape = check_image_shape(self.image_shape)
                check_image_shape_matches(image_shape, X.shape[1])
            self.image_shape_ = image_shape
            self.preprocessing_ = self._resolve_preprocessing()
            self.feature_clip_ = self._resolve_feature_clip()
        return X

    def _resolve_preprocessing(self):
        """The scaling applied to X: ``"standard"`` for tables under ``"auto"``."""
        if self.preprocessing != "auto":
            return self.preprocessing
        is_image = self.image_shape_ is not None or self.architecture == "conv"
        return None if is_image else "standard"

    def _resolve_feature_clip(self):
        """The bound on the scaled features: ``"auto"`` clips standardised ones only."""
        if self.feature_clip != "auto":
            return None if self.feature_clip is None else float(self.feature_clip)
        return _AUTO_FEATURE_CLIP if self.preprocessing_ == "standard" else None

    def _resolve_epochs(self, epochs, n_samples):
        """Resolve an epoch count, ``"auto"`` by the step budget, for ``n_samples`` rows.

        ``"auto"`` gives ``ceil(steps / batches per epoch)`` epochs, at least
        ``_auto_min_epochs`` and at most ``_auto_max_epochs``, with ``steps``
        the ``_auto_train_steps`` of the network family; the rows held out by
        ``validation_fraction_`` do not count.
        """
        if epochs != "auto":
            return int(epochs)
        steps = self._auto_train_steps[self.architecture_]
        n_train = n_samples * (1.0 - (self.validation_fraction_ or 0.0))
        batches = max(1, math.ceil(n_train / self.batch_size))
        floor = self._auto_min_epochs[self.architecture_]
        return int(min(max(floor, math.ceil(steps / batches)), self._auto_max_epochs))

    def _check_images_match_image_shape(self, image_shape):
        if self.image_shape is not None and check_image_shape(self.image_shape) != image_shape:
            raise ValueError(
                f"X holds images of shape {image_shape} (C, H, W), but image_shape is "
                f"{check_image_shape(self.image_shape)}."
            )

    def _check_images_match_fit(self, image_shape):
        if self.image_shape_ is None:
            raise ValueError(
                "The detector was fitted on tabular data (2-D X without image_shape); "
                "pass 2-D X with the same features, not images."
            )
        if self.image_shape_ != image_shape:
            raise ValueError(
                f"X holds images of shape {image_shape} (C, H, W), but the detector was "
                f"fitted on {self.image_shape_}."
            )

    def _check_parameters(self):
        """Checks of parameters the constraints cannot express; no data needed."""
        betas = tuple(self.betas)
        if len(betas) != 2 or not all(isinstance(b, Real) and 0 <= b < 1 for b in betas):
            raise ValueError(f"betas must be two floats in [0, 1), got {self.betas!r}.")
        check_widths("hidden_layer_sizes", self.hidden_layer_sizes)
        if self.conv_channels != "auto":
            check_widths("conv_channels", self.conv_channels)
        if self.image_shape is not None:
            check_image_shape(self.image_shape)
        resolve_device(self.device)
        restore = self.restore_best_weights
        if restore != "auto" and restore and self.validation_fraction is None:
            raise ValueError(
                "restore_best_weights=True keeps the epoch with the lowest valid_loss, which "
                "needs held-out rows: set validation_fraction (or leave it 'auto')."
            )
        if self.n_threads == 0:
            raise ValueError(
                "n_threads=0 runs nothing: use a positive number of threads, -1 for one per "
                "CPU, or None for torch's setting."
            )
        process_group_size(self.distributed)  # distributed=True needs a process group

    def _forget_fit(self):
        # A refit starts from nothing, so that a refit that fails leaves an
        # unfitted detector rather than a mix of two fits.
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]:
            delattr(self, name)

    # -- fitting -------------------------------------------------------------

    def _network_spec(self, n_features: int) -> NetworkSpec:
        if self.architecture in ("auto", "paper"):
            kind = "conv" if self.image_shape_ is not None else "mlp"
        else:
            kind = self.architecture
        if kind == "conv" and self.image_shape_ is None:
            raise ValueError(
                "architecture='conv' needs images: pass image_shape=(C, H, W) or 3-D/4-D X."
            )
        return NetworkSpec(
            kind=kind,
            n_features=n_features,
            image_shape=self.image_shape_ if kind == "conv" else None,
            hidden_layer_sizes=check_widths("hidden_layer_sizes", self.hidden_layer_sizes),
            conv_channels=self._resolve_conv_channels(),
        )

    #: The paper's own image networks (``architecture="paper"``), builders by
    #: role; empty where the paper's are DCGAN's. AnoGAN and f-AnoGAN:
    #: "generator" (latent_dim, image_shape, output_activation=) and
    #: "discriminator" (image_shape, negative_slope=); EGBAD and ALAD:
    #: "encoder" and "joint_discriminator" (image_shape, latent_dim,
    #: negative_slope=, spectral_norm=) and "generator".
    _paper_image_networks: dict = {}

    def _uses_paper_networks(self, spec: NetworkSpec) -> bool:
        """Whether the images of ``spec`` get the paper's own layers (``architecture="paper"``)."""
        return spec.kind == "conv" and self.architecture == "paper"

    def _resolve_conv_channels(self) -> tuple:
        """``conv_channels``, ``"auto"`` resolved for the images; sets ``conv_channels_``."""
        if self.conv_channels == "auto":
            image_shape = self.image_shape_
            # Perceptrons use no convolutions: any widths will do.
            channels = (
                NetworkSpec.conv_channels if image_shape is None
                else self._auto_conv_channels(image_shape)
            )  # fmt: skip
        else:
            channels = check_widths("conv_channels", self.conv_channels)
        self.conv_channels_ = tuple(channels)
        return self.conv_channels_

    def _auto_conv_channels(self, image_shape) -> tuple:
        """Widths per resolution level that ``conv_channels="auto"`` gives (DCGAN's)."""
        return NetworkSpec.conv_channels

    def _resolve_output_activation(self, X) -> str:
        activation = self.output_activation
        if activation == "auto":
            activation = "tanh" if self.architecture_ == "conv" else "linear"
        if activation in _OUTPUT_RANGES:
            low, high = _OUTPUT_RANGES[activation]
            tolerance = 1e-3 * (high - low)
            x_min, x_max = _min_max(X)
            if x_min < low - tolerance or x_max > high + tolerance:
                warnings.warn(
                    f"The generator's output layer is {activation}, whose values lie in "
                    f"[{low:g}, {high:g}], but X spans [{x_min:.4g}, {x_max:.4g}]; it cannot "
                    f"reconstruct such data. Scale X to [{low:g}, {high:g}] (for images with "
                    f"values in [0, m]: X / m * {high - low:g} + {low:g}) or set "
                    "output_activation='linear'.",
                    UserWarning,
                    stacklevel=external_stacklevel(),
                )
        return activation

    def _net_params(self) -> dict:
        """Extra skorch parameters of the method's net (optimizer options, etc.)."""
        return {}

    def _train(self, X):
        """Train ``net_`` on validated ``X`` (methods with stages override it)."""
        self.net_.fit(X)

    @abstractmethod
    def _build_model(self, spec: NetworkSpec):
        """Return the method's :class:`~sklearn_ganad.AdversarialModel` for ``spec``."""

    def _build_models(self, spec: NetworkSpec):
        """The model the net trains: the method's, or ``ensemble_size`` of them coupled."""
        if self.ensemble_size == 1:
            return self._build_model(spec)
        # Built one after the other from the seeded generator: the members
        # start from different weights.
        return CoupledEnsembleModel([self._build_model(spec) for _ in range(self.ensemble_size)])

    def _resolve_validation(self, n_samples, *, one_epoch):
        """Set ``restore_best_weights_`` and ``validation_fraction_`` for ``n_samples`` rows.

        ``restore_best_weights="auto"`` is on where the network family's
        default asks for it and the validation split would hold at least
        ``_auto_restore_min_rows`` rows; ``validation_fraction="auto"`` holds out
        ``_auto_validation_fraction`` of the rows when it is on, and none
        otherwise. A training call of ``one_epoch`` (any ``partial_fit``, or
        a fit of one epoch) has no earlier epoch to go back to, so
        ``"auto"`` is off there.
        """
        restore = self.restore_best_weights
        if restore == "auto":
            restore = not one_epoch and self._auto_restore_best_weights[self.architecture_]
            if self.validation_fraction is None:
                restore = False
            else:
                share = self.validation_fraction
                if share == "auto":
                    share = self._auto_validation_fraction
                restore = restore and n_samples * share >= self._auto_restore_min_rows
        fraction = self.validation_fraction
        if fraction == "auto":
            fraction = self._auto_validation_fraction if restore else None
        self.restore_best_weights_ = bool(restore)
        self.validation_fraction_ = fraction
        self._check_validation_rows(n_samples)

    def _auto_latent(self, spec) -> int:
        """The latent size ``latent_dim="auto"`` gives for the network spec ``spec``."""
        latent = self._auto_latent_dim[spec.kind]
        share = self._auto_latent_feature_share
        if spec.kind == "mlp" and share is not None:
            latent = min(latent, max(2, int(spec.n_features * share)))
        return latent

    def _start(self, X, *, incremental=False):
        """Resolve the fitted settings for validated ``X``; return its network spec."""
        spec = self._network_spec(X.shape[1])
        self.architecture_ = spec.kind
        if self.latent_dim == "auto":
            self.latent_dim_ = self._auto_latent(spec)
        else:
            self.latent_dim_ = int(self.latent_dim)
        self.output_activation_ = self._resolve_output_activation(X)
        self._resolve_validation(X.shape[0], one_epoch=incremental or self.max_epochs == 1)
        self.max_epochs_ = self._resolve_epochs(self.max_epochs, X.shape[0])
        auto_restore = self.restore_best_weights_ and self.restore_best_weights == "auto"
        if self.max_epochs_ == 1 and auto_restore:
            # "auto" epochs came to one (a large table): nothing to choose from.
            self._resolve_validation(X.shape[0], one_epoch=True)
            self.max_epochs_ = self._resolve_epochs(self.max_epochs, X.shape[0])
        self.lr_ = self._auto_lr[spec.kind] if self.lr == "auto" else float(self.lr)
        self.device_ = resolve_device(self.device)
        return spec

    def _agreed_seed(self, seed: int) -> int:
        """``seed``, or rank 0's when training data-parallel.

        With ``random_state=None`` each process draws its own seed; they must
        agree, or each would hold out other validation rows.
        """
        _, world_size = process_group_size(self.distributed)
        return shared_seed(self.device_, seed) if world_size > 1 else seed

    def _make_net(self, spec, seed):
        """The method's untrained :class:`~sklearn_ganad.GANNet` (inside ``seeded``)."""
        return GANNet(
            self._build_models(spec),
            max_epochs=self.max_epochs_,
            batch_size=self.batch_size,
            lr=self.lr_,
            optimizer__betas=tuple(self.betas),
            optimizer__fused=fused_adam_supported(self.device_),
            train_split=make_train_split(self.validation_fraction_, seed),
            callbacks=build_callbacks(
                self.callbacks, self.verbose, restore_best_weights=self.restore_best_weights_
            ),
            device=self.device_,
            precision=self.precision,
            distributed=self.distributed,
            verbose=int(self.verbose),
            **self._net_params(),
        )

    def _check_validation_rows(self, n_rows):
        fraction = self.validation_fraction_
        if fraction is not None and n_rows * fraction < 1:
            raise ValueError(
                f"validation_fraction={fraction} of {n_rows} samples leaves no "
                "validation sample; use more data or validation_fraction=None."
            )

    def _record_best_epoch(self):
        """Set ``best_epoch_``: the epoch whose weights the detector kept, or None."""
        self.best_epoch_ = None
        if self.restore_best_weights_:
            restorer = dict(self.net_.callbacks_)["restore_best_weights"]
            # 0 when no epoch had a finite valid_loss: the last weights stay.
            self.best_epoch_ = restorer.best_epoch_ or None

    def _fit(self, X):
        """Fit and return the training data's ``score_samples``."""
        self._forget_fit()
        self._check_parameters()
        X = self._validate_X(X, reset=True)
        spec = self._start(X)
        seed = self._agreed_seed(draw_seed(self.random_state))
        with seeded(seed, self.device_):
            self.net_ = self._make_net(spec, seed)
            self._train(X)
        self._record_best_epoch()
        self._seed_, self._training_calls_ = seed, 1
        self.n_samples_seen_ = X.shape[0]
        scores = self._set_offset(X)
        return scores

    def _set_offset(self, X):
        """Set ``offset_`` from the scores of scaled ``X``; return the scores."""
        scores = -self._anomaly_score(X)
        if not np.all(np.isfinite(scores)):
            del self.net_
            raise ValueError(
                f"{int((~np.isfinite(scores)).sum())} training rows got a non-finite score "
                "although training kept finite weights; the features probably span too many "
                "orders of magnitude for float32 networks. Scale them (e.g. MinMaxScaler)."
            )
        self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))
        _warn_if_constant(scores, self.contamination)
        return scores

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the detector on ``X``, taken to be (mostly) normal data.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features), or array \
of shape (n_samples, H, W) or (n_samples, C, H, W)
            Training data. Rows of a 2-D ``X`` are read as images when
            ``image_shape`` is set.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted detector.
        """
        with limited_threads(self.n_threads):
            self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, **train_params):
        """Train the detector for one more epoch, on ``X`` alone.

        For data that does not fit in memory, or that arrives over time: each
        call trains one epoch (one pass of mini-batches) over the chunk
        ``X``, so ``k`` passes over a table split into chunks train about as
        ``fit`` does with ``max_epochs=k``. The first call sets up the
        detector as ``fit`` does (``max_epochs`` is then not used); later
        calls need the same features. Calling it on a fitted detector goes on
        training that detector.

        - The scaler (``preprocessing``) is fitted on the first chunk and
          then kept, so that the networks learn in one fixed input space: the
          first chunk should be drawn like the rest (shuffled rows, not
          sorted ones) and large enough to estimate each feature's scale.
        - The threshold stays correct as chunks arrive: the detector keeps a
          uniform sample of the rows it has seen (reservoir sampling, at most
          10,000 rows for tables and 2,000 images) and sets ``offset_`` to the
          ``contamination`` percentile of their scores under the model as it
          stands after the call. ``fit`` sets it on all of its rows; after
          ``fit``, the sample holds the rows of the ``partial_fit`` calls.
        - With the same ``random_state`` and the same chunks, the same scores
          result; the first call trains exactly as ``fit`` with
          ``max_epochs=1`` would.

        Parameters
        ----------
        X : array-like, see :meth:`fit`
            One chunk of training data, at least 2 rows.
        y : Ignored
            Not used, present for API consistency by convention.
        **train_params
            Method-specific options (f-AnoGAN's ``stage``).

        Returns
        -------
        self : object
            The detector, trained for one more epoch.
        """
        self._check_train_params(train_params)
        with limited_threads(self.n_threads):
            self._partial_fit(X, train_params)
        return self

    def _check_train_params(self, train_params):
        """Refuse ``partial_fit`` options the method does not have."""
        if train_params:
            raise TypeError(
                f"{type(self).__name__}.partial_fit got unexpected option(s) "
                f"{sorted(train_params)}; it takes X and y only."
            )

    def _partial_fit(self, X, train_params):
        first_call = not self.__sklearn_is_fitted__()
        if first_call:
            self._forget_fit()
            self._check_parameters()
        X = self._check_X(X, reset=first_call)
        if first_call:
            # Fitted on the first chunk, then kept: updating it by chunk moves
            # every input under networks already trained on it (measured on
            # KDDCUP99 in benchmarks/bench_partial_fit.py).
            self._fit_scaler(X)
        else:
            self._check_validation_rows(X.shape[0])
        scaled = self._scale(X)
        if first_call:
            spec = self._start(scaled, incremental=True)
            self.max_epochs_ = 1  # per call
            self._seed_ = self._agreed_seed(draw_seed(self.random_state))
            self._training_calls_ = 0
            self.n_samples_seen_ = 0
        seed = call_seed(self._seed_, self._training_calls_)
        # The first call builds the net and trains it under one seed, as fit does.
        with seeded(seed, self.device_):
            if first_call:
                self.net_ = self._make_net(spec, seed)
            self._train_one_epoch(scaled, **train_params)
        self._record_best_epoch()
        self._training_calls_ += 1
        self._add_to_threshold_sample(X, np.random.default_rng(seed))
        self.n_samples_seen_ += X.shape[0]
        self._set_offset(self._scale(self._threshold_rows_))

    def _train_one_epoch(self, X):
        """Train ``net_`` one epoch on scaled ``X`` (methods with stages override it)."""
        self.net_.partial_fit(X, epochs=1)

    def _add_to_threshold_sample(self, X, rng):
        """Reservoir sampling (Vitter's algorithm R), one chunk at a time.

        Row ``t`` of the stream (0-based) replaces a uniformly drawn slot when
        that slot, drawn from ``[0, t]``, falls inside the sample; applied in
        row order, as numpy's assignment does for repeated slots, this keeps
        a uniform sample of every row seen so far.
        """
        capacity = self._threshold_sample_size[self.architecture_]
        sample = getattr(self, "_threshold_rows_", X[:0])
        seen = self.n_samples_seen_
        room = max(0, capacity - len(sample))
        sample = np.concatenate([sample, X[:room]])
        rest = X[room:]
        if len(rest):
            positions = seen + room + np.arange(len(rest))
            slots = np.floor(rng.random(len(rest)) * (positions + 1)).astype(np.int64)
            kept = slots < capacity
            sample[slots[kept]] = rest[kept]
        self._threshold_rows_ = sample

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X, y=None):
        """Fit on ``X`` and return its labels: +1 for inliers, -1 for outliers.

        The training scores computed for ``offset_`` are reused rather than
        scoring ``X`` a second time.

        Parameters
        ----------
        X : array-like, see :meth:`fit`
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        is_inlier : ndarray of shape (n_samples,)
        """
        with limited_threads(self.n_threads):
            scores = self._fit(X)
        return self._labels(scores - self.offset_)

    # -- scoring -------------------------------------------------------------

    def _anomaly_score(self, X):
        """The paper's anomaly score of validated ``X`` (higher = more anomalous)."""
        return self.net_.anomaly_scores(
            X,
            chunk_size=self._score_chunk_size[self.architecture_],
            exact=self._exact_scores[self.architecture_],
        )

    def _score_samples(self, X):
        """Private version of ``score_samples``, without input validation.

        ``fit`` calls it to set ``offset_`` so that the data is not validated twice.
        """
        anomaly_score = self._anomaly_score(X)
        if not np.all(np.isfinite(anomaly_score)):
            n_bad = int((~np.isfinite(anomaly_score)).sum())
            _, x_max = _min_max(X, absolute=True)
            raise ValueError(
                f"{n_bad} of {len(anomaly_score)} rows got a non-finite score; their values "
                f"are probably far outside the training range (max |x| = "
                f"{x_max:.3g}). Scale the features as for training."
            )
        return -anomaly_score

    def score_samples(self, X):
        """Return the opposite of the paper's anomaly score: higher is more normal.

        Parameters
        ----------
        X : array-like, see :meth:`fit`

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus the anomaly score of each sample.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        with limited_threads(self.n_threads):
            return self._score_samples(X)

    def _latent_and_reconstruction(self, X):
        check_is_fitted(self)
        as_images = getattr(X, "ndim", 2) >= 3
        X = self._validate_X(X, reset=False)
        with limited_threads(self.n_threads):
            codes, reconstructions = self.net_.reconstructions(
                X,
                chunk_size=self._score_chunk_size[self.architecture_],
                exact=self._exact_scores[self.architecture_],
            )
        if self.scaler_ is not None:
            # Back to the units of X, so that X - reconstruct(X) is a residual.
            reconstructions = self.scaler_.inverse_transform(reconstructions)
            reconstructions = reconstructions.astype(np.float32, copy=False)
        if as_images:
            reconstructions = reconstructions.reshape(len(X), *self.image_shape_)
        return codes, reconstructions

    def encode(self, X):
        """Return the latent code the method assigns to each sample.

        GANomaly: the generator's encoding G_E(x); EGBAD, ALAD and f-AnoGAN:
        the encoder's E(x); AnoGAN: the code z* found by the latent search.

        Parameters
        ----------
        X : array-like, see :meth:`fit`

        Returns
        -------
        codes : ndarray of shape (n_samples, ``latent_dim_``), float32
        """
        return self._latent_and_reconstruction(X)[0]

    def reconstruct(self, X):
        """Return each sample as the generator rebuilds it from its code.

        GANomaly: G_D(G_E(x)); EGBAD, ALAD and f-AnoGAN: G(E(x)); AnoGAN:
        G(z*). The residual ``X - reconstruct(X)`` shows where a sample
        differs from what the generator learned to produce.

        Parameters
        ----------
        X : array-like, see :meth:`fit`

        Returns
        -------
        reconstructions : ndarray, float32
            Of shape (n_samples, n_features) for 2-D ``X``, and of shape
            (n_samples, C, H, W) for 3-D or 4-D ``X``.
        """
        return self._latent_and_reconstruction(X)[1]

    # -- explanations --------------------------------------------------------

    def feature_contributions(self, X):
        """Return each feature's part of each sample's anomaly score.

        A row's contributions sum to its anomaly score, ``-score_samples``
        (to float rounding). The terms of the score that are sums over
        features (the reconstruction residual of EGBAD, AnoGAN and f-AnoGAN's
        izi, ALAD's "l1" and "l2") are taken exactly. The rest (a
        discriminator's feature-matching or cross-entropy term, GANomaly's
        latent distance, f-AnoGAN's ziz) is not a sum over features; that
        term R is split over them in proportion to the sizes of their
        integrated gradients along the straight way from the reconstruction
        x̂ to x (16 points), ``|(x_j - x̂_j) * mean_k dR/dx_j(x̂ + a_k (x -
        x̂))|``: an approximation, stated as such (integrated gradients
        split ``R(x) - R(x̂)``; the whole ``R(x)`` is split in their
        proportions). See the user guide's "Explaining scores".

        Contributions are in units of the score, per feature of ``X`` (a
        scaler applies per feature, so feature j stays feature j).

        Parameters
        ----------
        X : array-like, see :meth:`fit`

        Returns
        -------
        contributions : ndarray, float64, non-negative
            Of shape (n_samples, n_features) for 2-D ``X``, and of shape
            (n_samples, C, H, W) for 3-D or 4-D ``X``.
        """
        check_is_fitted(self)
        as_images = getattr(X, "ndim", 2) >= 3
        X = self._validate_X(X, reset=False)
        with limited_threads(self.n_threads):
            contributions = self.net_.feature_contributions(
                X,
                chunk_size=self._score_chunk_size[self.architecture_],
                exact=self._exact_scores[self.architecture_],
            )
        if not np.all(np.isfinite(contributions)):
            n_bad = int((~np.isfinite(contributions)).any(axis=1).sum())
            raise ValueError(
                f"{n_bad} of {len(contributions)} rows got non-finite contributions; their "
                "values are probably far outside the training range. Scale the features as "
                "for training."
            )
        if as_images:
            contributions = contributions.reshape(len(X), *self.image_shape_)
        return contributions

    def anomaly_map(self, X):
        """Return a per-pixel map of each image's anomaly score.

        The map is :meth:`feature_contributions` summed over channels: each
        map sums to the image's anomaly score, ``-score_samples``.

        Parameters
        ----------
        X : array-like of images, see :meth:`fit`
            Images of shape (n, H, W) or (n, C, H, W), or rows of pixels.

        Returns
        -------
        maps : ndarray of shape (n_samples, H, W), float64
        """
        check_is_fitted(self)
        if self.image_shape_ is None:
            raise ValueError(
                f"anomaly_map needs a detector fitted on images (3-D/4-D X or image_shape); "
                f"this {type(self).__name__} was fitted on a table: use "
                "feature_contributions(X) for per-feature contributions."
            )
        contributions = self.feature_contributions(X)
        return contributions.reshape(len(contributions), *self.image_shape_).sum(axis=1)

    # -- pickling ------------------------------------------------------------

    def __getstate__(self):
        state = super().__getstate__()
        state["_sklearn_ganad_version"] = __version__
        return state

    def __setstate__(self, state):
        original_version = state.pop("_sklearn_ganad_version", "unknown")
        if original_version != __version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    original_version=original_version,
                    current_version=__version__,
                ),
                stacklevel=2,
            )
        # A parameter added after the file was written takes its default,
        # which by the package's rule keeps the behaviour the model was fitted
        # with (AnoGAN's gan_loss="standard", say), or, where the default
        # changed behaviour, the value that reproduces the old one.
        for name, default in type(self)().get_params(deep=False).items():
            state.setdefault(name, self._legacy_params.get(name, default))
        if "net_" in state:
            state.setdefault("preprocessing_", None)
            state.setdefault("scaler_", None)
            state.setdefault("feature_clip_", None)
            state.setdefault("max_epochs_", state["max_epochs"])
            state.setdefault("lr_", state["lr"])
            state.setdefault("conv_channels_", tuple(state["conv_channels"]))
            state.setdefault("validation_fraction_", state["validation_fraction"])
            state.setdefault("restore_best_weights_", False)
            state.setdefault("best_epoch_", None)
        super().__setstate__(state)
        net = state.get("net_")
        if net is not None:
            # skorch maps a net saved on a GPU to the CPU when no GPU is
            # available; follow it, so that the detector reports where it runs.
            self.device_ = str(net.device)


def _min_max(X, absolute=False):
    """The smallest and largest value of ``X`` (of ``|X|``), read block by block."""
    lows, highs = [], []
    for block in iter_blocks(X):
        block = np.abs(block) if absolute else block
        lows.append(float(block.min()))
        highs.append(float(block.max()))
    return min(lows), max(highs)


def _warn_if_constant(scores, contamination):
    """Warn when every training score is the same (to float32 precision)."""
    spread = float(np.ptp(scores))
    if spread <= 1e-6 * float(np.max(np.abs(scores))):
        warnings.warn(
            f"All {len(scores)} training rows got the same score ({scores[0] + 0.0:.6g}), so the "
            "threshold offset_ separates nothing: predict calls every such row an inlier, "
            f"whatever contamination={contamination} says. Either the training rows are all "
            "alike, or training collapsed: check net_.history and try a lower lr.",
            ConstantScoresWarning,
            stacklevel=external_stacklevel(),
        )


def _check_float32_range(X, feature_names=None):
    """Refuse values that float32 networks cannot hold, naming their columns."""
    too_large = np.flatnonzero(count_beyond_float32(X))
    if too_large.size:
        names = [
            repr(str(feature_names[j])) if feature_names is not None else str(int(j))
            for j in too_large[:8]
        ]
        more = f" and {too_large.size - 8} more" if too_large.size > 8 else ""
        raise ValueError(
            f"X has values too large for float32 (|x| > {FLOAT32_MAX:.3g}) in column(s) "
            f"{', '.join(names)}{more}; the networks compute in float32. Rescale these "
            "features (e.g. a log transform)."
        )


def split_fitted_detector(estimator, caller):
    """Return ``(head, detector)`` of a fitted detector or of a Pipeline ending in one.

    Parameters
    ----------
    estimator : BaseGANDetector or Pipeline
        A fitted detector of this package, or a fitted Pipeline whose last
        step is one.
    caller : str
        What needs the detector, named in the error.

    Returns
    -------
    head : Pipeline or None
        The Pipeline's steps before the detector; None for a bare detector.
    detector : BaseGANDetector

    Raises
    ------
    TypeError
        When the (last step of the) estimator is not one of the package's detectors.
    sklearn.exceptions.NotFittedError
        When it is not fitted.
    """
    head, detector = None, estimator
    if isinstance(estimator, Pipeline):
        check_is_fitted(estimator)
        head, detector = estimator[:-1], estimator[-1]
    if not isinstance(detector, BaseGANDetector):
        raise TypeError(
            f"{caller} needs one of sklearn_ganad's detectors (or a Pipeline ending in one); "
            f"got {type(detector).__name__}."
        )
    check_is_fitted(detector)
    return head, detector
