"""Loss and distance functions shared by the methods.

Distances return one value per sample (shape ``(n,)``) so that the same
function serves as a training loss (after ``.mean()``) and as an anomaly
score; every per-sample value is a *mean* over the feature dimensions, which
keeps the papers' weights meaningful whatever the input size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .utils._torch import at_least_float32

__all__ = [
    "DISTANCES",
    "mean_absolute_error",
    "mean_squared_error",
    "distance",
    "norm",
    "norm_terms",
    "mean_squared_terms",
    "bce_with_logits",
    "bce_with_logits_per_sample",
    "gradient_penalty",
    "wasserstein_critic_loss",
]

DISTANCES = ("l1", "l2")


def mean_absolute_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference per sample.

    Parameters
    ----------
    a, b : torch.Tensor of shape (n, ...)

    Returns
    -------
    distance : torch.Tensor of shape (n,)
    """
    return (a - b).abs().flatten(1).mean(1)


def mean_squared_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared difference per sample.

    Parameters
    ----------
    a, b : torch.Tensor of shape (n, ...)

    Returns
    -------
    distance : torch.Tensor of shape (n,)
    """
    return (a - b).square().flatten(1).mean(1)


def distance(a: torch.Tensor, b: torch.Tensor, metric: str) -> torch.Tensor:
    """Per-sample distance by name: ``"l1"`` (mean absolute) or ``"l2"`` (mean squared).

    Parameters
    ----------
    a, b : torch.Tensor of shape (n, ...)
    metric : {"l1", "l2"}

    Returns
    -------
    distance : torch.Tensor of shape (n,)
    """
    if metric == "l1":
        return mean_absolute_error(a, b)
    if metric == "l2":
        return mean_squared_error(a, b)
    raise ValueError(f"Unknown distance {metric!r}; expected one of {DISTANCES}.")


def norm(a: torch.Tensor, b: torch.Tensor, degree: int = 1) -> torch.Tensor:
    """Per-sample L-``degree`` norm of ``a - b`` (a sum over features, not a mean).

    The EGBAD and ALAD scores use norms (``tf.norm(..., ord=d)``); unlike the
    mean-based distances above they grow with the number of features.

    Parameters
    ----------
    a, b : torch.Tensor of shape (n, ...)
    degree : int, default=1

    Returns
    -------
    norm : torch.Tensor of shape (n,)
    """
    return torch.linalg.vector_norm((a - b).flatten(1), ord=degree, dim=1)


def norm_terms(a: torch.Tensor, b: torch.Tensor, degree: int = 1) -> torch.Tensor:
    """Per-feature terms of :func:`norm`: they sum, over features, to the norm.

    For ``r = a - b`` and degree ``d`` the term of feature ``j`` is
    ``|r_j|^d / ||r||_d^(d-1)``: ``|r_j|`` for ``d = 1``, and in general each
    feature's share of ``||r||_d^d`` times ``||r||_d``. A row with ``r = 0``
    gets zeros.

    Parameters
    ----------
    a, b : torch.Tensor of shape (n, ...)
    degree : int, default=1

    Returns
    -------
    terms : torch.Tensor of shape (n, prod(...)), non-negative
    """
    residual = (a - b).flatten(1).abs()
    if degree == 1:
        return residual
    powered = residual.pow(degree)
    total = torch.linalg.vector_norm(residual, ord=degree, dim=1, keepdim=True)
    # 0 / 0 -> 0 for a perfect reconstruction.
    return powered / total.pow(degree - 1).clamp_min(torch.finfo(total.dtype).tiny)


def mean_squared_terms(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-feature terms of :func:`mean_squared_error`: ``(a_j - b_j)^2 / n_features``.

    Parameters
    ----------
    a, b : torch.Tensor of shape (n, ...)

    Returns
    -------
    terms : torch.Tensor of shape (n, prod(...)), non-negative
    """
    residual = (a - b).flatten(1)
    return residual.square() / residual.shape[1]


def bce_with_logits(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Mean sigmoid cross-entropy of ``logits`` against a constant label.

    Working on logits (never on sigmoid outputs) keeps the loss finite when
    the discriminator is confident.

    Parameters
    ----------
    logits : torch.Tensor of shape (n,)
    target : float
        1.0 for "real", 0.0 for "fake".

    Returns
    -------
    loss : torch.Tensor (scalar)
    """
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def bce_with_logits_per_sample(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Sigmoid cross-entropy of each logit against a constant label, shape (n,).

    Against "real" (1) it is softplus(-logit): the cross-entropy scores of
    EGBAD and ALAD.

    Parameters
    ----------
    logits : torch.Tensor of shape (n,)
    target : float

    Returns
    -------
    loss : torch.Tensor of shape (n,)
    """
    return F.binary_cross_entropy_with_logits(
        logits, torch.full_like(logits, target), reduction="none"
    )


def gradient_penalty(critic, real: torch.Tensor, generated: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's penalty: ``mean (||grad D(x_mix)||_2 - 1)^2``.

    ``x_mix`` is a uniformly random point between each real row and the
    generated row beside it (Gulrajani et al., 2017). The graph is kept, so
    the penalty trains the critic.

    Parameters
    ----------
    critic : callable
        D, mapping rows of shape (n, n_features) to scores of shape (n,).
    real, generated : torch.Tensor of shape (n, n_features)

    Returns
    -------
    penalty : torch.Tensor (scalar)
    """
    # In full precision under mixed precision: a float16 input gradient,
    # unscaled, would underflow.
    with torch.autocast(real.device.type, enabled=False):
        real, generated = at_least_float32(real), at_least_float32(generated)
        alpha = torch.rand(len(real), 1, device=real.device, dtype=real.dtype)
        mixed = (real + alpha * (generated - real)).requires_grad_(True)
        (gradient,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
        return (gradient.norm(2, dim=1) - 1.0).square().mean()


def wasserstein_critic_loss(critic, real, generated, penalty_weight: float):
    """WGAN-GP critic loss ``mean D(G(z)) - mean D(x) + penalty_weight * GP``.

    Parameters
    ----------
    critic : callable
        D, mapping rows to scores of shape (n,).
    real, generated : torch.Tensor of shape (n, n_features)
        ``generated`` should carry no graph to G (the critic's step only).
    penalty_weight : float

    Returns
    -------
    loss : torch.Tensor (scalar)
    terms : dict
        ``wasserstein_distance`` (``mean D(x) - mean D(G(z))``) and
        ``gradient_penalty``, for the training history.
    """
    distance = critic(real).mean() - critic(generated).mean()
    penalty = gradient_penalty(critic, real, generated)
    loss = -distance + penalty_weight * penalty
    return loss, {"wasserstein_distance": distance, "gradient_penalty": penalty}
