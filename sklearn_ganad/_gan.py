"""The estimator base of the methods built on a plain GAN: AnoGAN and f-AnoGAN.

Both train a generator G (z -> x) against a discriminator (or critic) D on
normal data, then score a sample by how well G can reproduce it: AnoGAN
searches the latent space, f-AnoGAN trains an encoder afterwards.
"""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from .base import BaseGANDetector
from .networks import NetworkSpec, make_decoder, make_discriminator
from .utils._validation import check_widths


class _GANDetector(BaseGANDetector):
    """Shared parameters and networks of AnoGAN and f-AnoGAN.

    ``hidden_layer_sizes`` are the widths of the data-side perceptrons (D,
    and f-AnoGAN's encoder, a copy of D's trunk in the paper);
    ``generator_layer_sizes`` those of G, from the latent side.
    """

    _parameter_constraints: dict = {
        **BaseGANDetector._parameter_constraints,
        "generator_layer_sizes": [tuple, list],
        "negative_slope": [Interval(Real, 0, None, closed="left")],
        # WGAN-GP training: f-AnoGAN's, and AnoGAN's with gan_loss="wgan-gp".
        "n_critic": [Interval(Integral, 1, None, closed="left")],
        "gradient_penalty_weight": [Interval(Real, 0, None, closed="left")],
    }

    def _check_parameters(self):
        super()._check_parameters()
        check_widths("generator_layer_sizes", self.generator_layer_sizes)

    def _make_generator(self, spec: NetworkSpec):
        """G: z -> x, batch-normalised for images (DCGAN), plain for tables."""
        if self._uses_paper_networks(spec):
            return self._paper_image_networks["generator"](
                self.latent_dim_, spec.image_shape, output_activation=self.output_activation_
            )
        return make_decoder(
            spec,
            self.latent_dim_,
            output_activation=self.output_activation_,
            batch_norm=spec.kind == "conv",
            hidden_layer_sizes=check_widths("generator_layer_sizes", self.generator_layer_sizes),
        )

    def _make_discriminator(self, spec: NetworkSpec, *, dropout=0.0, batch_norm=None):
        """D: x -> logit with a ``features`` hook; batch norm for images unless told."""
        if self._uses_paper_networks(spec):
            return self._paper_image_networks["discriminator"](
                spec.image_shape, negative_slope=self.negative_slope
            )
        if batch_norm is None:
            batch_norm = spec.kind == "conv"
        return make_discriminator(
            spec, negative_slope=self.negative_slope, dropout=dropout, batch_norm=batch_norm
        )
