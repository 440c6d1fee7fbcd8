"""Module classes shared by all methods: a trunk-and-head encoder and a decoder."""

from __future__ import annotations

import torch
from torch import nn


class Encoder(nn.Module):
    """A network read as a feature trunk followed by a linear head.

    Encoders (x -> z) and discriminators (x -> logit) share this shape; the
    trunk's output is what feature matching compares (``features``), the
    layer before the output, as in the papers.

    Parameters
    ----------
    trunk : torch.nn.Module
        Maps the input to the feature representation.
    head : torch.nn.Module
        Maps the features to the output.
    image_shape : tuple of int (C, H, W) or None, default=None
        When given, flat inputs of ``C * H * W`` values are reshaped to images
        before the trunk, so every module of the package reads 2-D tensors.
    squeeze : bool, default=False
        Return shape ``(n,)`` instead of ``(n, 1)``; used for logits.
    """

    def __init__(self, trunk: nn.Module, head: nn.Module, image_shape=None, squeeze=False):
        super().__init__()
        self.unflatten = nn.Unflatten(1, tuple(image_shape)) if image_shape else nn.Identity()
        self.trunk = trunk
        self.head = head
        self.squeeze = squeeze

    def _trunk(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(self.unflatten(x))

    def _head(self, hidden: torch.Tensor) -> torch.Tensor:
        out = self.head(hidden).flatten(1)
        return out.squeeze(1) if self.squeeze else out

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Return the trunk's features, flattened to shape ``(n, d)``.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)

        Returns
        -------
        features : torch.Tensor of shape (n, d)
        """
        return self._trunk(x).flatten(1)

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the output and the features from one pass through the trunk.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)

        Returns
        -------
        output : torch.Tensor
        features : torch.Tensor of shape (n, d)
        """
        hidden = self._trunk(x)
        return self._head(hidden), hidden.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the head's output.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)

        Returns
        -------
        output : torch.Tensor of shape (n, out_features), or (n,) when squeezed
        """
        return self._head(self._trunk(x))


class Decoder(nn.Module):
    """A generator body whose output is flattened to ``(n, n_features)``.

    Parameters
    ----------
    body : torch.nn.Module
        Maps latent codes of shape ``(n, latent_dim)`` to samples.
    """

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return generated samples, flattened.

        Parameters
        ----------
        z : torch.Tensor of shape (n, latent_dim)

        Returns
        -------
        x : torch.Tensor of shape (n, n_features)
        """
        return self.body(z).flatten(1)
