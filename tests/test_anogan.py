"""AnoGAN and f-AnoGAN: the latent search, the two stages, every score variant."""

import copy
import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import roc_auc_score
from torch import nn

from sklearn_ganad import AnoGAN, AnoGANModel, FAnoGAN, WassersteinAnoGANModel
from sklearn_ganad._anogan import _search_lr_factor
from sklearn_ganad.losses import norm
from sklearn_ganad.presets import paper_params

from ._params import make_fast


def _linear_shapes(module):
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]


@pytest.fixture(scope="module")
def anogan(blobs):
    """An AnoGAN on the normal blob, its model in float64 on the CPU."""
    detector = make_fast(
        AnoGAN, hidden_layer_sizes=(16, 16), generator_layer_sizes=(16,), latent_dim=4,
        max_epochs=30, n_search_iter=40, n_search_candidates=8,
    ).fit(blobs[:200])  # fmt: skip
    return detector, copy.deepcopy(detector.net_.module_).double().eval()


# -- AnoGAN ------------------------------------------------------------------


def test_anogan_paper_preset_is_the_kddcup99_baseline():
    X = np.random.RandomState(0).rand(120, 121).astype(np.float32)
    preset = {**paper_params("AnoGAN", "kddcup99"), "max_epochs": 1, "n_search_iter": 1}
    detector = AnoGAN(**preset, random_state=0).fit(X)
    params = detector.get_params()
    assert (params["lr"], params["batch_size"], params["ema_decay"]) == (1e-5, 50, 0.9999)
    assert (paper_params("AnoGAN", "kddcup99")["n_search_iter"], params["search_lr"]) == (
        500, 0.01,
    )  # fmt: skip
    assert (params["score_method"], params["reconstruction_weight"]) == ("fm", 0.9)
    model = detector.net_.module_
    assert detector.latent_dim_ == 32
    assert _linear_shapes(model.generator) == [(32, 64), (64, 128), (128, 121)]
    assert _linear_shapes(model.discriminator) == [(121, 256), (256, 128), (128, 128), (128, 1)]
    assert [m.p for m in model.discriminator.modules() if isinstance(m, nn.Dropout)] == [0.2] * 3
    assert model.search_candidates.shape == (64, 32)


def test_search_lr_schedule_is_piecewise_constant():
    factors = [_search_lr_factor(step, 500) for step in range(500)]
    assert factors[0] == factors[299] == 1.0
    assert factors[300] == factors[399] == 0.1
    assert factors[400] == factors[499] == 0.05


def test_search_lowers_the_loss(anogan, blobs):
    _, model = anogan
    x = torch.from_numpy(blobs).double()
    start, _ = model.latent_search(x, n_iter=0)
    end, _ = model.latent_search(x)
    assert torch.all(end <= start + 1e-12)
    assert float((start - end).mean()) > 0.05 * float(start.mean())


def test_search_starts_from_the_best_candidate(anogan, blobs):
    _, model = anogan
    x = torch.from_numpy(blobs[:20]).double()
    features = model.discriminator.features(x)
    candidates = model.search_candidates.double()
    losses = torch.stack(
        [model.search_loss(x, features, candidate.expand(len(x), -1)) for candidate in candidates],
        dim=1,
    )
    start, z = model.latent_search(x, n_iter=0)
    assert_allclose(start.detach().numpy(), losses.min(dim=1).values.detach().numpy(), rtol=1e-12)
    assert_array_equal(z.numpy(), candidates[losses.argmin(dim=1)].numpy())


def test_batched_search_equals_the_per_sample_search(anogan, blobs):
    _, model = anogan
    x = torch.from_numpy(blobs[190:]).double()  # normal rows and the outliers
    batched, batched_z = model.latent_search(x)
    for i in range(len(x)):
        single, single_z = model.latent_search(x[i : i + 1])
        assert_allclose(single.numpy(), batched[i : i + 1].numpy(), rtol=1e-10)
        assert_allclose(single_z.numpy(), batched_z[i : i + 1].numpy(), rtol=1e-8, atol=1e-10)


def test_anogan_score_is_the_final_search_loss(anogan, blobs):
    detector, _ = anogan
    model = detector.net_.module_
    x = torch.from_numpy(blobs[:10].astype(np.float32))
    loss, z = model.latent_search(x)
    with torch.no_grad():
        generated = model.generator(z)
        expected = 0.9 * norm(x, generated) + 0.1 * norm(
            model.discriminator.features(x), model.discriminator.features(generated)
        )
    assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-6)
    assert_allclose(-detector.score_samples(blobs[:10]), loss.numpy(), rtol=1e-6)


def test_anogan_scores_do_not_depend_on_the_other_rows(anogan, blobs):
    detector, _ = anogan
    scores = detector.score_samples(blobs)
    assert_array_equal(detector.score_samples(blobs[::-1])[::-1], scores)
    assert_array_equal(detector.score_samples(blobs[200:]), scores[200:])


def test_anogan_ranks_the_outliers_last(anogan, blobs):
    detector, _ = anogan
    scores = detector.score_samples(blobs)
    assert scores[200:].max() < np.percentile(scores[:200], 5)
    assert np.all(detector.predict(blobs[200:]) == -1)


@pytest.mark.parametrize("score_method", ["fm", "ce"])
def test_anogan_score_methods(blobs, score_method):
    detector = make_fast(
        AnoGAN, score_method=score_method, hidden_layer_sizes=(16,), max_epochs=20,
        n_search_iter=20,
    ).fit(blobs[:200])  # fmt: skip
    labels = np.r_[np.zeros(200), np.ones(5)]
    assert roc_auc_score(labels, -detector.score_samples(blobs)) > 0.95


def test_more_search_steps_cost_no_accuracy_of_the_fit(blobs):
    # n_search_iter is a scoring parameter: the same fit scores lower with more steps.
    short = make_fast(AnoGAN, n_search_iter=2).fit(blobs[:200])
    long = make_fast(AnoGAN, n_search_iter=30).fit(blobs[:200])
    assert np.mean(-long.score_samples(blobs)) < np.mean(-short.score_samples(blobs))


def test_anogan_on_images(small_images):
    detector = make_fast(AnoGAN).fit(small_images)
    assert detector.architecture_ == "conv"
    scores = detector.score_samples(small_images[:7])
    assert scores.shape == (7,) and np.all(np.isfinite(scores))
    assert_array_equal(detector.score_samples(small_images[:3]), scores[:3])


def _optimizer_steps(optimizer):
    return {int(state["step"]) for state in optimizer.state.values()}


def test_anogan_wgan_gp_trains_a_critic_and_skips_generator_batches():
    X = np.random.RandomState(0).normal(size=(96, 3))  # six batches of 16
    wgan = make_fast(AnoGAN, gan_loss="wgan-gp", n_critic=3, betas=(0.0, 0.9)).fit(X).net_
    assert _optimizer_steps(wgan.optimizer_discriminator_) == {12}
    assert _optimizer_steps(wgan.optimizer_) == {4}  # the generator's
    terms = ("train_wasserstein_distance", "train_gradient_penalty")
    assert all(np.isfinite(epoch[key]) for epoch in wgan.history for key in terms)
    standard = make_fast(AnoGAN, n_critic=3).fit(X).net_
    assert _optimizer_steps(standard.optimizer_) == {12}  # n_critic is unused
    assert not any(key in epoch for epoch in standard.history for key in terms)


@pytest.mark.parametrize("cls", [AnoGAN, FAnoGAN])
def test_generator_steps_when_an_epoch_has_fewer_batches_than_n_critic(cls):
    # 3 batches per epoch, a generator step every 5 batches: 15 batches, 3 steps.
    X = np.random.RandomState(0).normal(size=(48, 3))
    extra = {"gan_loss": "wgan-gp"} if cls is AnoGAN else {"encoder_epochs": 1}
    net = make_fast(cls, n_critic=5, max_epochs=5, **extra).fit(X).net_
    assert _optimizer_steps(net.optimizer_) == {3}


def test_a_wgan_gp_model_pickled_as_anogan_model_loads_as_its_variant():
    # Before WGAN-GP had its own model class, AnoGANModel carried gan_loss.
    X = np.random.RandomState(0).normal(size=(64, 3))
    wgan = make_fast(AnoGAN, gan_loss="wgan-gp", n_critic=3).fit(X).net_.module_
    assert type(wgan) is WassersteinAnoGANModel
    old_style = copy.deepcopy(wgan)
    old_style.__class__ = AnoGANModel
    old_style.__dict__["gan_loss"] = "wgan-gp"
    restored = pickle.loads(pickle.dumps(old_style))
    assert type(restored) is WassersteinAnoGANModel
    assert restored.update_every("generator") == 3
    old_style.__dict__["gan_loss"] = "standard"
    assert type(pickle.loads(pickle.dumps(old_style))) is AnoGANModel


def test_anogan_wgan_gp_ranks_the_outliers_last(blobs):
    detector = make_fast(
        AnoGAN, gan_loss="wgan-gp", betas=(0.0, 0.9), hidden_layer_sizes=(16,),
        max_epochs=20, n_search_iter=20,
    ).fit(blobs[:200])  # fmt: skip
    labels = np.r_[np.zeros(200), np.ones(5)]
    assert roc_auc_score(labels, -detector.score_samples(blobs)) > 0.95


def test_anogan_wgan_gp_critic_has_no_batch_norm():
    def has_batch_norm(module):
        return any(isinstance(m, nn.BatchNorm2d) for m in module.modules())

    # 16x16: two levels, so D has a normalised second convolution by default.
    images = np.random.RandomState(0).rand(32, 1, 16, 16).astype(np.float32) * 2 - 1
    standard = make_fast(AnoGAN, max_epochs=1).fit(images).net_.module_
    wgan = make_fast(AnoGAN, gan_loss="wgan-gp", max_epochs=1).fit(images).net_.module_
    assert has_batch_norm(standard.discriminator) and has_batch_norm(wgan.generator)
    assert not has_batch_norm(wgan.discriminator)


def test_anogan_refuses_the_ce_score_with_a_critic():
    detector = AnoGAN(gan_loss="wgan-gp", score_method="ce")
    with pytest.raises(ValueError, match="score_method='ce'.*gan_loss='wgan-gp'"):
        detector.fit(np.zeros((10, 3)))
    assert not hasattr(detector, "net_")


# -- f-AnoGAN ------------------------------------------------------------------


def test_fanogan_history_has_one_stage_after_the_other(small_table):
    detector = make_fast(FAnoGAN, max_epochs=3, encoder_epochs=2).fit(small_table)
    history = detector.net_.history
    assert len(history) == 5
    gan_keys = ("train_loss_critic", "train_wasserstein_distance", "train_gradient_penalty")
    encoder_keys = ("train_loss_encoder", "train_loss_image", "train_loss_features")
    for epoch in history[:3]:
        assert all(np.isfinite(epoch[key]) for key in gan_keys)
        assert not any(key in epoch for key in encoder_keys)
    for epoch in history[3:]:
        assert all(np.isfinite(epoch[key]) for key in encoder_keys)
        assert not any(key in epoch for key in gan_keys)
        assert epoch["train_loss"] == epoch["train_loss_encoder"]


def test_fanogan_generator_steps_once_per_n_critic_batches():
    X = np.random.RandomState(0).normal(size=(96, 3))  # six batches of 16
    detector = make_fast(FAnoGAN, max_epochs=2, n_critic=3).fit(X)
    net = detector.net_
    assert _optimizer_steps(net.optimizer_critic_) == {12}
    assert _optimizer_steps(net.optimizer_) == {4}  # the generator's
    assert _optimizer_steps(net.optimizer_encoder_) == {12}  # two encoder epochs
    assert net.optimizer_encoder_.param_groups[0]["lr"] == detector.encoder_lr


def test_fanogan_encoder_stage_leaves_the_gan_untouched(small_images):
    # Same seed, same GAN stage: only the encoder's epochs differ. G has batch
    # norm, whose running statistics must not move while E trains.
    one = make_fast(FAnoGAN, encoder_epochs=1).fit(small_images).net_.module_
    three = make_fast(FAnoGAN, encoder_epochs=3).fit(small_images).net_.module_
    assert any(isinstance(m, nn.BatchNorm2d) for m in one.generator.modules())
    for name in ("generator", "critic"):
        after_three = getattr(three, name).state_dict()
        for key, value in getattr(one, name).state_dict().items():
            assert torch.equal(value, after_three[key]), f"{name}.{key} moved in the encoder stage"
    assert not torch.equal(one.encoder[0].head.weight, three.encoder[0].head.weight)


def test_gradient_penalty_of_a_linear_critic():
    model = make_fast(FAnoGAN).fit(np.random.RandomState(0).normal(size=(40, 3))).net_.module_
    critic = nn.Linear(3, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0]]))
    model.critic = critic
    x, generated = torch.randn(8, 3), torch.randn(8, 3)
    # The gradient of w.x is w everywhere: the penalty is (||w|| - 1)^2 = 16.
    assert model.gradient_penalty(x, generated).item() == pytest.approx(16.0)


@pytest.mark.parametrize("encoder_loss", ["izi_f", "izi", "ziz"])
@pytest.mark.parametrize("score_method", ["izi_f", "izi", "ziz"])
def test_fanogan_variants(blobs, encoder_loss, score_method):
    detector = make_fast(
        FAnoGAN, encoder_loss=encoder_loss, score_method=score_method,
        hidden_layer_sizes=(16,), max_epochs=10, encoder_epochs=10,
    ).fit(blobs[:200])  # fmt: skip
    term = {"izi_f": "train_loss_features", "izi": "train_loss_image", "ziz": "train_loss_latent"}
    assert term[encoder_loss] in detector.net_.history[-1]
    scores = detector.score_samples(blobs)
    assert np.all(np.isfinite(scores))
    if score_method != "ziz":  # the image residual separates far outliers
        labels = np.r_[np.zeros(200), np.ones(5)]
        assert roc_auc_score(labels, -scores) > 0.95


def test_fanogan_izi_f_score_formula(blobs):
    detector = make_fast(FAnoGAN, kappa=2.5).fit(blobs[:200])
    model = detector.net_.module_
    x = torch.from_numpy(blobs[:10].astype(np.float32).astype(np.float64))
    model64 = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        reconstruction = model64.generator(model64.encoder(x))
        image = (x - reconstruction).square().mean(1)
        features = (model64.critic.features(x) - model64.critic.features(reconstruction)).square()
        expected = image + 2.5 * features.mean(1)
    assert_allclose(-detector.score_samples(blobs[:10]), expected.numpy(), rtol=1e-10)


def test_fanogan_encoder_ends_in_tanh(small_table):
    detector = make_fast(FAnoGAN).fit(small_table)
    codes = detector.net_.module_.encoder(torch.from_numpy(small_table.astype(np.float32) * 100))
    assert codes.abs().max() <= 1.0


def test_paper_networks_refuse_the_gradient_penalty(small_images):
    # The EGBAD code's AnoGAN MNIST discriminator has batch norm, which mixes
    # the samples whose gradients WGAN-GP penalises one by one.
    detector = make_fast(AnoGAN, architecture="paper", gan_loss="wgan-gp")
    with pytest.raises(ValueError, match="gan_loss='wgan-gp'; use architecture='conv'"):
        detector.fit(small_images)
    assert not hasattr(detector, "net_")
