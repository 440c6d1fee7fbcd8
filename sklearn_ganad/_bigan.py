"""The BiGAN core shared by EGBAD and ALAD.

A BiGAN (Donahue et al., 2017) trains a generator G (z -> x) and an encoder
E (x -> z) against a discriminator D(x, z) that tells real pairs (x, E(x))
from generated ones (G(z), z); at the optimum E inverts G, so no latent search
is needed at test time. EGBAD scores with this model as it is; ALAD adds two
cycle-consistency discriminators.
"""

from __future__ import annotations

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._net import AdversarialModel
from .base import BaseGANDetector
from .losses import bce_with_logits, bce_with_logits_per_sample
from .networks import NetworkSpec, make_decoder, make_encoder, make_joint_discriminator
from .utils._validation import check_widths

__all__ = ["BiGANModel"]


class BiGANModel(AdversarialModel):
    """BiGAN's networks and objective, the base of EGBAD's and ALAD's models.

    Players, each with its own optimizer: the discriminator player (D_xz,
    plus ALAD's cycle discriminators) steps first on each batch, then the
    generator player (G and E together). The losses are sigmoid
    cross-entropies on logits, with flipped labels for G and E as in the
    authors' code:

    * discriminator: ``BCE(D(x, E(x)), 1) + BCE(D(G(z), z), 0)``;
    * generator player: ``BCE(D(G(z), z), 1) + BCE(D(x, E(x)), 0)``. G only
      appears in the first term and E in the second, so one backward pass
      gives each network the gradient of its own loss.

    ``z`` is drawn from N(0, I) for every step.

    Parameters
    ----------
    encoder, generator : torch.nn.Module
        E (x -> z) and G (z -> x).
    discriminator : JointDiscriminator
        D(x, z).
    latent_dim : int
    """

    player_networks = {"discriminator": ("discriminator",), "generator": ("generator", "encoder")}
    main_player = "generator"
    loss_terms = ("loss_generator_xz", "loss_encoder_xz")

    def __init__(self, encoder, generator, discriminator, *, latent_dim):
        super().__init__()
        self.encoder = encoder
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim

    def reconstruct(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(E(x), G(E(x)))``."""
        code = self.encoder(x)
        return code, self.generator(code)

    def real_pair_cross_entropy(self, x, code):
        """``softplus(-D(x, E(x)))`` per sample: D's doubt that ``(x, E(x))`` is a real pair.

        The cross-entropy of D's logit on the real pair against "real", the
        discriminator term EGBAD's paper writes as ``sigma(D(x, E(x)), 1)``
        (score_method ``"ce_real"``).

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
        code : torch.Tensor of shape (n_samples, latent_dim)
            ``E(x)``.

        Returns
        -------
        doubt : torch.Tensor of shape (n_samples,)
        """
        return bce_with_logits_per_sample(self.discriminator(x, code), 1.0)

    def loss_discriminator(self, x, handoff):
        """Return the discriminators' loss and its named terms (z drawn afresh)."""
        z = self.sample_latent(x)
        with torch.no_grad():
            code, generated = self.encoder(x), self.generator(z)
        return self.discriminator_terms(x, z, code, generated)

    def loss_generator(self, x, handoff):
        """Return the generator player's (G and E) loss and its named terms (z drawn afresh)."""
        z = self.sample_latent(x)
        return self.generator_terms(x, z, self.encoder(x), self.generator(z))

    def discriminator_terms(self, x, z, code, generated):
        """Discriminator loss from E(x) and G(z), computed once per step."""
        loss = bce_with_logits(self.discriminator(x, code), 1.0) + bce_with_logits(
            self.discriminator(generated, z), 0.0
        )
        return loss, {}

    def generator_terms(self, x, z, code, generated):
        """Generator-player loss from E(x) and G(z), computed once per step."""
        loss_generator = bce_with_logits(self.discriminator(generated, z), 1.0)
        loss_encoder = bce_with_logits(self.discriminator(x, code), 0.0)
        terms = {"loss_generator_xz": loss_generator, "loss_encoder_xz": loss_encoder}
        return loss_generator + loss_encoder, terms


class _BiGANDetector(BaseGANDetector):
    """Estimator base of EGBAD and ALAD: their shared parameters and networks."""

    _parameter_constraints: dict = {
        **BaseGANDetector._parameter_constraints,
        "generator_layer_sizes": [tuple, list],
        "discriminator_layer_sizes": [tuple, list],
        "discriminator_dropout": [Interval(Real, 0, 1, closed="left")],
        "negative_slope": [Interval(Real, 0, None, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None, StrOptions({"auto"})],
        "norm_degree": [Interval(Integral, 1, None, closed="left")],
    }
    # max_epochs="auto" on images: a short budget. On MNIST one-class tasks
    # the BiGANs ranked worse after 400 or 1,000 steps than after 200 (the
    # user guide's "Training budgets"), which also train a 28x28 task in
    # about a minute on two CPU cores.
    _auto_train_steps = {"mlp": 2000, "conv": 200}

    def _auto_conv_channels(self, image_shape):
        """DCGAN's widths up to 16x16 pixels, half of them on larger images."""
        widths = super()._auto_conv_channels(image_shape)
        _, height, width = image_shape
        return widths if height * width <= 16 * 16 else tuple(c // 2 for c in widths)

    # ema_decay="auto": the decay of the scoring weight average per network
    # family (None: score with the last weights).
    _auto_ema_decay = {"mlp": 0.9999, "conv": 0.9999}
    # score_method="auto" per network family. Images: "ce_real", D_xz's
    # verdict on the real pair (x, E(x)). A BiGAN's reconstruction G(E(x))
    # is loose on images, so the residual-based scores ranked MNIST's
    # one-class tasks below IsolationForest on the raw pixels; the
    # discriminator, trained to accept exactly the training pairs, ranked
    # them well above it (the user guide's "Training budgets").
    _auto_score_method = {"mlp": "fm", "conv": "ce_real"}

    def _start(self, X, *, incremental=False):
        spec = super()._start(X, incremental=incremental)
        decay = self.ema_decay
        self.ema_decay_ = self._auto_ema_decay[spec.kind] if isinstance(decay, str) else decay
        method = self.score_method
        self.score_method_ = self._auto_score_method[spec.kind] if method == "auto" else method
        return spec

    def _net_params(self):
        return {"ema_decay": self.ema_decay_}

    def __setstate__(self, state):
        super().__setstate__(state)
        # Files written before ema_decay_ existed: the decay the net trained with.
        if "net_" in state and "ema_decay_" not in state:
            self.ema_decay_ = self.net_.ema_decay
        # Files written before score_method="auto": the score the model computes.
        if "net_" in state and "score_method_" not in state:
            self.score_method_ = self.net_.module_.score_method

    def _bigan_networks(self, spec: NetworkSpec, *, spectral_norm=False, joint_options=None):
        """Build E, G and D_xz for ``spec`` with the estimator's widths."""
        latent_dim = self.latent_dim_
        if self._uses_paper_networks(spec):
            build, slope = self._paper_image_networks, self.negative_slope
            return (
                build["encoder"](
                    spec.image_shape, latent_dim, negative_slope=slope, spectral_norm=spectral_norm
                ),
                build["generator"](
                    latent_dim, spec.image_shape, output_activation=self.output_activation_
                ),
                build["joint_discriminator"](
                    spec.image_shape, latent_dim, negative_slope=slope, spectral_norm=spectral_norm
                ),
            )
        generator_sizes = check_widths("generator_layer_sizes", self.generator_layer_sizes)
        discriminator_sizes = check_widths(
            "discriminator_layer_sizes", self.discriminator_layer_sizes
        )
        if not discriminator_sizes:
            raise ValueError("discriminator_layer_sizes needs at least the joint layer's width.")
        encoder = make_encoder(
            spec, latent_dim, negative_slope=self.negative_slope,
            batch_norm=spec.kind == "conv", spectral_norm=spectral_norm,
        )  # fmt: skip
        generator = make_decoder(
            spec, latent_dim, output_activation=self.output_activation_,
            batch_norm=spec.kind == "conv", hidden_layer_sizes=generator_sizes,
        )  # fmt: skip
        discriminator = make_joint_discriminator(
            spec, latent_dim, layer_sizes=discriminator_sizes,
            negative_slope=self.negative_slope, spectral_norm=spectral_norm,
            **(joint_options or {}),
        )  # fmt: skip
        return encoder, generator, discriminator
