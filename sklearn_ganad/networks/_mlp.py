"""Multi-layer perceptrons: the tabular (KDDCUP99-style) variants of the papers."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ._layers import make_activation, maybe_spectral_norm


def make_mlp(
    in_features: int,
    hidden_layer_sizes: Sequence[int],
    *,
    activation: str = "leaky_relu",
    negative_slope: float = 0.2,
    dropout: float = 0.0,
    batch_norm: bool = False,
    batch_norm_first: bool = True,
    spectral_norm: bool = False,
) -> tuple[nn.Sequential, int]:
    """Build the hidden layers of a perceptron: Linear -> [BatchNorm] -> act -> [Dropout].

    Parameters
    ----------
    in_features : int
        Width of the input.
    hidden_layer_sizes : sequence of int
        Width of each hidden layer, from the input side. May be empty.
    activation : str, default="leaky_relu"
        Activation after every hidden layer (see :func:`make_activation`).
    negative_slope : float, default=0.2
        Leaky ReLU slope (0.1 in the EGBAD code, 0.2 in ALAD's and GANomaly's).
    dropout : float, default=0.0
        Dropout rate after each hidden activation.
    batch_norm : bool, default=False
        Batch normalisation after each hidden linear layer.
    batch_norm_first : bool, default=True
        Whether the first hidden layer is normalised too (DCGAN-style
        discriminators leave it out).
    spectral_norm : bool, default=False
        Spectral normalisation of every linear layer.

    Returns
    -------
    trunk : torch.nn.Sequential
    out_features : int
        Width of the trunk's output.
    """
    layers: list[nn.Module] = []
    width = in_features
    for index, size in enumerate(hidden_layer_sizes):
        normalise = batch_norm and (batch_norm_first or index > 0)
        layers.append(maybe_spectral_norm(nn.Linear(width, size), spectral_norm))
        if normalise:
            layers.append(nn.BatchNorm1d(size))
        layers.append(make_activation(activation, negative_slope))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    return nn.Sequential(*layers), width
