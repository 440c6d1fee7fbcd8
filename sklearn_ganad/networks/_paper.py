"""The papers' own image networks, built for ``architecture="paper"``.

Where the package's DCGAN-style networks (:mod:`._conv`) stand in for a
paper's layers by default, these builders give the layers the authors' code
used, read from ``algorithms-detailed.md`` (sections 3.4, 4.1, 5.3 and 6.3):

* f-AnoGAN: Gulrajani et al.'s "good" 64x64 ResNet (WGAN-GP), the generator
  with batch norm, the critic (and the izi_f encoder, the critic's layers with
  a latent head) with per-sample layer norm;
* EGBAD: its MNIST model (E, G and D(x, z)); AnoGAN as the EGBAD repository
  reimplemented it for MNIST (the same G, and D with a 1,024-unit layer);
* ALAD: its CIFAR-10 / SVHN model (E, G, D_xz and D_xx; D_zz is the
  perceptron of :func:`make_pair_discriminator`).

The fixed layers need images of fitting size; a builder says which sizes it
takes in its error. Weights are initialised as the authors' code does.
"""

from __future__ import annotations

import math

from torch import nn

from ._init import init_dcgan_, init_xavier_
from ._joint import JointDiscriminator, PairDiscriminator
from ._layers import make_activation, maybe_spectral_norm
from ._mlp import make_mlp
from ._modules import Decoder, Encoder

# f-AnoGAN's ResNet widths per resolution level, from the image side (DIM=64).
RESNET_WIDTHS = (64, 128, 256, 512, 512)


def _image_shape_error(model: str, image_shape, rule: str) -> ValueError:
    channels, height, width = image_shape
    return ValueError(
        f"{model} needs {rule}; got {height}x{width} images. Pad or resize the images, "
        "or use architecture='conv' (the package's DCGAN-style networks, any size)."
    )


def resnet_levels(image_shape) -> int:
    """Number of 2x resampling blocks of the ResNet for ``image_shape``.

    The sides are halved while both stay even and at least 4 after halving:
    4 blocks for 64x64 (down to 4x4, the authors' model), 3 for 32x32, 2 for
    28x28 (down to 7x7).

    Parameters
    ----------
    image_shape : tuple of int (C, H, W)

    Returns
    -------
    levels : int
    """
    _, height, width = image_shape
    levels = 0
    while height % 2 == 0 and width % 2 == 0 and min(height, width) // 2 >= 4:
        height, width, levels = height // 2, width // 2, levels + 1
    if levels == 0:
        raise _image_shape_error(
            "f-AnoGAN's ResNet", image_shape, "even image sides of at least 8 pixels"
        )
    return levels


def _resnet_widths(levels: int) -> tuple:
    return RESNET_WIDTHS[: levels + 1] + (RESNET_WIDTHS[-1],) * max(0, levels + 1 - 5)


class ResidualBlock(nn.Module):
    """Gulrajani et al.'s residual block, halving or doubling the resolution.

    Main path: norm, ReLU, 3x3 convolution, norm, ReLU, 3x3 convolution, with
    nearest-neighbour upsampling before the first convolution (``"up"``) or
    2x2 mean pooling after the second (``"down"``). Shortcut: the same
    resampling and a 1x1 convolution. Output: their sum.

    Parameters
    ----------
    in_channels, out_channels : int
    resample : {"up", "down"}
    norm : {"batch", "layer"}
        Batch norm (the generator) or layer norm over each sample's (C, H, W)
        with a scale and shift per channel (the critic: batch norm would mix
        the samples of the gradient penalty).
    """

    def __init__(self, in_channels: int, out_channels: int, resample: str, norm: str):
        super().__init__()
        self.resample = resample
        middle = out_channels if resample == "up" else in_channels

        def normalise(channels):
            # GroupNorm with one group: per-sample statistics over (C, H, W).
            return nn.BatchNorm2d(channels) if norm == "batch" else nn.GroupNorm(1, channels)

        scale = nn.Upsample(scale_factor=2, mode="nearest") if resample == "up" else None
        pool = nn.AvgPool2d(2) if resample == "down" else None
        self.main = nn.Sequential(
            normalise(in_channels),
            nn.ReLU(),
            *([scale] if scale is not None else []),
            nn.Conv2d(in_channels, middle, 3, padding=1),
            normalise(middle),
            nn.ReLU(),
            nn.Conv2d(middle, out_channels, 3, padding=1),
            *([pool] if pool is not None else []),
        )
        resampling = nn.Upsample(scale_factor=2, mode="nearest") if scale else nn.AvgPool2d(2)
        self.shortcut = nn.Sequential(resampling, nn.Conv2d(in_channels, out_channels, 1))

    def forward(self, x):
        """Return shortcut(x) + main(x)."""
        return self.shortcut(x) + self.main(x)


def make_resnet_generator(latent_dim: int, image_shape, *, output_activation="tanh") -> Decoder:
    """f-AnoGAN's ResNet generator z -> x, initialised (Glorot-uniform).

    Linear to 512 channels at the lowest resolution, one upsampling residual
    block per level (512, 256, 128, 64 channels for 64x64 images), then batch
    norm, ReLU, a 3x3 convolution to the image's channels and
    ``output_activation``.

    Parameters
    ----------
    latent_dim : int
    image_shape : tuple of int (C, H, W)
    output_activation : str or None, default="tanh"

    Returns
    -------
    generator : Decoder
    """
    channels, height, width = image_shape
    levels = resnet_levels(image_shape)
    widths = _resnet_widths(levels)[::-1]  # from the latent side
    base = (height >> levels, width >> levels)
    blocks = [ResidualBlock(widths[i], widths[i + 1], "up", "batch") for i in range(levels)]
    body = nn.Sequential(
        nn.Linear(latent_dim, widths[0] * base[0] * base[1]),
        nn.Unflatten(1, (widths[0], *base)),
        *blocks,
        nn.BatchNorm2d(widths[-1]),
        nn.ReLU(),
        nn.Conv2d(widths[-1], channels, 3, padding=1),
        make_activation(output_activation),
    )
    return init_xavier_(Decoder(body))


def make_resnet_critic(image_shape, out_features: int = 1, *, squeeze: bool = True) -> Encoder:
    """f-AnoGAN's ResNet critic x -> logit (or its encoder), initialised.

    A 3x3 convolution to 64 channels, one downsampling residual block per
    level with layer norm (128, 256, 512, 512 channels for 64x64 images), the
    flattened output as the features f(x) (8,192 values for 64x64), and a
    linear head. No dropout, no output activation.

    Parameters
    ----------
    image_shape : tuple of int (C, H, W)
    out_features : int, default=1
        1 for the critic; the latent size for the izi_f encoder (f-AnoGAN
        adds the tanh).
    squeeze : bool, default=True
        Return ``(n,)`` for one output.

    Returns
    -------
    critic : Encoder
    """
    channels, height, width = image_shape
    levels = resnet_levels(image_shape)
    widths = _resnet_widths(levels)
    blocks = [ResidualBlock(widths[i], widths[i + 1], "down", "layer") for i in range(levels)]
    trunk = nn.Sequential(nn.Conv2d(channels, widths[0], 3, padding=1), *blocks, nn.Flatten())
    n_features = widths[-1] * (height >> levels) * (width >> levels)
    head = nn.Linear(n_features, out_features)
    return init_xavier_(Encoder(trunk, head, image_shape=image_shape, squeeze=squeeze))


def _check_divisible(model: str, image_shape, factor: int):
    _, height, width = image_shape
    if height % factor or width % factor:
        raise _image_shape_error(model, image_shape, f"image sides divisible by {factor}")
    return height // factor, width // factor


def _down(in_channels, out_channels, kernel, *, batch_norm, negative_slope, dropout=0.0,
          spectral_norm=False):  # fmt: skip
    """A stride-2 convolution with TensorFlow's "same" padding, then its norm and activation."""
    layers = [
        maybe_spectral_norm(
            nn.Conv2d(in_channels, out_channels, kernel, stride=2, padding=(kernel - 1) // 2),
            spectral_norm,
        )
    ]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.LeakyReLU(negative_slope))
    if dropout:
        layers.append(nn.Dropout(dropout))
    return layers


_EGBAD_MNIST = "EGBAD's MNIST model"


def make_egbad_mnist_encoder(image_shape, latent_dim: int, *, negative_slope=0.1) -> Encoder:
    """EGBAD's MNIST encoder x -> z, initialised N(0, 0.02).

    3x3 convolutions of 32 (stride 1), 64 and 128 channels (stride 2, batch
    norm), leaky ReLU, then a linear layer to the latent code.

    Parameters
    ----------
    image_shape : tuple of int (C, H, W)
        Sides divisible by 4 (28x28 for MNIST).
    latent_dim : int
    negative_slope : float, default=0.1

    Returns
    -------
    encoder : Encoder
    """
    low = _check_divisible(_EGBAD_MNIST, image_shape, 4)
    trunk = nn.Sequential(
        nn.Conv2d(image_shape[0], 32, 3, padding=1),
        nn.LeakyReLU(negative_slope),
        *_down(32, 64, 3, batch_norm=True, negative_slope=negative_slope),
        *_down(64, 128, 3, batch_norm=True, negative_slope=negative_slope),
        nn.Flatten(),
    )
    head = nn.Linear(128 * math.prod(low), latent_dim)
    return init_dcgan_(Encoder(trunk, head, image_shape=image_shape))


def make_egbad_mnist_generator(latent_dim: int, image_shape, *, output_activation="tanh"):
    """EGBAD's (and its AnoGAN's) MNIST generator z -> x, initialised N(0, 0.02).

    Linear 1,024 and linear 128 x H/4 x W/4, each with batch norm and ReLU,
    then transposed 4x4 convolutions to 64 channels (batch norm, ReLU) and to
    the image's channels, each doubling the sides.

    Parameters
    ----------
    latent_dim : int
    image_shape : tuple of int (C, H, W)
        Sides divisible by 4.
    output_activation : str or None, default="tanh"

    Returns
    -------
    generator : Decoder
    """
    low = _check_divisible(_EGBAD_MNIST, image_shape, 4)
    body = nn.Sequential(
        nn.Linear(latent_dim, 1024),
        nn.BatchNorm1d(1024),
        nn.ReLU(),
        nn.Linear(1024, 128 * math.prod(low)),
        nn.BatchNorm1d(128 * math.prod(low)),
        nn.ReLU(),
        nn.Unflatten(1, (128, *low)),
        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.ConvTranspose2d(64, image_shape[0], 4, stride=2, padding=1),
        make_activation(output_activation),
    )
    return init_dcgan_(Decoder(body))


def make_egbad_mnist_joint_discriminator(
    image_shape, latent_dim: int, *, negative_slope=0.1, dropout=0.5
) -> JointDiscriminator:
    """EGBAD's MNIST D(x, z), initialised N(0, 0.02).

    x branch: two 4x4 stride-2 convolutions of 64 channels (the second with
    batch norm), leaky ReLU and dropout; z branch: linear 512; joint: linear
    1,024 (the features of ``"fm"``), then the logit. Dropout 0.5 throughout.

    Parameters
    ----------
    image_shape : tuple of int (C, H, W)
        Sides divisible by 4.
    latent_dim : int
    negative_slope : float, default=0.1
    dropout : float, default=0.5

    Returns
    -------
    discriminator : JointDiscriminator
    """
    low = _check_divisible(_EGBAD_MNIST, image_shape, 4)
    slope = dict(negative_slope=negative_slope, dropout=dropout)
    x_branch = nn.Sequential(
        nn.Unflatten(1, tuple(image_shape)),
        *_down(image_shape[0], 64, 4, batch_norm=False, **slope),
        *_down(64, 64, 4, batch_norm=True, **slope),
        nn.Flatten(),
    )
    z_branch, _ = make_mlp(latent_dim, (512,), **slope)
    joint, _ = make_mlp(64 * math.prod(low) + 512, (1024,), **slope)
    return init_dcgan_(JointDiscriminator(x_branch, z_branch, joint, nn.Linear(1024, 1)))


def make_anogan_mnist_discriminator(image_shape, *, negative_slope=0.1) -> Encoder:
    """The EGBAD repository's AnoGAN MNIST discriminator x -> logit, initialised N(0, 0.02).

    Two 4x4 stride-2 convolutions of 64 channels (the second with batch
    norm), then linear 1,024 with batch norm (the features), leaky ReLU, no
    dropout, and the logit.

    Parameters
    ----------
    image_shape : tuple of int (C, H, W)
        Sides divisible by 4.
    negative_slope : float, default=0.1

    Returns
    -------
    discriminator : Encoder
    """
    low = _check_divisible("AnoGAN's MNIST model", image_shape, 4)
    trunk = nn.Sequential(
        *_down(image_shape[0], 64, 4, batch_norm=False, negative_slope=negative_slope),
        *_down(64, 64, 4, batch_norm=True, negative_slope=negative_slope),
        nn.Flatten(),
        make_mlp(64 * math.prod(low), (1024,), negative_slope=negative_slope, batch_norm=True)[0],
    )
    head = nn.Linear(1024, 1)
    return init_dcgan_(Encoder(trunk, head, image_shape=image_shape, squeeze=True))


_ALAD_CIFAR = "ALAD's CIFAR-10 model"
_ALAD_WIDTHS = (128, 256, 512)


def _alad_x_trunk(image_shape, *, negative_slope, spectral_norm, first_batch_norm):
    layers, in_channels = [], image_shape[0]
    for level, width in enumerate(_ALAD_WIDTHS):
        layers += _down(
            in_channels, width, 4, batch_norm=level > 0 or first_batch_norm,
            negative_slope=negative_slope, spectral_norm=spectral_norm,
        )  # fmt: skip
        in_channels = width
    return layers


def make_alad_cifar_encoder(
    image_shape, latent_dim: int, *, negative_slope=0.2, spectral_norm=False
) -> Encoder:
    """ALAD's CIFAR-10 encoder x -> z, initialised N(0, 0.01).

    4x4 stride-2 convolutions of 128, 256 and 512 channels, each with batch
    norm and leaky ReLU, then a convolution over the remaining H/8 x W/8
    (4x4 for 32x32) to the latent code.

    Parameters
    ----------
    image_shape : tuple of int (C, H, W)
        Sides divisible by 8 (32x32 for CIFAR-10 and SVHN).
    latent_dim : int
    negative_slope : float, default=0.2
    spectral_norm : bool, default=False

    Returns
    -------
    encoder : Encoder
    """
    low = _check_divisible(_ALAD_CIFAR, image_shape, 8)
    trunk = nn.Sequential(
        *_alad_x_trunk(
            image_shape,
            negative_slope=negative_slope,
            spectral_norm=spectral_norm,
            first_batch_norm=True,
        ),  # fmt: skip
    )
    head = maybe_spectral_norm(nn.Conv2d(_ALAD_WIDTHS[-1], latent_dim, low), spectral_norm)
    return init_dcgan_(Encoder(trunk, head, image_shape=image_shape), std=0.01)


def make_alad_cifar_generator(latent_dim: int, image_shape, *, output_activation="tanh"):
    """ALAD's (and its AnoGAN's) CIFAR-10 generator z -> x, initialised N(0, 0.01).

    A transposed convolution from the 1x1 code to 512 channels at H/8 x W/8,
    then transposed 4x4 stride-2 convolutions to 256, 128 and the image's
    channels, batch norm and ReLU in between.

    Parameters
    ----------
    latent_dim : int
    image_shape : tuple of int (C, H, W)
        Sides divisible by 8.
    output_activation : str or None, default="tanh"

    Returns
    -------
    generator : Decoder
    """
    low = _check_divisible(_ALAD_CIFAR, image_shape, 8)
    widths = _ALAD_WIDTHS[::-1]
    layers = [nn.Unflatten(1, (latent_dim, 1, 1)), nn.ConvTranspose2d(latent_dim, widths[0], low)]
    for in_channels, out_channels in zip(widths, widths[1:] + (image_shape[0],), strict=True):
        layers += [
            nn.BatchNorm2d(in_channels),
            nn.ReLU(),
            nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1),
        ]
    layers.append(make_activation(output_activation))
    return init_dcgan_(Decoder(nn.Sequential(*layers)), std=0.01)


def make_alad_cifar_joint_discriminator(
    image_shape, latent_dim: int, *, negative_slope=0.2, dropout=0.2, spectral_norm=False
) -> JointDiscriminator:
    """ALAD's CIFAR-10 D_xz(x, z), initialised N(0, 0.01).

    x branch: 4x4 stride-2 convolutions of 128, 256 and 512 channels (batch
    norm but on the first), leaky ReLU; z branch: two layers of 512 with
    dropout; joint: 1,024 with dropout (the features), then the logit.

    Parameters
    ----------
    image_shape : tuple of int (C, H, W)
        Sides divisible by 8.
    latent_dim : int
    negative_slope : float, default=0.2
    dropout : float, default=0.2
    spectral_norm : bool, default=False

    Returns
    -------
    discriminator : JointDiscriminator
    """
    low = _check_divisible(_ALAD_CIFAR, image_shape, 8)
    options = dict(negative_slope=negative_slope, spectral_norm=spectral_norm)
    x_branch = nn.Sequential(
        nn.Unflatten(1, tuple(image_shape)),
        *_alad_x_trunk(image_shape, first_batch_norm=False, **options),
        nn.Flatten(),
    )
    z_branch, _ = make_mlp(latent_dim, (512, 512), dropout=dropout, **options)
    joint, _ = make_mlp(
        _ALAD_WIDTHS[-1] * math.prod(low) + 512, (1024,), dropout=dropout, **options
    )
    head = maybe_spectral_norm(nn.Linear(1024, 1), spectral_norm)
    return init_dcgan_(JointDiscriminator(x_branch, z_branch, joint, head), std=0.01)


def make_alad_cifar_pair_discriminator(
    image_shape, *, negative_slope=0.2, dropout=0.2, spectral_norm=False
) -> PairDiscriminator:
    """ALAD's CIFAR-10 D_xx(x, x'), initialised N(0, 0.01).

    The two images stacked along the height (2H x W, as the authors'
    concatenation on NHWC's axis 1 does), 5x5 stride-2 convolutions of 64 and
    128 channels with leaky ReLU and dropout and no batch norm, flattened (the
    features), then the logit.

    Parameters
    ----------
    image_shape : tuple of int (C, H, W)
        Sides divisible by 8 (the model's other networks need it).
    negative_slope : float, default=0.2
    dropout : float, default=0.2
    spectral_norm : bool, default=False

    Returns
    -------
    discriminator : PairDiscriminator
    """
    _check_divisible(_ALAD_CIFAR, image_shape, 8)
    channels, height, width = image_shape
    options = dict(negative_slope=negative_slope, dropout=dropout, spectral_norm=spectral_norm)
    trunk = nn.Sequential(
        *_down(channels, 64, 5, batch_norm=False, **options),
        *_down(64, 128, 5, batch_norm=False, **options),
        nn.Flatten(),
    )
    head = maybe_spectral_norm(nn.Linear(128 * (height // 2) * (width // 4), 1), spectral_norm)
    encoder = Encoder(trunk, head, image_shape=(channels, 2 * height, width), squeeze=True)
    return PairDiscriminator(init_dcgan_(encoder, std=0.01), image_shape=image_shape)
