"""Loss and distance functions against values computed by hand."""

import math

import pytest
import torch

from sklearn_ganad.losses import (
    bce_with_logits,
    distance,
    gradient_penalty,
    mean_absolute_error,
    mean_squared_error,
    wasserstein_critic_loss,
)


def test_distances_are_per_sample_means():
    a = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    b = torch.tensor([[1.0, -3.0], [1.0, 0.0]])
    assert mean_absolute_error(a, b).tolist() == [2.0, 1.0]
    assert mean_squared_error(a, b).tolist() == [5.0, 2.0]
    assert distance(a, b, "l1").tolist() == [2.0, 1.0]
    assert distance(a, b, "l2").tolist() == [5.0, 2.0]
    images = torch.zeros(2, 1, 2, 2)
    assert mean_absolute_error(images, images + 1).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="Unknown distance"):
        distance(a, b, "cosine")


def test_bce_with_logits_matches_the_formula():
    logits = torch.tensor([0.0, 2.0, -1.0])
    expected_real = sum(math.log1p(math.exp(-v)) for v in (0.0, 2.0, -1.0)) / 3
    expected_fake = sum(math.log1p(math.exp(v)) for v in (0.0, 2.0, -1.0)) / 3
    assert bce_with_logits(logits, 1.0).item() == pytest.approx(expected_real)
    assert bce_with_logits(logits, 0.0).item() == pytest.approx(expected_fake)
    # Stays finite where a sigmoid followed by log would not.
    assert math.isfinite(bce_with_logits(torch.tensor([200.0]), 0.0).item())


def test_norm_is_a_per_sample_lp_norm():
    from sklearn_ganad.losses import norm

    a = torch.tensor([[3.0, 4.0], [1.0, -1.0]])
    b = torch.zeros(2, 2)
    assert norm(a, b, 1).tolist() == [7.0, 2.0]
    assert norm(a, b, 2).tolist() == pytest.approx([5.0, math.sqrt(2)])


def test_per_sample_bce_is_softplus_against_real():
    from sklearn_ganad.losses import bce_with_logits_per_sample

    logits = torch.tensor([0.0, 2.0, -3.0])
    expected = [math.log1p(math.exp(-v)) for v in (0.0, 2.0, -3.0)]
    assert bce_with_logits_per_sample(logits, 1.0).tolist() == pytest.approx(expected)


def _linear_critic():
    critic = torch.nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0]]))
    return lambda rows: critic(rows).squeeze(1)


def test_gradient_penalty_of_a_linear_critic_is_its_slope_minus_one_squared():
    real, generated = torch.randn(8, 3), torch.randn(8, 3)
    # The gradient of w.x is w everywhere: the penalty is (||w|| - 1)^2 = 16.
    assert gradient_penalty(_linear_critic(), real, generated).item() == pytest.approx(16.0)


def test_wasserstein_critic_loss_formula():
    critic = _linear_critic()
    real, generated = torch.randn(8, 3), torch.randn(8, 3)
    loss, terms = wasserstein_critic_loss(critic, real, generated, penalty_weight=0.5)
    distance = critic(real).mean() - critic(generated).mean()
    assert terms["wasserstein_distance"].item() == pytest.approx(distance.item())
    assert terms["gradient_penalty"].item() == pytest.approx(16.0)
    assert loss.item() == pytest.approx(-distance.item() + 0.5 * 16.0)
