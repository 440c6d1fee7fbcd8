"""Weight initialisation schemes of the papers' code."""

from __future__ import annotations

from torch import nn


def init_dcgan_(module: nn.Module, std: float = 0.02) -> nn.Module:
    """Initialise a convolutional network the DCGAN way, in place.

    Convolution and linear weights are drawn from N(0, ``std``), batch-norm
    scales from N(1, ``std``); biases are zero. The GANomaly and EGBAD image
    models use ``std=0.02``, ALAD's CIFAR models ``0.01``.

    Parameters
    ----------
    module : torch.nn.Module
        The network to initialise.
    std : float, default=0.02
        Standard deviation of the weights.

    Returns
    -------
    module : torch.nn.Module
        The same module.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = _raw_weight(layer)
            nn.init.normal_(weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(layer.weight, 1.0, std)
            nn.init.zeros_(layer.bias)
    return module


def init_xavier_(module: nn.Module) -> nn.Module:
    """Initialise linear layers with Glorot-uniform weights and zero biases.

    This is the initialisation of the KDDCUP99 models in the EGBAD and ALAD
    code. Batch-norm layers keep PyTorch's defaults (scale 1, shift 0).

    Parameters
    ----------
    module : torch.nn.Module
        The network to initialise.

    Returns
    -------
    module : torch.nn.Module
        The same module.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(_raw_weight(layer))
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module


def _raw_weight(layer: nn.Module):
    # With spectral normalisation the trainable tensor is the parametrisation's
    # original weight, not the normalised view.
    parametrizations = getattr(layer, "parametrizations", None)
    if parametrizations is not None and "weight" in parametrizations:
        return parametrizations.weight.original
    return layer.weight
