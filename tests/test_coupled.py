"""ensemble_size: Han et al.'s coupled GAN ensemble, for every detector."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ganad import EGBAD, CoupledEnsembleModel, FAnoGAN, GANomaly

from ._params import ALL_DETECTORS, make_fast


def _fitted(detector_class, X, size=3, **params):
    return make_fast(detector_class).set_params(ensemble_size=size, **params).fit(X)


@pytest.mark.parametrize("detector_class", ALL_DETECTORS, ids=lambda c: c.__name__)
def test_every_detector_trains_coupled_members_and_scores_by_their_pairs(detector_class, blobs):
    X = blobs[:200]
    detector = _fitted(detector_class, X)
    model = detector.net_.module_
    assert isinstance(model, CoupledEnsembleModel)
    single = _fitted(detector_class, X, size=1).net_.module_
    assert len(model.members) == 3
    assert all(type(member) is type(single) for member in model.members)
    # One optimizer per player, over that player's networks in every member.
    for player in single.players:
        alone = [p for _, p in single.player_parameters(player)]
        together = [p for _, p in model.player_parameters(player)]
        assert len(together) == 3 * len(alone)
        optimizer = getattr(detector.net_, detector.net_.optimizer_name(player) + "_")
        in_optimizer = {id(p) for group in optimizer.param_groups for p in group["params"]}
        assert {id(p) for p in together} == in_optimizer
    # The members started apart and trained apart.
    first = [m.state_dict() for m in model.members]
    name = next(k for k, v in first[0].items() if v.is_floating_point() and v.numel() > 1)
    assert not torch.equal(first[0][name], first[1][name])
    # The score is the mean over the (member, adversary) pairs the model names.
    x = torch.as_tensor(detector.scaler_.transform(blobs) if detector.scaler_ else blobs)
    x = x.to(next(model.parameters()).dtype)
    pairs = model._pairs()
    if single.score_every_pair:
        assert pairs == [(i, j) for i in range(3) for j in range(3)]
    else:
        assert pairs == [(0, 0), (1, 1), (2, 2)]
    model.eval()
    with torch.no_grad():
        by_pair = []
        for index, adversary in pairs:
            with model._lent(index, adversary) as member:
                by_pair.append(member.anomaly_score(x))
        expected = torch.stack(by_pair).mean(0)
        np.testing.assert_allclose(model.anomaly_score(x), expected, rtol=1e-5, atol=1e-7)
    scores = detector.score_samples(blobs)
    assert np.all(np.isfinite(scores))
    # The same seed gives the same scores; one GAN gives other ones.
    np.testing.assert_array_equal(clone(detector).fit(X).score_samples(blobs), scores)
    assert not np.allclose(_fitted(detector_class, X, size=1).score_samples(blobs), scores)


def test_adversaries_are_lent_and_given_back_even_on_an_error(blobs):
    model = _fitted(EGBAD, blobs[:200], size=2).net_.module_
    own = [m.discriminator for m in model.members]
    with model._lent(0, 1) as member:
        assert member is model.members[0]
        assert member.discriminator is own[1]
        assert member.generator is not model.members[1].generator
    assert [m.discriminator for m in model.members] == own
    with pytest.raises(RuntimeError, match="inside"), model._lent(1, 0):
        raise RuntimeError("inside")
    assert [m.discriminator for m in model.members] == own
    # f-AnoGAN lends its critic; a model without adversary players lends nothing.
    fanogan = _fitted(FAnoGAN, blobs[:200], size=2).net_.module_
    assert fanogan._adversary_modules == ("critic",)


def test_each_batch_draws_a_pairing_shared_by_the_players(blobs):
    torch.manual_seed(0)
    model = _fitted(GANomaly, blobs[:200], size=4).net_.module_
    x = torch.as_tensor(blobs[:32], dtype=torch.float32)
    pairings = set()
    for _ in range(20):
        handoff = {}
        loss, terms = model.player_loss("generator", x, handoff)
        pairing = handoff["pairing"]
        assert sorted(pairing) == [0, 1, 2, 3]
        pairings.add(tuple(pairing))
        # The loss is the members' mean, each against its lent discriminator.
        losses, adv = [], []
        for index, adversary in enumerate(pairing):
            with model._lent(index, adversary) as member:
                member_loss, member_terms = member.player_loss("generator", x, {})
            losses.append(member_loss)
            adv.append(member_terms["loss_adv"])
        torch.testing.assert_close(loss, torch.stack(losses).mean())
        torch.testing.assert_close(terms["loss_adv"], torch.stack(adv).mean())
        # The discriminator step of the same batch reads the same pairing and
        # each member's own reconstruction.
        model.player_loss("discriminator", x, handoff)
        assert handoff["pairing"] == pairing
        assert all("x_hat" in member_handoff for member_handoff in handoff["members"])
    assert len(pairings) > 1


def test_images_and_the_encoder_stage_train_coupled(small_images):
    detector = _fitted(FAnoGAN, small_images, size=2)
    model = detector.net_.module_
    assert model.stage == "encoder"
    assert all(member.stage == "encoder" for member in model.members)
    # The encoder stage ran last and left finite losses and scores.
    assert np.isfinite(detector.net_.history[-1, "train_loss"])
    assert np.all(np.isfinite(detector.score_samples(small_images)))
    contributions = detector.feature_contributions(small_images[:3])
    assert contributions.shape[0] == 3
    assert np.all(np.isfinite(contributions))


def test_contributions_add_up_to_the_coupled_score(blobs):
    detector = _fitted(EGBAD, blobs[:200], size=2)
    contributions = detector.feature_contributions(blobs[-5:])
    np.testing.assert_allclose(
        contributions.sum(1), -detector.score_samples(blobs[-5:]), rtol=1e-3, atol=1e-4
    )


def test_ensemble_size_is_validated_and_one_trains_the_plain_model(blobs):
    with pytest.raises(InvalidParameterError, match="ensemble_size"):
        make_fast(GANomaly).set_params(ensemble_size=0).fit(blobs)
    model = _fitted(GANomaly, blobs[:200], size=1).net_.module_
    assert not isinstance(model, CoupledEnsembleModel)
    with pytest.raises(ValueError, match="two or more models of one class"):
        CoupledEnsembleModel([model])
