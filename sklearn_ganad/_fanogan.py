"""f-AnoGAN: a WGAN-GP, then an encoder trained with the GAN fixed."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import torch
from sklearn.utils import metadata_routing
from sklearn.utils._param_validation import Interval, StrOptions

from ._gan import _GANDetector
from ._net import AdversarialModel
from .exceptions import TrainingInterruptedWarning
from .losses import (
    gradient_penalty,
    mean_squared_error,
    mean_squared_terms,
    wasserstein_critic_loss,
)
from .networks import NetworkSpec, make_encoder, make_resnet_critic, make_resnet_generator
from .utils._docstring import fill_doc
from .utils._registry import register_detector
from .utils._warnings import external_stacklevel

__all__ = ["FAnoGAN", "FAnoGANModel"]

_VARIANTS = ("izi_f", "izi", "ziz")


class FAnoGANModel(AdversarialModel):
    """f-AnoGAN's networks, two training stages and scores (Schlegl et al., 2019).

    Stage ``"gan"`` trains a Wasserstein GAN with gradient penalty: the
    critic minimises ``mean D(G(z)) - mean D(x) + gp_weight * GP`` on every
    batch, with ``GP = mean (||grad D(x_mix)||_2 - 1)^2`` at random points
    between real and generated rows, and the generator minimises
    ``-mean D(G(z))`` once every ``n_critic`` batches.

    Stage ``"encoder"`` trains the encoder E (x -> z, tanh output) with G and
    D fixed (and in evaluation mode), on one of the paper's objectives:

    * ``"izi"``: ``mean (x - G(E(x)))^2``;
    * ``"izi_f"``: izi plus ``kappa * mean (f(x) - f(G(E(x))))^2``, with f
      the critic's last hidden layer;
    * ``"ziz"``: ``mean (z - E(G(z)))^2`` for ``z ~ N(0, I)``.

    The score (``score_method``) is izi_f's ``A_R + kappa * A_D`` (the
    paper's), izi's ``A_R = mean (x - G(E(x)))^2`` alone, or ziz's latent
    residual ``mean (E(x) - E(G(E(x))))^2``.

    Parameters
    ----------
    generator : torch.nn.Module
        G (z -> x).
    critic : Encoder
        D, with a ``features`` hook; no batch normalisation (the gradient
        penalty is per sample).
    encoder : torch.nn.Module
        E (x -> z).
    latent_dim : int
    n_critic : int
    gradient_penalty_weight : float
    kappa : float
    encoder_loss, score_method : {"izi_f", "izi", "ziz"}

    Attributes
    ----------
    stage : {"gan", "encoder"}
        The training stage; set by :class:`FAnoGAN` between the two.
    """

    player_networks = {
        "critic": ("critic",),
        "generator": ("generator",),
        "encoder": ("encoder",),
    }
    main_player = "generator"
    adversary_players = ("critic",)
    loss_terms = ("wasserstein_distance", "gradient_penalty", "loss_image", "loss_features",
                  "loss_latent")  # fmt: skip
    _stage_players = {"gan": ("critic", "generator"), "encoder": ("encoder",)}

    def __init__(
        self, generator, critic, encoder, *, latent_dim, n_critic=5,
        gradient_penalty_weight=10.0, kappa=1.0, encoder_loss="izi_f", score_method="izi_f",
    ):  # fmt: skip
        super().__init__()
        self.generator = generator
        self.critic = critic
        self.encoder = encoder
        self.latent_dim = latent_dim
        self.n_critic = n_critic
        self.gradient_penalty_weight = gradient_penalty_weight
        self.kappa = kappa
        self.encoder_loss = encoder_loss
        self.score_method = score_method
        self.stage = "gan"

    @property
    def active_players(self):
        """The critic and the generator, then the encoder alone."""
        return self._stage_players[self.stage]

    def update_every(self, player):
        """The generator steps once per ``n_critic`` batches."""
        return self.n_critic if player == "generator" else 1

    def train(self, mode=True):
        """Set the mode; while the encoder trains, G and D stay in evaluation mode."""
        super().train(mode)
        if self.stage == "encoder":
            self.generator.eval()
            self.critic.eval()
        return self

    # -- losses ---------------------------------------------------------------

    def gradient_penalty(self, x, generated):
        """WGAN-GP's penalty of the critic (see :func:`~sklearn_ganad.losses.gradient_penalty`).

        Parameters
        ----------
        x, generated : torch.Tensor of shape (n, n_features)

        Returns
        -------
        penalty : torch.Tensor (scalar)
        """
        return gradient_penalty(self.critic, x, generated)

    def loss_critic(self, x, handoff):
        with torch.no_grad():
            generated = self.generator(self.sample_latent(x))
        return wasserstein_critic_loss(self.critic, x, generated, self.gradient_penalty_weight)

    def loss_encoder(self, x, handoff):
        if self.encoder_loss == "ziz":
            z = self.sample_latent(x)
            latent = mean_squared_error(z, self.encoder(self.generator(z))).mean()
            return latent, {"loss_latent": latent}
        reconstruction = self.generator(self.encoder(x))
        image = mean_squared_error(x, reconstruction).mean()
        if self.encoder_loss == "izi":
            return image, {"loss_image": image}
        with torch.no_grad():
            features_x = self.critic.features(x)
        features = mean_squared_error(features_x, self.critic.features(reconstruction)).mean()
        return image + self.kappa * features, {"loss_image": image, "loss_features": features}

    def loss_generator(self, x, handoff):
        """Return the generator's WGAN loss on a batch of ``len(x)`` codes."""
        return -self.critic(self.generator(self.sample_latent(x))).mean(), {}

    def reconstruct(self, x):
        """Return ``(E(x), G(E(x)))``."""
        code = self.encoder(x)
        return code, self.generator(code)

    def anomaly_score(self, x):
        """Return the ``score_method`` score, per sample."""
        code, reconstruction = self.reconstruct(x)
        if self.score_method == "ziz":
            return mean_squared_error(code, self.encoder(reconstruction))
        score = mean_squared_error(x, reconstruction)
        if self.score_method == "izi_f":
            score = score + self._feature_residual(x, reconstruction)
        return score

    def _feature_residual(self, x, reconstruction):
        """izi_f's critic-feature term, kappa included."""
        return self.kappa * mean_squared_error(
            self.critic.features(x), self.critic.features(reconstruction)
        )

    def score_parts(self, x):
        """izi's per-pixel terms; izi_f's critic term and ziz's score are remainders."""
        _, reconstruction = self.reconstruct(x)
        if self.score_method == "ziz":
            return None, self.anomaly_score, reconstruction
        feature_terms = mean_squared_terms(x, reconstruction)
        if self.score_method == "izi":
            return feature_terms, None, reconstruction

        def remainder(points):
            return self._feature_residual(points, self.reconstruct(points)[1])

        return feature_terms, remainder, reconstruction


@fill_doc()
@register_detector
class FAnoGAN(_GANDetector):
    """f-AnoGAN anomaly detector: a WGAN-GP and an encoder trained after it
    (Schlegl, Seeboeck, Waldstein, Langs and Schmidt-Erfurth, 2019).

    Training has two stages, both in ``net_``: first a Wasserstein GAN with
    gradient penalty (``max_epochs`` epochs; the critic steps on every
    batch and the generator on one in ``n_critic``), then an encoder E
    trained with G and the critic D fixed (``encoder_epochs`` epochs). Scoring
    is one pass through E, G and D; with the default izi_f score

    ``A(x) = mean (x - G(E(x)))^2 + kappa * mean (f(x) - f(G(E(x))))^2``,

    the means taken over the features of x and of D's last hidden layer f;
    ``score_samples(X) = -A(X)``.

    Parameters
    ----------
    %(contamination)s
    %(preprocessing)s
    %(feature_clip)s
    score_method : {"izi_f", "izi", "ziz"}, default="izi_f"
        The anomaly score: ``"izi_f"`` the formula above (the paper's),
        ``"izi"`` its image residual alone, ``"ziz"`` the latent residual
        ``mean (E(x) - E(G(E(x))))^2``.
    encoder_loss : {"izi_f", "izi", "ziz"}, default="izi_f"
        The encoder's training objective: the izi_f or izi score averaged
        over the batch, or ``"ziz"``, ``mean (z - E(G(z)))^2`` over codes
        ``z ~ N(0, I)`` (which needs no real data). izi_f is the paper's
        recommendation.
    kappa : float, default=1.0
        Weight of the feature residual in izi_f (the paper's 1).
    %(n_critic)s
    %(gradient_penalty_weight)s
    encoder_epochs : int or "auto", default="auto"
        Epochs of the encoder stage, after the ``max_epochs`` of the GAN.
        ``"auto"`` gives the encoder the same step budget as ``max_epochs="auto"``
        gives the GAN; the value used is ``encoder_epochs_``.
    encoder_lr : float or "auto", default="auto"
        Learning rate of the encoder's optimizer; ``"auto"`` takes the GAN's
        ``lr_`` (the paper's 5e-5 is in
        :func:`~sklearn_ganad.presets.paper_params`).
    %(architecture)s
    %(image_shape)s
    latent_dim : int or "auto", default="auto"
        Size of the latent code; ``"auto"`` is 32 for tables (as the other
        methods' KDDCUP99 models) and 128 for images (the paper's).
    hidden_layer_sizes : tuple of int, default=(256, 128, 128)
        Hidden widths of the critic's perceptron and of the encoder's, from
        the data side (the paper's encoder copies the critic's trunk); the
        last is the critic's feature layer f.
    generator_layer_sizes : tuple of int, default=(64, 128)
        Hidden widths of G's perceptron, from the latent side.
    negative_slope : float, default=0.2
        Leaky ReLU slope of the critic and the encoder.
    %(conv_channels)s
    %(output_activation)s
    %(max_epochs)s
    %(batch_size)s
    lr : float or "auto", default="auto"
        Learning rate of the critic's and the generator's Adam. ``"auto"`` is
        5e-4, which trains within the ``max_epochs="auto"`` budget (the
        paper's 1e-4 is in :func:`~sklearn_ganad.presets.paper_params`); the
        value used is ``lr_``.
    %(betas)s
        They apply to the encoder's Adam too: with beta1 = 0 it is RMSProp
        (decay 0.9, the paper's optimizer for E) with bias correction.
    %(validation_fraction)s
    %(restore_best_weights)s
    %(ensemble_size)s
    %(precision)s
    %(distributed)s
    %(device)s
    %(n_threads)s
    %(random_state)s
    %(verbose)s
    %(callbacks)s

    Attributes
    ----------
    %(shared_attributes)s
    encoder_epochs_ : int
        The number of epochs of the encoder stage (``encoder_epochs`` resolved).

    See Also
    --------
    AnoGAN : Scores by a latent search instead of an encoder.
    EGBAD : Learns the encoder together with the GAN (a BiGAN).

    Notes
    -----
    In ``net_.history`` the GAN epochs record ``train_loss`` (the
    generator's loss), ``train_loss_critic``, ``train_wasserstein_distance``
    and ``train_gradient_penalty``; the encoder epochs record
    ``train_loss_encoder`` (also as ``train_loss``) and the terms of its
    objective. Callbacks see both stages; ``EarlyStopping`` ends a stage.

    The paper's networks are 64x64 residual nets with layer-normalised
    critic, built with ``architecture="paper"`` (for any even image sides of
    8 pixels or more); by default images use the package's DCGAN-style
    networks (see :mod:`sklearn_ganad.networks`) with no normalisation in the
    critic (the penalty is per sample, which batch normalisation would break)
    and batch normalisation in G and E; tables use perceptrons of the other methods'
    KDDCUP99 sizes (our adaptation: the paper has no tabular model). As in
    the authors' code, E ends in tanh although the prior is N(0, I), and the
    encoder's optimizer is Adam with beta1 = 0 in place of RMSProp.

    References
    ----------
    .. [1] T. Schlegl, P. Seeboeck, S. M. Waldstein, G. Langs and U.
       Schmidt-Erfurth, "f-AnoGAN: Fast unsupervised anomaly detection with
       generative adversarial networks", Medical Image Analysis 54, 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ganad import FAnoGAN
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 4))
    >>> detector = FAnoGAN(max_epochs=20, encoder_epochs=20, lr=1e-3, encoder_lr=1e-3,
    ...                    random_state=0).fit(X)
    >>> detector.predict([[0.0, 0.0, 0.0, 0.0], [6.0, -6.0, 6.0, -6.0]])
    array([ 1, -1])
    """

    _parameter_constraints: dict = {
        **_GANDetector._parameter_constraints,
        "score_method": [StrOptions(set(_VARIANTS))],
        "encoder_loss": [StrOptions(set(_VARIANTS))],
        "kappa": [Interval(Real, 0, None, closed="left")],
        "encoder_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "encoder_lr": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
    }
    _auto_latent_dim = {"mlp": 32, "conv": 128}

    def __init__(
        self,
        *,
        contamination=0.1,
        preprocessing="auto",
        feature_clip="auto",
        score_method="izi_f",
        encoder_loss="izi_f",
        kappa=1.0,
        n_critic=5,
        gradient_penalty_weight=10.0,
        encoder_epochs="auto",
        encoder_lr="auto",
        architecture="auto",
        image_shape=None,
        latent_dim="auto",
        hidden_layer_sizes=(256, 128, 128),
        generator_layer_sizes=(64, 128),
        negative_slope=0.2,
        conv_channels=(64, 128, 256, 512),
        output_activation="auto",
        max_epochs="auto",
        batch_size=64,
        lr="auto",
        betas=(0.0, 0.9),
        validation_fraction="auto",
        restore_best_weights="auto",
        ensemble_size=1,
        precision="32",
        distributed="auto",
        device="auto",
        n_threads=None,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        super().__init__(
            contamination=contamination,
            preprocessing=preprocessing,
            feature_clip=feature_clip,
            architecture=architecture,
            image_shape=image_shape,
            latent_dim=latent_dim,
            hidden_layer_sizes=hidden_layer_sizes,
            conv_channels=conv_channels,
            output_activation=output_activation,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            betas=betas,
            validation_fraction=validation_fraction,
            restore_best_weights=restore_best_weights,
            ensemble_size=ensemble_size,
            precision=precision,
            distributed=distributed,
            device=device,
            n_threads=n_threads,
            random_state=random_state,
            verbose=verbose,
            callbacks=callbacks,
        )
        self.score_method = score_method
        self.encoder_loss = encoder_loss
        self.kappa = kappa
        self.n_critic = n_critic
        self.gradient_penalty_weight = gradient_penalty_weight
        self.encoder_epochs = encoder_epochs
        self.encoder_lr = encoder_lr
        self.generator_layer_sizes = generator_layer_sizes
        self.negative_slope = negative_slope

    # WGAN-GP with the critic stepping n_critic times per generator step
    # trains within the step budget at 5e-4 (the paper's 1e-4 does not).
    _auto_lr = {"mlp": 5e-4, "conv": 5e-4}
    # max_epochs="auto" on images: 600 steps per stage rather than 1,000. Each
    # critic step carries a gradient penalty (a second backward pass), and
    # 1,000 steps per stage took up to 187 s (232 s on a slower day) on an
    # 800-image MNIST task on two CPU cores, past the 3 minutes a default fit
    # should take there.
    _auto_train_steps = {**_GANDetector._auto_train_steps, "conv": 600}

    def _net_params(self):
        encoder_lr = self.lr_ if self.encoder_lr == "auto" else float(self.encoder_lr)
        return {"optimizer_encoder__lr": encoder_lr}

    # The authors' 64x64 ResNet (WGAN-GP): the critic's layers, with a latent
    # head, are also the izi_f encoder's.
    _paper_image_networks = {
        "generator": make_resnet_generator,
        "discriminator": lambda shape, negative_slope: make_resnet_critic(shape),
    }

    def _build_model(self, spec: NetworkSpec) -> FAnoGANModel:
        if self._uses_paper_networks(spec):
            encoder = make_resnet_critic(spec.image_shape, self.latent_dim_, squeeze=False)
        else:
            encoder = make_encoder(
                spec, self.latent_dim_, negative_slope=self.negative_slope,
                batch_norm=spec.kind == "conv",
            )  # fmt: skip
        encoder = torch.nn.Sequential(encoder, torch.nn.Tanh())
        return FAnoGANModel(
            self._make_generator(spec),
            self._make_discriminator(spec, batch_norm=False),
            encoder,
            latent_dim=self.latent_dim_,
            n_critic=self.n_critic,
            gradient_penalty_weight=self.gradient_penalty_weight,
            kappa=self.kappa,
            encoder_loss=self.encoder_loss,
            score_method=self.score_method,
        )

    _training_stages = ("GAN", "encoder")
    # What one partial_fit call trains, by its ``stage``.
    _partial_fit_stages = {"both": ("gan", "encoder"), "gan": ("gan",), "encoder": ("encoder",)}
    # ``stage`` is an option, not per-sample metadata for meta-estimators to route.
    __metadata_request__partial_fit = {"stage": metadata_routing.UNUSED}

    def partial_fit(self, X, y=None, stage="both"):
        """Train one more epoch on ``X``: of the GAN, the encoder, or both.

        See :meth:`BaseGANDetector.partial_fit
        <sklearn_ganad.BaseGANDetector.partial_fit>` for what every detector's
        ``partial_fit`` does. f-AnoGAN trains its encoder against a fixed GAN;
        by chunks, ``stage="both"`` trains one GAN epoch and then one encoder
        epoch on each chunk, so the encoder follows the GAN as it converges.
        For the paper's order, pass every chunk with ``stage="gan"``, then
        every chunk with ``stage="encoder"``.

        Parameters
        ----------
        X : array-like, see :meth:`fit`
            One chunk of training data, at least 2 rows.
        y : Ignored
            Not used, present for API consistency by convention.
        stage : {"both", "gan", "encoder"}, default="both"
            What this call trains.

        Returns
        -------
        self : object
        """
        return super().partial_fit(X, y, stage=stage)

    def _check_train_params(self, train_params):
        options = dict(train_params)
        stage = options.pop("stage", "both")
        super()._check_train_params(options)
        if stage not in self._partial_fit_stages:
            raise ValueError(
                f"stage must be one of {sorted(self._partial_fit_stages)}, got {stage!r}."
            )

    def _train_one_epoch(self, X, stage="both"):
        self.encoder_epochs_ = 1  # per call
        for name in self._partial_fit_stages[stage]:
            self.net_.module.stage = name
            self.net_.partial_fit(X, epochs=1)
            if self.net_.interrupted_:
                break

    def _train(self, X):
        self.encoder_epochs_ = self._resolve_epochs(self.encoder_epochs, X.shape[0])
        model = self.net_.module
        model.stage = "gan"
        self.net_.fit(X)
        if self.net_.interrupted_:
            warnings.warn(
                "f-AnoGAN's encoder stage was not started because its GAN stage was "
                "interrupted: the encoder is untrained, so the scores are not meaningful. "
                "Fit again to train in full.",
                TrainingInterruptedWarning,
                stacklevel=external_stacklevel(),
            )
            return
        self.net_.module_.stage = "encoder"
        self.net_.partial_fit(X, epochs=self.encoder_epochs_)
