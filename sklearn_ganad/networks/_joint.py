"""Discriminators of pairs: BiGAN's D(x, z) and ALAD's D_xx(x, x') and D_zz(z, z')."""

from __future__ import annotations

import torch
from torch import nn


class JointDiscriminator(nn.Module):
    """D(x, z): an x branch and a z branch, concatenated, then a joint trunk.

    The joint trunk's output is the feature layer f(x, z) that EGBAD's
    feature-matching score compares; the head maps it to one logit.

    Parameters
    ----------
    x_branch : torch.nn.Module
        Maps flat samples (n, n_features) to (n, d_x).
    z_branch : torch.nn.Module
        Maps latent codes (n, latent_dim) to (n, d_z).
    joint : torch.nn.Module
        Maps the concatenation (n, d_x + d_z) to the features (n, d).
    head : torch.nn.Module
        Maps the features to a logit (n, 1).
    """

    def __init__(self, x_branch: nn.Module, z_branch: nn.Module, joint: nn.Module, head: nn.Module):
        super().__init__()
        self.x_branch = x_branch
        self.z_branch = z_branch
        self.joint = joint
        self.head = head

    def features(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Return the joint features f(x, z) of shape (n, d)."""
        return self.joint(torch.cat([self.x_branch(x), self.z_branch(z)], dim=1))

    def forward_with_features(self, x: torch.Tensor, z: torch.Tensor):
        """Return the logits (n,) and the features (n, d) from one pass."""
        features = self.features(x, z)
        return self.head(features).squeeze(1), features

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Return the logits, shape (n,)."""
        return self.forward_with_features(x, z)[0]


class PairDiscriminator(nn.Module):
    """D(a, b) for two samples of the same kind, read as one input.

    Table rows and latent codes are concatenated along the features. Images
    are stacked along their height, as ALAD's code does for D_xx, so the
    convolutions see both images side by side.

    Parameters
    ----------
    encoder : Encoder
        The trunk and head applied to the pair; its input is the pair's flat
        concatenation (of shape (C, 2H, W) for images).
    image_shape : tuple of int (C, H, W) or None, default=None
        Shape of one image, or None for vectors.
    """

    def __init__(self, encoder: nn.Module, image_shape=None):
        super().__init__()
        self.encoder = encoder
        self.image_shape = tuple(image_shape) if image_shape else None

    def _pair(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if self.image_shape is None:
            return torch.cat([a, b], dim=1)
        # unflatten, not view((len(a), ...)): len() would fix the batch size
        # of an exported graph.
        images = [side.unflatten(1, self.image_shape) for side in (a, b)]
        return torch.cat(images, dim=2).flatten(1)

    def features(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Return the features of the pair, shape (n, d)."""
        return self.encoder.features(self._pair(a, b))

    def forward_with_features(self, a: torch.Tensor, b: torch.Tensor):
        """Return the logits (n,) and the features (n, d) from one pass."""
        return self.encoder.forward_with_features(self._pair(a, b))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Return the logits, shape (n,)."""
        return self.encoder(self._pair(a, b))
