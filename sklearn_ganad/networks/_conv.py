"""DCGAN-style convolutional stacks for images of any size.

Each resolution level halves the height and width with a 4x4, stride-2
convolution (the DCGAN block) while both are even and larger than 4. The last
feature map, of size (h, w), is then reduced to a vector by a convolution whose
kernel covers it entirely. Decoders mirror the plan with transposed
convolutions. This adapts the architecture instead of padding the image:

* 64x64: 64 -> 32 -> 16 -> 8 -> 4, head kernel 4 (the DCGAN/GANomaly net);
* 32x32: 32 -> 16 -> 8 -> 4, head kernel 4 (GANomaly's MNIST/CIFAR net);
* 28x28: 28 -> 14 -> 7, head kernel 7 (as EGBAD's MNIST net, which stops at 7);
* 8x8: 8 -> 4, head kernel 4.

Images that cannot be halved at all (odd sizes, or 4x4 and smaller) get one
3x3, stride-1 level so that the network still has a hidden layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from ._layers import make_activation, maybe_spectral_norm


@dataclass(frozen=True)
class ConvLevel:
    """One resolution level: its stride and the feature-map size it produces."""

    stride: int
    out_size: tuple[int, int]


def conv_levels(image_shape: Sequence[int]) -> list[ConvLevel]:
    """Return the resolution levels of the convolutional stack for an image.

    Parameters
    ----------
    image_shape : sequence of int (C, H, W)

    Returns
    -------
    levels : list of ConvLevel
        One entry per convolution of the trunk, from the input side.
    """
    _, height, width = image_shape
    levels = []
    while height % 2 == 0 and width % 2 == 0 and min(height, width) > 4:
        height, width = height // 2, width // 2
        levels.append(ConvLevel(stride=2, out_size=(height, width)))
    if not levels:
        levels.append(ConvLevel(stride=1, out_size=(height, width)))
    return levels


def check_conv_channels(image_shape: Sequence[int], conv_channels: Sequence[int]) -> tuple:
    """Return the channel counts used for ``image_shape``, one per level.

    Parameters
    ----------
    image_shape : sequence of int (C, H, W)
    conv_channels : sequence of int
        Channels per level from the image side; extra entries are unused.

    Returns
    -------
    channels : tuple of int

    Raises
    ------
    ValueError
        If fewer channel counts are given than the image needs levels.
    """
    n_levels = len(conv_levels(image_shape))
    if len(conv_channels) < n_levels:
        shape = "x".join(str(v) for v in image_shape)
        raise ValueError(
            f"conv_channels={tuple(conv_channels)} has {len(conv_channels)} entries, "
            f"but a {shape} image needs {n_levels} resolution levels; pass at least "
            f"{n_levels} channel counts."
        )
    return tuple(int(c) for c in conv_channels[:n_levels])


def _kernel_for(stride: int) -> tuple[int, int]:
    # (kernel, padding): 4/2/1 halves the size exactly; 3/1/1 keeps it.
    return (4, 1) if stride == 2 else (3, 1)


def make_conv_trunk(
    image_shape: Sequence[int],
    conv_channels: Sequence[int],
    *,
    negative_slope: float = 0.2,
    dropout: float = 0.0,
    batch_norm: bool = True,
    spectral_norm: bool = False,
) -> tuple[nn.Sequential, tuple[int, int, int]]:
    """Build the downsampling trunk: Conv -> [BatchNorm] -> LeakyReLU -> [Dropout].

    As in DCGAN, the first level is not batch-normalised.

    Parameters
    ----------
    image_shape : sequence of int (C, H, W)
    conv_channels : sequence of int
        Output channels per level, from the image side.
    negative_slope : float, default=0.2
    dropout : float, default=0.0
    batch_norm : bool, default=True
    spectral_norm : bool, default=False

    Returns
    -------
    trunk : torch.nn.Sequential
        Maps images (n, C, H, W) to feature maps.
    out_shape : tuple of int
        (channels, h, w) of the last feature map.
    """
    channels = check_conv_channels(image_shape, conv_channels)
    layers: list[nn.Module] = []
    in_channels = image_shape[0]
    levels = conv_levels(image_shape)
    for index, (level, out_channels) in enumerate(zip(levels, channels, strict=True)):
        kernel, padding = _kernel_for(level.stride)
        normalise = batch_norm and index > 0
        conv = nn.Conv2d(
            in_channels, out_channels, kernel, level.stride, padding, bias=not normalise
        )
        layers.append(maybe_spectral_norm(conv, spectral_norm))
        if normalise:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(make_activation("leaky_relu", negative_slope))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        in_channels = out_channels
    return nn.Sequential(*layers), (in_channels, *level.out_size)


def make_conv_head(
    feature_shape: Sequence[int], out_features: int, *, spectral_norm: bool = False
) -> nn.Module:
    """Return the convolution that reduces a whole feature map to a vector.

    Parameters
    ----------
    feature_shape : sequence of int (channels, h, w)
    out_features : int
    spectral_norm : bool, default=False

    Returns
    -------
    head : torch.nn.Module
        Maps (n, channels, h, w) to (n, out_features, 1, 1).
    """
    channels, height, width = feature_shape
    conv = nn.Conv2d(channels, out_features, (height, width), 1, 0)
    return maybe_spectral_norm(conv, spectral_norm)


def make_conv_generator(
    latent_dim: int,
    image_shape: Sequence[int],
    conv_channels: Sequence[int],
    *,
    batch_norm: bool = True,
    output_activation: str | None = "tanh",
) -> nn.Sequential:
    """Build the upsampling generator that mirrors :func:`make_conv_trunk`.

    ConvTranspose -> [BatchNorm] -> ReLU at every level; the last layer
    produces the image channels and applies ``output_activation``.

    Parameters
    ----------
    latent_dim : int
    image_shape : sequence of int (C, H, W)
    conv_channels : sequence of int
        Channels per level from the image side, as for the trunk.
    batch_norm : bool, default=True
    output_activation : str or None, default="tanh"

    Returns
    -------
    generator : torch.nn.Sequential
        Maps (n, latent_dim) to images (n, C, H, W).
    """
    channels = check_conv_channels(image_shape, conv_channels)
    levels = conv_levels(image_shape)
    smallest = levels[-1].out_size
    layers: list[nn.Module] = [
        nn.Unflatten(1, (latent_dim, 1, 1)),
        nn.ConvTranspose2d(latent_dim, channels[-1], smallest, 1, 0, bias=not batch_norm),
    ]
    if batch_norm:
        layers.append(nn.BatchNorm2d(channels[-1]))
    layers.append(nn.ReLU())
    for index in reversed(range(len(levels))):
        kernel, padding = _kernel_for(levels[index].stride)
        last = index == 0
        out_channels = image_shape[0] if last else channels[index - 1]
        normalise = batch_norm and not last
        layers.append(
            nn.ConvTranspose2d(
                channels[index],
                out_channels,
                kernel,
                levels[index].stride,
                padding,
                bias=not normalise,
            )
        )
        if last:
            layers.append(make_activation(output_activation))
        else:
            if normalise:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)
