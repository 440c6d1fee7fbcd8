"""The shared network builders: shapes, features, normalisation and init."""

import math

import pytest
import torch
from torch import nn

from sklearn_ganad.networks import (
    NetworkSpec,
    conv_levels,
    make_decoder,
    make_discriminator,
    make_encoder,
    make_mlp,
    reset_parameters_,
)


@pytest.mark.parametrize(
    "image_shape, levels, feature_size",
    [
        ((1, 8, 8), 1, (4, 4)),
        ((1, 28, 28), 2, (7, 7)),
        ((3, 32, 32), 3, (4, 4)),
        ((1, 64, 64), 4, (4, 4)),
        ((1, 7, 7), 1, (7, 7)),
        ((2, 6, 10), 1, (3, 5)),
    ],
)
def test_conv_networks_adapt_to_the_image_size(image_shape, levels, feature_size):
    assert len(conv_levels(image_shape)) == levels
    assert conv_levels(image_shape)[-1].out_size == feature_size
    spec = NetworkSpec("conv", math.prod(image_shape), image_shape)
    encoder = make_encoder(spec, 10)
    decoder = make_decoder(spec, 10, output_activation="tanh")
    discriminator = make_discriminator(spec)
    x = torch.randn(3, spec.n_features)
    assert encoder(x).shape == (3, 10)
    assert decoder(encoder(x)).shape == (3, spec.n_features)
    assert decoder(encoder(x)).abs().max() <= 1
    assert discriminator(x).shape == (3,)
    channels = spec.conv_channels[levels - 1]
    assert discriminator.features(x).shape == (3, channels * math.prod(feature_size))
    logits, features = discriminator.forward_with_features(x)
    assert torch.allclose(logits, discriminator(x)) and torch.allclose(
        features, discriminator.features(x)
    )


def test_dcgan_32x32_matches_ganomaly_layout():
    spec = NetworkSpec("conv", 1024, (1, 32, 32))
    encoder = make_encoder(spec, 100)
    convs = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (1, 64, (4, 4), (2, 2)),
        (64, 128, (4, 4), (2, 2)),
        (128, 256, (4, 4), (2, 2)),
        (256, 100, (4, 4), (1, 1)),
    ]
    # DCGAN: no batch norm on the first level.
    assert sum(isinstance(m, nn.BatchNorm2d) for m in encoder.modules()) == 2


def test_too_few_conv_channels_is_an_error_naming_the_need():
    with pytest.raises(ValueError, match="needs 3 resolution levels"):
        NetworkSpec("conv", 1024, (1, 32, 32), conv_channels=(8, 16))
    with pytest.raises(ValueError, match="image_shape"):
        NetworkSpec("conv", 1024)
    with pytest.raises(ValueError, match="kind"):
        NetworkSpec("rnn", 10)


def test_mlp_layers_follow_the_requested_options():
    trunk, width = make_mlp(
        10,
        (16, 8),
        activation="leaky_relu",
        negative_slope=0.1,
        dropout=0.2,
        batch_norm=True,
        batch_norm_first=False,
    )
    kinds = [type(m).__name__ for m in trunk]
    assert kinds == [
        "Linear",
        "LeakyReLU",
        "Dropout",
        "Linear",
        "BatchNorm1d",
        "LeakyReLU",
        "Dropout",
    ]
    assert width == 8 and trunk[1].negative_slope == 0.1 and trunk[2].p == 0.2


def test_mlp_encoder_decoder_and_discriminator_shapes():
    spec = NetworkSpec("mlp", 121, hidden_layer_sizes=(64, 32))
    encoder, discriminator = make_encoder(spec, 16), make_discriminator(spec)
    decoder = make_decoder(spec, 16)
    x = torch.randn(4, 121)
    assert encoder(x).shape == (4, 16)
    assert decoder(torch.randn(4, 16)).shape == (4, 121)
    assert discriminator(x).shape == (4,) and discriminator.features(x).shape == (4, 32)
    widths = [m.out_features for m in decoder.modules() if isinstance(m, nn.Linear)]
    assert widths == [32, 64, 121]  # mirrored from the latent side
    custom = make_decoder(spec, 16, hidden_layer_sizes=(64, 128))
    assert [m.out_features for m in custom.modules() if isinstance(m, nn.Linear)] == [64, 128, 121]


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_spectral_norm_is_applied_to_every_layer(kind):
    spec = NetworkSpec(kind, 64, (1, 8, 8) if kind == "conv" else None, hidden_layer_sizes=(8,))
    discriminator = make_discriminator(spec, spectral_norm=True, batch_norm=False)
    layers = [m for m in discriminator.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert layers and all(hasattr(m, "parametrizations") for m in layers)
    discriminator.train()
    for _ in range(20):  # power iterations converge to a unit spectral norm
        discriminator(torch.randn(4, 64))
    weight = layers[0].weight.flatten(1)
    assert torch.linalg.matrix_norm(weight, ord=2).item() == pytest.approx(1.0, abs=0.05)


def test_initialisations_follow_the_papers():
    torch.manual_seed(0)
    conv = make_encoder(NetworkSpec("conv", 4096, (1, 64, 64)), 100)
    weights = torch.cat([m.weight.flatten() for m in conv.modules() if isinstance(m, nn.Conv2d)])
    assert weights.mean().item() == pytest.approx(0.0, abs=1e-3)
    assert weights.std().item() == pytest.approx(0.02, rel=0.05)
    mlp = make_encoder(NetworkSpec("mlp", 200, hidden_layer_sizes=(300,)), 10)
    first = mlp.trunk[0].weight
    bound = math.sqrt(6 / (200 + 300))  # Glorot uniform
    assert first.abs().max().item() <= bound and first.abs().max().item() > 0.9 * bound
    assert torch.all(mlp.trunk[0].bias == 0)


def test_reset_parameters_redraws_weights_and_running_statistics():
    spec = NetworkSpec("conv", 1024, (1, 32, 32))
    discriminator = make_discriminator(spec)
    discriminator.train()
    discriminator(torch.randn(8, 1024) * 5)
    norm = next(m for m in discriminator.modules() if isinstance(m, nn.BatchNorm2d))
    before = next(discriminator.parameters()).detach().clone()
    reset_parameters_(discriminator, "conv")
    assert not torch.equal(before, next(discriminator.parameters()))
    assert torch.all(norm.running_mean == 0) and torch.all(norm.running_var == 1)


def test_reset_parameters_resets_batch_norm_scales_of_perceptrons():
    discriminator = make_discriminator(NetworkSpec("mlp", 10, hidden_layer_sizes=(8, 8)))
    norm = next(m for m in discriminator.modules() if isinstance(m, nn.BatchNorm1d))
    with torch.no_grad():
        norm.weight.fill_(3.0)
        norm.bias.fill_(2.0)
    reset_parameters_(discriminator, "mlp")
    assert torch.all(norm.weight == 1) and torch.all(norm.bias == 0)
