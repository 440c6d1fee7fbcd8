"""Network builders shared by every method of the package.

Every builder reads and writes flat tensors of shape ``(n, n_features)``;
convolutional networks reshape to and from ``image_shape`` inside, so the
estimators handle tables and images the same way. A :class:`NetworkSpec`
says which family to build (``"mlp"`` or ``"conv"``) and how wide it is.

Encoders and discriminators are :class:`Encoder` modules: a feature trunk
and a head, with ``features(x)`` giving the layer before the output for
feature matching.

The ``make_resnet_*``, ``make_egbad_mnist_*``, ``make_anogan_mnist_*`` and
``make_alad_cifar_*`` builders are the papers' own image networks, which the
estimators build with ``architecture="paper"``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from ._conv import (
    check_conv_channels,
    conv_levels,
    make_conv_generator,
    make_conv_head,
    make_conv_trunk,
)
from ._init import init_dcgan_, init_xavier_
from ._joint import JointDiscriminator, PairDiscriminator
from ._layers import make_activation, maybe_spectral_norm
from ._mlp import make_mlp
from ._modules import Decoder, Encoder
from ._paper import (
    ResidualBlock,
    make_alad_cifar_encoder,
    make_alad_cifar_generator,
    make_alad_cifar_joint_discriminator,
    make_alad_cifar_pair_discriminator,
    make_anogan_mnist_discriminator,
    make_egbad_mnist_encoder,
    make_egbad_mnist_generator,
    make_egbad_mnist_joint_discriminator,
    make_resnet_critic,
    make_resnet_generator,
    resnet_levels,
)

__all__ = [
    "NetworkSpec",
    "Encoder",
    "Decoder",
    "JointDiscriminator",
    "PairDiscriminator",
    "make_encoder",
    "make_discriminator",
    "make_decoder",
    "make_joint_discriminator",
    "make_pair_discriminator",
    "make_mlp",
    "make_conv_trunk",
    "make_conv_head",
    "make_conv_generator",
    "conv_levels",
    "check_conv_channels",
    "make_activation",
    "maybe_spectral_norm",
    "init_dcgan_",
    "init_xavier_",
    "reset_parameters_",
    "ResidualBlock",
    "resnet_levels",
    "make_resnet_generator",
    "make_resnet_critic",
    "make_egbad_mnist_encoder",
    "make_egbad_mnist_generator",
    "make_egbad_mnist_joint_discriminator",
    "make_anogan_mnist_discriminator",
    "make_alad_cifar_encoder",
    "make_alad_cifar_generator",
    "make_alad_cifar_joint_discriminator",
    "make_alad_cifar_pair_discriminator",
]


@dataclass(frozen=True)
class NetworkSpec:
    """What the networks of one model read and how wide they are.

    Parameters
    ----------
    kind : {"mlp", "conv"}
        Perceptrons for tables, DCGAN-style convolutions for images.
    n_features : int
        Number of values per sample (``C * H * W`` for images).
    image_shape : tuple of int (C, H, W) or None, default=None
        Required for ``kind="conv"``.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Hidden widths of the perceptrons, from the data side.
    conv_channels : tuple of int, default=(64, 128, 256, 512)
        Channels per resolution level of the convolutional nets, from the
        image side; only as many as the image needs are used.
    """

    kind: str
    n_features: int
    image_shape: tuple | None = None
    hidden_layer_sizes: tuple = (128, 64)
    conv_channels: tuple = (64, 128, 256, 512)

    def __post_init__(self):
        if self.kind not in ("mlp", "conv"):
            raise ValueError(f"kind must be 'mlp' or 'conv', got {self.kind!r}.")
        if self.kind == "conv":
            if self.image_shape is None:
                raise ValueError("kind='conv' needs image_shape=(C, H, W).")
            check_conv_channels(self.image_shape, self.conv_channels)


def reset_parameters_(module: nn.Module, kind: str) -> nn.Module:
    """Re-draw a network's weights with its family's initialisation, in place.

    Convolutional nets get DCGAN's N(0, 0.02) (batch-norm scales
    N(1, 0.02)), perceptrons Glorot-uniform (batch-norm scales 1); batch-norm
    shifts and running statistics are reset too.

    Parameters
    ----------
    module : torch.nn.Module
    kind : {"mlp", "conv"}

    Returns
    -------
    module : torch.nn.Module
    """
    for layer in module.modules():
        if isinstance(layer, nn.modules.batchnorm._BatchNorm):
            layer.reset_parameters()  # scale 1, shift 0 and fresh running statistics
    (init_dcgan_ if kind == "conv" else init_xavier_)(module)
    return module


def _init(module: nn.Module, spec: NetworkSpec) -> nn.Module:
    return reset_parameters_(module, spec.kind)


def make_encoder(
    spec: NetworkSpec,
    out_features: int,
    *,
    negative_slope: float = 0.2,
    dropout: float = 0.0,
    batch_norm: bool = True,
    spectral_norm: bool = False,
    squeeze: bool = False,
) -> Encoder:
    """Build an encoder x -> R^out_features (trunk + linear head), initialised.

    Parameters
    ----------
    spec : NetworkSpec
    out_features : int
        Size of the output (the latent dimension for an encoder).
    negative_slope : float, default=0.2
        Leaky ReLU slope of the hidden layers.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    batch_norm : bool, default=True
        Batch normalisation of the hidden layers but the first (DCGAN).
    spectral_norm : bool, default=False
        Spectral normalisation of every layer, head included.
    squeeze : bool, default=False
        Return ``(n,)`` instead of ``(n, 1)`` (for logits).

    Returns
    -------
    encoder : Encoder
    """
    if spec.kind == "conv":
        trunk, feature_shape = make_conv_trunk(
            spec.image_shape,
            spec.conv_channels,
            negative_slope=negative_slope,
            dropout=dropout,
            batch_norm=batch_norm,
            spectral_norm=spectral_norm,
        )
        head = make_conv_head(feature_shape, out_features, spectral_norm=spectral_norm)
    else:
        trunk, width = make_mlp(
            spec.n_features,
            spec.hidden_layer_sizes,
            activation="leaky_relu",
            negative_slope=negative_slope,
            dropout=dropout,
            batch_norm=batch_norm,
            batch_norm_first=False,
            spectral_norm=spectral_norm,
        )
        head = maybe_spectral_norm(nn.Linear(width, out_features), spectral_norm)
    encoder = Encoder(
        trunk, head, image_shape=spec.image_shape if spec.kind == "conv" else None, squeeze=squeeze
    )
    return _init(encoder, spec)


def make_discriminator(spec: NetworkSpec, **kwargs) -> Encoder:
    """Build a discriminator x -> logit with a ``features(x)`` hook, initialised.

    Parameters
    ----------
    spec : NetworkSpec
    **kwargs
        ``negative_slope``, ``dropout``, ``batch_norm``, ``spectral_norm``, as
        for :func:`make_encoder`.

    Returns
    -------
    discriminator : Encoder
        Its forward returns logits of shape ``(n,)``.
    """
    return make_encoder(spec, 1, squeeze=True, **kwargs)


def make_decoder(
    spec: NetworkSpec,
    latent_dim: int,
    *,
    output_activation: str | None = None,
    batch_norm: bool = True,
    hidden_layer_sizes: Sequence[int] | None = None,
) -> Decoder:
    """Build a generator z -> x, initialised.

    Parameters
    ----------
    spec : NetworkSpec
    latent_dim : int
    output_activation : str or None, default=None
        Activation of the output layer ("tanh" for images in [-1, 1], None for
        unbounded table values).
    batch_norm : bool, default=True
        Batch normalisation of the hidden layers.
    hidden_layer_sizes : sequence of int or None, default=None
        Hidden widths of a perceptron generator from the latent side; ``None``
        mirrors ``spec.hidden_layer_sizes``. Ignored by convolutional nets.

    Returns
    -------
    decoder : Decoder
        Its forward returns flat samples of shape ``(n, n_features)``.
    """
    if spec.kind == "conv":
        body = make_conv_generator(
            latent_dim,
            spec.image_shape,
            spec.conv_channels,
            batch_norm=batch_norm,
            output_activation=output_activation,
        )
    else:
        if hidden_layer_sizes is None:
            hidden_layer_sizes = tuple(reversed(spec.hidden_layer_sizes))
        trunk, width = make_mlp(
            latent_dim, hidden_layer_sizes, activation="relu", batch_norm=batch_norm
        )
        body = nn.Sequential(
            trunk, nn.Linear(width, spec.n_features), make_activation(output_activation)
        )
    return _init(Decoder(body), spec)


def make_joint_discriminator(
    spec: NetworkSpec,
    latent_dim: int,
    *,
    layer_sizes: Sequence[int] = (128, 128),
    negative_slope: float = 0.2,
    x_dropout: float = 0.0,
    z_dropout: float = 0.0,
    joint_dropout: float = 0.0,
    x_batch_norm: bool = False,
    spectral_norm: bool = False,
) -> JointDiscriminator:
    """Build BiGAN's D(x, z), initialised.

    Parameters
    ----------
    spec : NetworkSpec
        What x is; a convolutional x branch uses ``spec.conv_channels``.
    latent_dim : int
    layer_sizes : sequence of int, default=(128, 128)
        All entries but the last are the hidden widths of both the x branch
        (for tables) and the z branch; the last is the width of the joint
        layer, whose output is the feature layer f(x, z). The EGBAD and ALAD
        KDDCUP99 models use (128, 128); EGBAD's MNIST model (512, 1024).
    negative_slope : float, default=0.2
    x_dropout, z_dropout, joint_dropout : float, default=0.0
        Dropout after each layer of the x branch, the z branch and the joint
        trunk.
    x_batch_norm : bool, default=False
        Batch normalisation in the x branch (ALAD's KDDCUP99 D_xz has it;
        convolutional branches always normalise all levels but the first).
    spectral_norm : bool, default=False

    Returns
    -------
    discriminator : JointDiscriminator
    """
    branch_sizes, joint_size = tuple(layer_sizes[:-1]), int(layer_sizes[-1])
    if spec.kind == "conv":
        trunk, feature_shape = make_conv_trunk(
            spec.image_shape, spec.conv_channels, negative_slope=negative_slope,
            dropout=x_dropout, spectral_norm=spectral_norm,
        )  # fmt: skip
        x_branch = nn.Sequential(nn.Unflatten(1, spec.image_shape), trunk, nn.Flatten())
        x_width = math.prod(feature_shape)
    else:
        x_branch, x_width = make_mlp(
            spec.n_features, branch_sizes, negative_slope=negative_slope, dropout=x_dropout,
            batch_norm=x_batch_norm, spectral_norm=spectral_norm,
        )  # fmt: skip
    z_branch, z_width = make_mlp(
        latent_dim, branch_sizes, negative_slope=negative_slope, dropout=z_dropout,
        spectral_norm=spectral_norm,
    )  # fmt: skip
    joint, width = make_mlp(
        x_width + z_width, (joint_size,), negative_slope=negative_slope, dropout=joint_dropout,
        spectral_norm=spectral_norm,
    )  # fmt: skip
    head = maybe_spectral_norm(nn.Linear(width, 1), spectral_norm)
    return _init(JointDiscriminator(x_branch, z_branch, joint, head), spec)


def make_pair_discriminator(
    spec: NetworkSpec | None,
    n_features: int,
    *,
    layer_sizes: Sequence[int] = (128,),
    negative_slope: float = 0.2,
    dropout: float = 0.0,
    spectral_norm: bool = False,
) -> PairDiscriminator:
    """Build ALAD's D_xx(x, x') (``spec`` given) or D_zz(z, z') (``spec=None``), initialised.

    Parameters
    ----------
    spec : NetworkSpec or None
        What x is, for a data pair; None for a pair of latent codes.
    n_features : int
        Size of one element of the pair (``spec.n_features`` or the latent size).
    layer_sizes : sequence of int, default=(128,)
        Hidden widths of a perceptron pair discriminator (ALAD's KDDCUP99
        D_xx uses (128,), its D_zz (32,)). Convolutional ones use
        ``spec.conv_channels`` on the two images stacked along the height.
    negative_slope : float, default=0.2
    dropout : float, default=0.0
    spectral_norm : bool, default=False

    Returns
    -------
    discriminator : PairDiscriminator
    """
    if spec is not None and spec.kind == "conv":
        channels, height, width = spec.image_shape
        pair_spec = NetworkSpec(
            "conv", 2 * n_features, (channels, 2 * height, width),
            conv_channels=spec.conv_channels,
        )  # fmt: skip
        image_shape = spec.image_shape
    else:
        pair_spec = NetworkSpec("mlp", 2 * n_features, hidden_layer_sizes=tuple(layer_sizes))
        image_shape = None
    encoder = make_encoder(
        pair_spec, 1, negative_slope=negative_slope, dropout=dropout, batch_norm=False,
        spectral_norm=spectral_norm, squeeze=True,
    )  # fmt: skip
    return PairDiscriminator(encoder, image_shape=image_shape)
