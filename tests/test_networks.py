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


# -- the papers' own image networks (architecture="paper") -------------------


def _count(module, kind):
    return sum(isinstance(layer, kind) for layer in module.modules())


@pytest.mark.parametrize(
    "image_shape, levels, features", [((1, 64, 64), 4, 8192), ((3, 32, 32), 3, 8192),
                                      ((1, 28, 28), 2, 12544), ((1, 8, 8), 1, 2048)],
)  # fmt: skip
def test_fanogan_resnet_follows_the_authors_64x64_model(image_shape, levels, features):
    from sklearn_ganad.networks import (
        ResidualBlock,
        make_resnet_critic,
        make_resnet_generator,
        resnet_levels,
    )

    assert resnet_levels(image_shape) == levels
    n_features = math.prod(image_shape)
    generator = make_resnet_generator(128, image_shape)
    critic = make_resnet_critic(image_shape)
    encoder = make_resnet_critic(image_shape, 128, squeeze=False)
    x = torch.randn(3, n_features)
    assert generator(torch.randn(3, 128)).shape == (3, n_features)
    assert critic(x).shape == (3,) and encoder(x).shape == (3, 128)
    # 64x64: f(x) is 512 channels at 4x4, the paper's 8,192 values.
    assert critic.features(x).shape == (3, features)
    assert _count(generator, ResidualBlock) == _count(critic, ResidualBlock) == levels
    # Batch norm in G; per-sample layer norm (no batch norm) in the critic,
    # whose gradient penalty is per sample: a sample's output ignores the others.
    assert _count(generator, nn.BatchNorm2d) > 0 and _count(critic, nn.BatchNorm2d) == 0
    assert _count(critic, nn.GroupNorm) == 2 * levels and _count(critic, nn.Dropout) == 0
    critic.eval()
    alone = critic(x[:1])
    torch.testing.assert_close(critic(x)[:1], alone)
    if image_shape == (1, 64, 64):
        widths = [m.out_channels for m in critic.trunk.modules() if isinstance(m, nn.Conv2d)]
        assert widths[0] == 64 and max(widths) == 512
        first = generator.body[0]
        assert (first.in_features, first.out_features) == (128, 4 * 4 * 512)


def test_resnet_names_the_image_sizes_it_takes():
    from sklearn_ganad.networks import make_resnet_critic

    with pytest.raises(ValueError, match="even image sides of at least 8 pixels; got 6x6"):
        make_resnet_critic((1, 6, 6))


def test_egbad_and_anogan_mnist_models_follow_the_authors_layers():
    from sklearn_ganad.networks import (
        make_anogan_mnist_discriminator,
        make_egbad_mnist_encoder,
        make_egbad_mnist_generator,
        make_egbad_mnist_joint_discriminator,
    )

    shape, x, z = (1, 28, 28), torch.randn(4, 784), torch.randn(4, 200)
    encoder = make_egbad_mnist_encoder(shape, 200)
    generator = make_egbad_mnist_generator(200, shape)
    joint = make_egbad_mnist_joint_discriminator(shape, 200)
    assert encoder(x).shape == (4, 200) and generator(z).shape == (4, 784)
    assert [m.out_channels for m in encoder.modules() if isinstance(m, nn.Conv2d)] == [32, 64, 128]
    assert encoder.features(x).shape == (4, 128 * 7 * 7)
    linears = [m.out_features for m in generator.modules() if isinstance(m, nn.Linear)]
    assert linears == [1024, 7 * 7 * 128]
    assert isinstance(generator.body[-1], nn.Tanh)
    # D(x, z): x branch 3,136 values, z branch 512, joint features 1,024, dropout 0.5.
    assert joint.x_branch(x).shape == (4, 3136) and joint.z_branch(z).shape == (4, 512)
    assert joint.features(x, z).shape == (4, 1024) and joint(x, z).shape == (4,)
    assert {m.p for m in joint.modules() if isinstance(m, nn.Dropout)} == {0.5}
    anogan = make_anogan_mnist_discriminator(shape)
    assert anogan.features(x).shape == (4, 1024) and anogan(x).shape == (4,)
    assert _count(anogan, nn.Dropout) == 0 and _count(anogan, nn.BatchNorm1d) == 1
    # N(0, 0.02) weights, as the authors' MNIST code.
    weight = generator.body[0].weight
    assert abs(weight.std().item() - 0.02) < 0.002
    with pytest.raises(ValueError, match="sides divisible by 4; got 30x30"):
        make_egbad_mnist_encoder((1, 30, 30), 8)


def test_alad_cifar_model_follows_the_authors_layers():
    from sklearn_ganad.networks import (
        make_alad_cifar_encoder,
        make_alad_cifar_generator,
        make_alad_cifar_joint_discriminator,
        make_alad_cifar_pair_discriminator,
    )

    shape, x, z = (3, 32, 32), torch.randn(4, 3072), torch.randn(4, 100)
    encoder = make_alad_cifar_encoder(shape, 100, spectral_norm=True)
    generator = make_alad_cifar_generator(100, shape)
    joint = make_alad_cifar_joint_discriminator(shape, 100, spectral_norm=True)
    pair = make_alad_cifar_pair_discriminator(shape, spectral_norm=True)
    assert encoder(x).shape == (4, 100) and generator(z).shape == (4, 3072)
    # E's last convolution reads the 4x4 map whole ("valid"), to a 1x1 code.
    assert encoder.head.kernel_size == (4, 4)
    # D_xz: 512 x 4 x 4 = 8,192 from x, two layers of 512 from z, 1,024 features.
    assert joint.x_branch(x).shape == (4, 8192) and joint.z_branch(z).shape == (4, 512)
    assert joint.features(x, z).shape == (4, 1024)
    # D_xx: the pair stacked along the height (64x32), 5x5 convolutions, 16,384 features.
    assert pair.features(x, x).shape == (4, 16384) and pair(x, x).shape == (4,)
    assert {m.kernel_size for m in pair.modules() if isinstance(m, nn.Conv2d)} == {(5, 5)}
    assert _count(pair, nn.BatchNorm2d) == 0
    # Spectral normalisation on every layer of E and the discriminators.
    for network in (encoder, joint, pair):
        layers = [m for m in network.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        assert layers and all(hasattr(m, "parametrizations") for m in layers)
    with pytest.raises(ValueError, match="sides divisible by 8; got 28x28 images. Pad"):
        make_alad_cifar_generator(100, (1, 28, 28))
