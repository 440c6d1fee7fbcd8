"""Small building blocks used by every network builder."""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrizations

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "linear")


def make_activation(name: str | None, negative_slope: float = 0.2) -> nn.Module:
    """Return the activation module called ``name``.

    Parameters
    ----------
    name : {"relu", "leaky_relu", "tanh", "sigmoid", "linear"} or None
        ``"linear"`` and ``None`` give the identity.
    negative_slope : float, default=0.2
        Slope of the leaky ReLU for negative inputs.

    Returns
    -------
    activation : torch.nn.Module
    """
    if name is None or name == "linear":
        return nn.Identity()
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    if name == "tanh":
        return nn.Tanh()
    if name == "sigmoid":
        return nn.Sigmoid()
    raise ValueError(f"Unknown activation {name!r}; expected one of {ACTIVATIONS}.")


def maybe_spectral_norm(layer: nn.Module, enabled: bool) -> nn.Module:
    """Wrap ``layer`` in spectral normalisation when ``enabled`` is true.

    Parameters
    ----------
    layer : torch.nn.Module
        A linear or convolutional layer.
    enabled : bool
        Whether to apply :func:`torch.nn.utils.parametrizations.spectral_norm`.

    Returns
    -------
    layer : torch.nn.Module
    """
    return parametrizations.spectral_norm(layer) if enabled else layer
