"""A sixth method, written as CONTRIBUTING.md says, passes every common test.

``ToyGAN`` is a plain GAN scored by its discriminator: the smallest method
the package's base can host. It touches no file of the package: it
registers itself, and the contract tests (tests/test_contract.py) and
scikit-learn's estimator checks run on it unchanged.
"""

import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ganad import AdversarialModel, BaseGANDetector, cli
from sklearn_ganad.losses import bce_with_logits, bce_with_logits_per_sample
from sklearn_ganad.networks import make_decoder, make_discriminator
from sklearn_ganad.utils import all_detectors, register_detector, unregister_detector

from ._params import FAST_PARAMS

# The contract tests, collected here for ToyGAN alone (this module's pytestmark).
from .test_contract import *  # noqa: F403
from .test_contract import fitted  # noqa: F401  (the fixture they use)


class ToyGANModel(AdversarialModel):
    """G (z -> x) against D (x -> logit); the anomaly score is D's "fake" loss."""

    player_networks = {"discriminator": ("discriminator",), "generator": ("generator",)}
    main_player = "generator"

    def __init__(self, generator, discriminator, *, latent_dim):
        super().__init__()
        # D first: the contract test that poisons the first parameter expects
        # it to take part in scoring.
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim

    def loss_discriminator(self, x, handoff):
        with torch.no_grad():
            generated = self.generator(self.sample_latent(x))
        loss = bce_with_logits(self.discriminator(x), 1.0)
        return loss + bce_with_logits(self.discriminator(generated), 0.0), {}

    def loss_generator(self, x, handoff):
        return bce_with_logits(self.discriminator(self.generator(self.sample_latent(x))), 1.0), {}

    def anomaly_score(self, x):
        return bce_with_logits_per_sample(self.discriminator(x), 1.0)

    def reconstruct(self, x):
        code = x.new_zeros(len(x), self.latent_dim)
        return code, self.generator(code)


class ToyGAN(BaseGANDetector):
    """A plain GAN whose discriminator scores the data (a test-only method).

    Parameters
    ----------
    The base detector's, with their defaults.
    """

    def __init__(
        self,
        *,
        contamination=0.1,
        preprocessing="auto",
        architecture="auto",
        image_shape=None,
        latent_dim="auto",
        hidden_layer_sizes=(64,),
        conv_channels=(64, 128, 256, 512),
        output_activation="auto",
        max_epochs="auto",
        batch_size=64,
        lr="auto",
        betas=(0.5, 0.999),
        validation_fraction=None,
        device="auto",
        n_threads=None,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        super().__init__(
            contamination=contamination,
            preprocessing=preprocessing,
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
            device=device,
            n_threads=n_threads,
            random_state=random_state,
            verbose=verbose,
            callbacks=callbacks,
        )

    def _build_model(self, spec):
        return ToyGANModel(
            make_decoder(spec, self.latent_dim_, output_activation=self.output_activation_),
            make_discriminator(spec),
            latent_dim=self.latent_dim_,
        )


FAST_PARAMS[ToyGAN] = dict(
    max_epochs=2, batch_size=16, hidden_layer_sizes=(8,), conv_channels=(4, 8), latent_dim=2,
    random_state=0, device="cpu", preprocessing=None,
)  # fmt: skip

pytestmark = pytest.mark.parametrize("cls", [ToyGAN], ids=["ToyGAN"])


@pytest.fixture(scope="module", autouse=True)
def registered():
    """ToyGAN registers itself for this module's tests, and leaves no trace after."""
    register_detector(ToyGAN)
    yield
    unregister_detector("ToyGAN")


def test_a_registered_method_reaches_the_command_line_and_the_registry(cls):
    assert dict(all_detectors())["ToyGAN"] is cls
    assert cli._methods()["ToyGAN"] is cls and cli._method_name("toygan") == "ToyGAN"


@parametrize_with_checks([ToyGAN(**{**FAST_PARAMS[ToyGAN], "preprocessing": "auto"})])
def test_sklearn_compatible(estimator, check, cls):
    check(estimator)
