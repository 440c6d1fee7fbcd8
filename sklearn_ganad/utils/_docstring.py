"""Docstring fragments shared by the estimators, filled in with ``%(name)s``."""

from __future__ import annotations

import inspect

_SHARED = {
    "contamination": """contamination : float in (0, 0.5], default=%(contamination_default)s
        The expected share of outliers in the training data. It sets
        ``offset_``: the training scores below it are outliers.""",
    "preprocessing": """preprocessing : {"auto", "standard", "minmax"} or None, \
default=%(preprocessing_default)s
        Scaling of the features, fitted on the training data and applied
        before every network (and undone on ``reconstruct``'s output).
        ``"auto"`` standardises tables (zero mean, unit variance per feature,
        as PyOD's deep detectors do) and leaves images as they are;
        ``"standard"`` and ``"minmax"`` apply scikit-learn's
        ``StandardScaler`` or ``MinMaxScaler`` to any input. ``None`` feeds
        ``X`` unchanged: use it when ``X`` is already scaled, in a Pipeline
        for instance, or to reproduce a paper's protocol.""",
    "feature_clip": """feature_clip : float, "auto" or None, default=%(feature_clip_default)s
        Bound on every feature the networks see: after ``preprocessing``,
        the features are clipped to ``[-feature_clip, feature_clip]`` in
        training and in scoring. One extreme value (a category that is rare
        in the training rows, a count far beyond its training range) then
        cannot dominate the training loss or its row's score, and a clipped
        value still lies beyond anything common in training. ``"auto"`` is
        10 (standard deviations) where ``preprocessing_`` is ``"standard"``,
        and no clipping otherwise (``"minmax"``, images, ``None``); ``None``
        never clips. A number clips whatever the networks see, also
        unscaled ``X`` under ``preprocessing=None``.""",
    "architecture": """architecture : {"auto", "mlp", "conv", "paper"}, \
default=%(architecture_default)s
        Network family. ``"auto"`` uses DCGAN-style convolutions for images
        (3-D or 4-D ``X``, or ``image_shape`` given) and perceptrons for tables.
        ``"paper"`` is ``"auto"`` with the paper's own image layers, widths
        and dropout (``conv_channels`` and the layer sizes do not apply):
        f-AnoGAN's ResNet (layer-norm critic; even sides of 8 pixels or
        more), EGBAD's MNIST model and the EGBAD code's AnoGAN MNIST model
        (sides divisible by 4), ALAD's CIFAR-10 model (sides divisible by 8,
        so pad MNIST to 32x32); GANomaly's are DCGAN's, as with ``"conv"``.
        For tables the perceptrons are the papers' KDDCUP99 models either
        way. See :mod:`sklearn_ganad.networks`.""",
    "image_shape": """image_shape : tuple of int (C, H, W) or (H, W), \
default=%(image_shape_default)s
        Shape of one image when images are passed flattened as 2-D ``X`` (so
        that scalers and Pipelines work). Not needed for 3-D ``(n, H, W)`` or
        4-D ``(n, C, H, W)`` input, whose shape is read from the data.""",
    "latent_dim": """latent_dim : int or "auto", default=%(latent_dim_default)s
        Size of the latent code. ``"auto"`` takes the paper's value for the
        input kind (see Notes).""",
    "hidden_layer_sizes": """hidden_layer_sizes : tuple of int, \
default=%(hidden_layer_sizes_default)s
        Hidden widths of the perceptrons (tables), from the data side.""",
    "conv_channels": """conv_channels : tuple of int or "auto", default=%(conv_channels_default)s
        Channels of the convolutional nets per resolution level, from the
        image side; only as many as the image needs are used (one per halving
        down to 4x4: three for 32x32, two for 28x28, one for 8x8).
        ``"auto"`` chooses them for the image size (DCGAN's 64, 128, 256, 512
        unless the method's notes say otherwise). The value used is
        ``conv_channels_``.""",
    "output_activation": """output_activation : {"auto", "linear", "tanh", "sigmoid"}, \
default=%(output_activation_default)s
        Activation of the generator's output. ``"auto"`` is ``"tanh"`` for
        convolutional nets (scale images to [-1, 1]) and ``"linear"`` for tables.""",
    "n_critic": """n_critic : int, default=%(n_critic_default)s
        Critic steps per generator step of the WGAN-GP (its paper's 5).""",
    "gradient_penalty_weight": """gradient_penalty_weight : float, \
default=%(gradient_penalty_weight_default)s
        Weight of the WGAN-GP gradient penalty (its paper's 10).""",
    "max_epochs": """max_epochs : int or "auto", default=%(max_epochs_default)s
        Number of passes over the training data. ``"auto"`` sets a budget in
        optimisation steps (mini-batches) rather than epochs: %(auto_steps)s
        steps for tables and %(auto_steps_conv)s for images, rounded up to
        whole epochs, at most 1000 epochs%(auto_floor)s. A small table thus
        gets enough updates and a large one does not train for hours; the
        value used is ``max_epochs_``. An integer is that number of epochs.""",
    "batch_size": """batch_size : int, default=%(batch_size_default)s
        Mini-batch size for training (at least 2, for batch normalisation).""",
    "lr": """lr : float or "auto", default=%(lr_default)s
        Learning rate of every player's Adam optimizer. ``"auto"`` is
        %(auto_lr)s for tables and %(auto_lr_conv)s for images (DCGAN's), rates
        that train within the ``max_epochs="auto"`` budget; the value used is
        ``lr_``.""",
    "betas": """betas : tuple of float, default=%(betas_default)s
        Adam's ``(beta1, beta2)``.""",
    "validation_fraction": """validation_fraction : float in (0, 1), "auto" or None, \
default=%(validation_fraction_default)s
        Share of the training data held out. The model's validation loss on it
        (see Notes) is recorded per epoch as ``valid_loss``, a label-free
        quantity for ``restore_best_weights``, ``EarlyStopping`` or
        ``Checkpoint`` to monitor. ``"auto"`` holds out %(auto_validation)s
        of the rows when ``restore_best_weights`` is on and none otherwise;
        ``None`` trains on all the data. The value used is
        ``validation_fraction_``.""",
    "restore_best_weights": """restore_best_weights : bool or "auto", \
default=%(restore_best_weights_default)s
        Keep the weights of the epoch with the lowest ``valid_loss`` rather
        than those of the last epoch (training still runs every epoch; the
        epoch kept is ``best_epoch_``). GAN training oscillates, and the
        held-out normal rows' loss picks a good epoch without labels.
        %(auto_restore)s ``True`` needs a validation fraction. It
        has no effect in ``partial_fit``, where each call trains one epoch.
        The value used is ``restore_best_weights_``.""",
    "ensemble_size": """ensemble_size : int, default=%(ensemble_size_default)s
        Number of GANs trained together as Han et al.'s coupled ensemble
        ("GAN Ensemble for Anomaly Detection", AAAI 2021; see
        :class:`~sklearn_ganad.CoupledEnsembleModel`): on every batch each
        generator (with its encoders) meets another member's discriminator,
        drawn at random, and a row's score is the mean over the members (over
        every generator-discriminator pair where the score reads the
        discriminator). Training and scoring cost about ``ensemble_size``
        times as much (scoring every pair, ``ensemble_size`` squared). 1 trains
        one GAN.""",
    "precision": """precision : {"32", "bf16", "16"}, default=%(precision_default)s
        Arithmetic of training, validation and scoring: float32, or mixed
        precision (:func:`torch.autocast`) in bfloat16 or float16, with a
        gradient scaler per player for float16. Weights stay float32. Mixed
        precision pays on GPUs with bfloat16/float16 units; on the CPU
        ``"32"`` scores tables in float64 (see :doc:`/user_guide`), the mixed
        settings at their own precision. See the user guide's "Mixed
        precision" for the measured differences.""",
    "distributed": """distributed : {"auto"} or bool, default=%(distributed_default)s
        Train data-parallel over a ``torch.distributed`` process group (one
        process per GPU, launched by ``torchrun`` or ``accelerate launch``):
        ``"auto"`` when an initialised group has more than one process,
        ``True`` always (an error without a group), ``False`` never (each
        process fits its own model). Every process calls ``fit`` with the
        same data; ``batch_size`` is the batch of all processes together, and
        every process ends with the same fitted detector. See
        :doc:`/several_gpus`.""",
    "device": """device : str, default=%(device_default)s
        Where to train and score: ``"auto"`` (CUDA when available), ``"cpu"``,
        ``"cuda"`` or ``"cuda:<i>"``.""",
    "n_threads": """n_threads : int or None, default=%(n_threads_default)s
        The most torch threads ``fit``, ``partial_fit`` and scoring may use;
        torch's setting is restored afterwards. ``None`` keeps torch's
        setting, which follows ``OMP_NUM_THREADS``, the limit joblib gives
        its worker processes (so ``GridSearchCV(n_jobs=k)`` does not
        oversubscribe the cores) and ``threadpoolctl.threadpool_limits``.
        ``-1`` means one thread per usable CPU, ``-2`` all but one, and so
        on.""",
    "random_state": """random_state : int, RandomState instance or None, \
default=%(random_state_default)s
        Seeds weight initialisation, shuffling, noise and dropout. The same
        value gives the same scores on CPU; torch's global random state is
        left as it was.""",
    "verbose": """verbose : int, default=%(verbose_default)s
        0 is silent; 1 prints skorch's table of losses per epoch (and, on a
        terminal, a bar while scoring more than one chunk of rows); 2 adds a
        progress bar of training.""",
    "callbacks": """callbacks : list of skorch callbacks or None, default=%(callbacks_default)s
        Extra skorch callbacks (e.g. ``EarlyStopping``, ``Checkpoint``,
        ``LRScheduler``), copied at ``fit``. ``LRScheduler`` drives every
        player's optimizer.""",
}

_SHARED_ATTRIBUTES = """net_ : sklearn_ganad.GANNet
        The fitted skorch net; ``net_.history`` holds every loss per epoch
        and ``net_.module_`` the networks.
    lr_ : float
        The learning rate used (``lr`` resolved).
    max_epochs_ : int
        The number of epochs trained for (``max_epochs`` resolved); fewer
        ran if a callback such as ``EarlyStopping`` ended training.
    conv_channels_ : tuple of int
        The convolution widths per level (``conv_channels`` resolved; unused
        by perceptrons).
    validation_fraction_ : float or None
        The share of the training rows held out (``validation_fraction``
        resolved).
    restore_best_weights_ : bool
        Whether the weights of the best epoch were kept
        (``restore_best_weights`` resolved).
    best_epoch_ : int or None
        The epoch (as numbered in ``net_.history``) whose weights the
        detector kept, in its last training stage, when
        ``restore_best_weights_`` is True; otherwise None.
    preprocessing_ : {"standard", "minmax"} or None
        The scaling applied (``preprocessing`` resolved).
    feature_clip_ : float or None
        The bound applied to the scaled features (``feature_clip``
        resolved); None where nothing is clipped.
    scaler_ : StandardScaler, MinMaxScaler or None
        The fitted scaler, or None without scaling.
    offset_ : float
        Threshold on ``score_samples``: ``decision_function = score_samples -
        offset_``, negative for outliers. It is the ``contamination``
        percentile of the training scores.
    image_shape_ : tuple of int (C, H, W) or None
        Shape of one image, or None for tabular data.
    architecture_ : {"mlp", "conv"}
        The network family used.
    latent_dim_ : int
        The latent size used.
    output_activation_ : str
        The generator's output activation used.
    device_ : str
        The device the model was trained on.
    n_samples_seen_ : int
        Number of training rows seen: by ``fit``, or by every ``partial_fit``
        call since the first.
    n_features_in_ : int
        Number of features seen during ``fit`` (``C * H * W`` for images).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column
        names."""


def fill_doc():
    """Return a decorator that fills ``%(name)s`` fields of a docstring.

    The shared parameter texts are available as ``%(contamination)s`` and
    so on, and ``%(shared_attributes)s`` gives the fitted attributes every
    detector has. The ``default=`` of each shared text is read from the
    decorated class's signature, so the two cannot disagree.

    Returns
    -------
    decorator : callable
    """

    def decorate(obj):
        values = _signature_defaults(obj)
        steps = getattr(obj, "_auto_train_steps", None)
        if steps is not None:
            # Read from the class, so that the text cannot disagree with it.
            values.update(auto_steps=f"{steps['mlp']:,}", auto_steps_conv=f"{steps['conv']:,}")
        floor = getattr(obj, "_auto_min_epochs", {"mlp": 1})["mlp"]
        values["auto_floor"] = (
            f" and, for tables,\n        at least {floor} (a large table is seen several times)"
            if floor > 1
            else ""
        )
        rates = getattr(obj, "_auto_lr", None)
        if rates is not None:
            values.update(auto_lr=f"{rates['mlp']:g}", auto_lr_conv=f"{rates['conv']:g}")
        restore = getattr(obj, "_auto_restore_best_weights", None)
        if restore is not None:
            values.update(
                auto_restore=_describe_auto_restore(restore, obj._auto_restore_min_rows),
                auto_validation=f"{obj._auto_validation_fraction:g}",
            )
        # Texts of parameters the class does not have are formatted too (and
        # unused): their missing defaults read as "?".
        lenient = _Lenient(values)
        fields = {name: text % lenient if "%(" in text else text for name, text in _SHARED.items()}
        fields["shared_attributes"] = _SHARED_ATTRIBUTES
        obj.__doc__ = obj.__doc__ % fields
        return obj

    return decorate


def _describe_auto_restore(by_family, min_rows=1) -> str:
    """The sentence saying what ``restore_best_weights="auto"`` does for a class."""
    tables, images = by_family["mlp"], by_family["conv"]
    if not (tables or images):
        return '``"auto"`` keeps the last epoch for this method.'
    where = {(True, True): "", (True, False): " for tables", (False, True): " for images"}
    held_out = "no row" if min_rows <= 1 else f"fewer than {min_rows:,} rows"
    return (
        f'``"auto"`` keeps the best epoch{where[tables, images]} (where the '
        "benchmarks measured a gain), unless ``validation_fraction`` is "
        f"None or would hold out {held_out}."
    )


class _Lenient(dict):
    def __missing__(self, key):
        return "?"


def format_default(value) -> str:
    """A parameter default as numpydoc writes it: strings quoted, the rest as repr."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _signature_defaults(obj) -> dict:
    """``{"<param>_default": text}`` for every parameter of ``obj`` (a class's ``__init__``)."""
    function = obj.__init__ if isinstance(obj, type) else obj
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return {}
    return {
        f"{p.name}_default": format_default(p.default)
        for p in parameters
        if p.default is not inspect.Parameter.empty
    }
