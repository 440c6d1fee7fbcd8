"""Small, fast constructor arguments for every detector of the package."""

from sklearn_ganad import GANomaly

# Tiny networks and two epochs: the common checks fit dozens of times.
FAST_PARAMS = {
    GANomaly: dict(
        max_epochs=2,
        batch_size=16,
        hidden_layer_sizes=(8,),
        conv_channels=(4, 8),
        latent_dim=2,
        random_state=0,
    ),
}

ALL_DETECTORS = list(FAST_PARAMS)


def make_fast(detector_class, **overrides):
    """Return ``detector_class`` with the fast test settings (and overrides)."""
    return detector_class(**{**FAST_PARAMS[detector_class], **overrides})
