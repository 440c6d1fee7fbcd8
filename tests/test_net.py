"""GANNet: players, optimizers, alternating updates, callbacks and divergence."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from skorch.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    GradientNormClipping,
    LoadInitState,
    LRScheduler,
)
from skorch.dataset import Dataset
from torch.optim.lr_scheduler import ReduceLROnPlateau, StepLR

from sklearn_ganad import (
    ArrayBatchIterator,
    GANNet,
    GANomaly,
    GANomalyModel,
    TrainingDivergedWarning,
)
from sklearn_ganad.networks import NetworkSpec, make_decoder, make_discriminator, make_encoder

from ._params import make_fast


def _model(n_features=5, latent_dim=3):
    spec = NetworkSpec("mlp", n_features, hidden_layer_sizes=(8,))
    return GANomalyModel(
        make_encoder(spec, latent_dim),
        make_decoder(spec, latent_dim),
        make_encoder(spec, latent_dim),
        make_discriminator(spec),
    )


def _data(n=64, d=5):
    return np.random.RandomState(0).normal(size=(n, d)).astype(np.float32)


def _snapshot(module):
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def _changed(before, module):
    return {name for name, p in module.named_parameters() if not torch.equal(before[name], p)}


def test_one_optimizer_per_player_over_disjoint_parameters():
    net = GANNet(_model(), max_epochs=1, batch_size=16, verbose=0).initialize()
    generator = {id(p) for g in net.optimizer_.param_groups for p in g["params"]}
    discriminator = {id(p) for g in net.optimizer_discriminator_.param_groups for p in g["params"]}
    model = net.module_
    assert generator == {id(p) for _, p in model.player_parameters("generator")}
    assert discriminator == {id(p) for p in model.discriminator.parameters()}
    assert not generator & discriminator
    assert generator | discriminator == {id(p) for p in model.parameters()}
    assert net._optimizers == ["optimizer", "optimizer_discriminator"]


@pytest.mark.parametrize("frozen_player", ["generator", "discriminator"])
def test_each_player_only_updates_its_own_networks(frozen_player):
    # A zero learning rate for one player: only the other player's weights move.
    # (``lr`` is every player's default; ``optimizer_<player>__lr`` overrides it.)
    lr = (
        {"lr": 0.0, "optimizer_discriminator__lr": 1e-3}
        if frozen_player == "generator"
        else {"optimizer_discriminator__lr": 0.0}
    )
    net = GANNet(_model(), max_epochs=2, batch_size=16, verbose=0, **lr).initialize()
    before = _snapshot(net.module_)
    net.partial_fit(_data())
    changed = _changed(before, net.module_)
    discriminator = {n for n in before if n.startswith("discriminator.")}
    if frozen_player == "generator":
        assert changed and changed <= discriminator
    else:
        assert changed and not changed & discriminator


def test_players_are_updated_alternately_in_the_models_order():
    calls = []

    class Recording(GANomalyModel):
        def player_loss(self, player, x, cache):
            calls.append(player)
            return super().player_loss(player, x, cache)

    base = _model()
    model = Recording(base.encoder, base.decoder, base.latent_encoder, base.discriminator)
    GANNet(model, max_epochs=1, batch_size=16, verbose=0).fit(_data(n=64))
    assert calls == ["generator", "discriminator"] * 4


def test_update_every_skips_a_player_on_other_batches():
    calls = []

    class EveryThird(GANomalyModel):
        player_networks = {
            "discriminator": ("discriminator",),
            "generator": ("encoder", "decoder", "latent_encoder"),
        }

        def update_every(self, player):
            return 3 if player == "generator" else 1

        def player_loss(self, player, x, cache):
            if torch.is_grad_enabled():  # a training step, not the loss report
                calls.append(player)
            return super().player_loss(player, x, cache)

    base = _model()
    model = EveryThird(base.encoder, base.decoder, base.latent_encoder, base.discriminator)
    net = GANNet(model, max_epochs=1, batch_size=8, verbose=0).fit(_data(n=48))
    assert calls.count("discriminator") == 6 and calls.count("generator") == 2
    assert np.isfinite(net.history[-1, "train_loss"])


def test_gradients_of_the_idle_player_are_not_computed():
    net = GANNet(_model(), max_epochs=1, batch_size=16, verbose=0).initialize()
    x = torch.as_tensor(_data(n=16))
    net.module_.train()
    net.history.new_epoch()
    net.history.new_batch()
    net._player_step("discriminator", x, {}, (x, None))
    assert all(p.grad is None for _, p in net.module_.player_parameters("generator"))
    assert all(p.requires_grad for p in net.module_.parameters())


def test_array_batch_iterator_slices_batches_and_merges_a_single_tail():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    sizes = [len(xb) for xb, _ in ArrayBatchIterator(Dataset(X), batch_size=3)]
    assert sizes == [3, 3, 4]
    assert [len(xb) for xb, _ in ArrayBatchIterator(Dataset(X[:9]), batch_size=3)] == [3, 3, 3]
    torch.manual_seed(0)
    rows = torch.cat([xb for xb, _ in ArrayBatchIterator(Dataset(X), 4, shuffle=True)])
    assert sorted(rows[:, 0].tolist()) == X[:, 0].tolist()
    assert rows[:, 0].tolist() != X[:, 0].tolist()
    assert len(ArrayBatchIterator(Dataset(X), batch_size=3)) == 3


def test_lr_scheduler_drives_every_optimizer(small_table):
    detector = make_fast(
        GANomaly, max_epochs=4, callbacks=[LRScheduler(policy=StepLR, step_size=2, gamma=0.1)]
    ).fit(small_table)
    net = detector.net_
    for optimizer in (net.optimizer_, net.optimizer_discriminator_):
        assert optimizer.param_groups[0]["lr"] == pytest.approx(2e-6)
    assert net.history[:, "event_lr"] == pytest.approx([2e-4, 2e-4, 2e-5, 2e-5])


def test_plateau_scheduler_gets_the_monitored_score(small_table):
    detector = make_fast(
        GANomaly,
        max_epochs=3,
        callbacks=[
            LRScheduler(policy=ReduceLROnPlateau, monitor=lambda net: 1.0, patience=0, factor=0.5)
        ],
    ).fit(small_table)
    for optimizer in (detector.net_.optimizer_, detector.net_.optimizer_discriminator_):
        assert optimizer.param_groups[0]["lr"] == pytest.approx(2e-4 * 0.5**2)


def test_early_stopping_on_validation_loss_restores_every_network(small_table):
    detector = make_fast(
        GANomaly,
        max_epochs=30,
        validation_fraction=0.25,
        lr=1e-2,
        callbacks=[EarlyStopping(monitor="valid_loss", patience=2, load_best=True)],
    ).fit(small_table)
    history = detector.net_.history
    assert len(history) < 30
    assert np.all(np.isfinite(history[:, "valid_loss"]))
    best = int(np.argmin(history[:, "valid_loss"]))
    assert len(history) == best + 1 + 2  # stopped `patience` epochs after the best
    # The restored networks (all of them, in module_) reproduce the best epoch's loss.
    model = detector.net_.module_.eval()
    valid = detector.net_.get_split_datasets(small_table.astype(np.float32))[1]
    X_valid = torch.as_tensor(small_table.astype(np.float32)[valid.indices])
    with torch.no_grad():
        assert model.validation_loss(X_valid).item() == pytest.approx(
            history[best, "valid_loss"], rel=1e-4
        )


def test_checkpoint_and_load_init_state_resume_all_players(small_table, tmp_path):
    def checkpoint():
        return Checkpoint(
            monitor=None,
            dirname=str(tmp_path),
            f_optimizer_discriminator="optimizer_discriminator.pt",
        )

    first = make_fast(GANomaly, max_epochs=3, callbacks=[checkpoint()]).fit(small_table)
    saved = {p.name for p in tmp_path.iterdir()}
    assert {"params.pt", "optimizer.pt", "optimizer_discriminator.pt"} <= saved
    cp = checkpoint()
    resumed = make_fast(GANomaly, max_epochs=2, callbacks=[cp, LoadInitState(cp)])
    resumed.fit(small_table)
    assert len(resumed.net_.history) == 5
    # Both players' optimizers continued: 4 batches per epoch, 3 + 2 epochs.
    for net, steps in ((first.net_, 12), (resumed.net_, 20)):
        for optimizer in (net.optimizer_, net.optimizer_discriminator_):
            assert {int(s["step"]) for s in optimizer.state_dict()["state"].values()} == {steps}


def test_gradient_clipping_acts_on_each_players_gradients(small_table):
    clipped = make_fast(
        GANomaly, max_epochs=1, callbacks=[GradientNormClipping(gradient_clip_value=1e-12)]
    ).fit(small_table)
    plain = make_fast(GANomaly, max_epochs=1).fit(small_table)
    # Adam's second moments record the (clipped) squared gradients of every player.
    for name in ("optimizer_", "optimizer_discriminator_"):
        moments = [
            s["exp_avg_sq"].max().item()
            for s in getattr(clipped.net_, name).state_dict()["state"].values()
        ]
        unclipped = [
            s["exp_avg_sq"].max().item()
            for s in getattr(plain.net_, name).state_dict()["state"].values()
        ]
        assert max(moments) < 1e-20 < max(unclipped)


def test_a_scheduled_detector_pickles_and_scores_the_same(small_table):
    import pickle

    callback = LRScheduler(policy=StepLR, step_size=1, gamma=0.5)
    detector = make_fast(GANomaly, max_epochs=2, callbacks=[callback]).fit(small_table)
    restored = pickle.loads(pickle.dumps(detector))
    assert_array_equal(restored.score_samples(small_table), detector.score_samples(small_table))
    wrapped = dict(restored.net_.callbacks_)["LRScheduler"]
    assert type(wrapped).__name__ == "PlayerLRScheduler" and wrapped.scheduler is not callback


def test_lr_scheduler_subclasses_drive_every_optimizer_too(small_table):
    class HalvingScheduler(LRScheduler):
        pass

    callback = HalvingScheduler(policy=StepLR, step_size=1, gamma=0.5)
    detector = make_fast(GANomaly, max_epochs=2, callbacks=[callback]).fit(small_table)
    for optimizer in (detector.net_.optimizer_, detector.net_.optimizer_discriminator_):
        assert optimizer.param_groups[0]["lr"] == pytest.approx(2e-4 / 4)
    assert type(callback) is HalvingScheduler  # the user's instance is untouched


class _PoisonWeights(Callback):
    """Write NaN into a discriminator weight at the end of a given epoch's first batch."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training and len(net.history) == self.epoch and len(net.history[-1, "batches"]) == 1:
            with torch.no_grad():
                next(net.module_.discriminator.parameters()).fill_(float("nan"))


@pytest.mark.parametrize("epoch", [1, 3])
def test_divergence_stops_with_a_warning_and_restores_a_finite_state(small_table, epoch):
    reference = make_fast(GANomaly, max_epochs=epoch - 1 or 1).fit(small_table)
    detector = make_fast(GANomaly, max_epochs=6, callbacks=[_PoisonWeights(epoch)])
    restored_to = "initial weights" if epoch == 1 else f"end of epoch {epoch - 1}"
    with pytest.warns(TrainingDivergedWarning, match=f"epoch {epoch}.*{restored_to}"):
        detector.fit(small_table)
    history = detector.net_.history
    assert len(history) == epoch and history[-1, "diverged"]
    scores = detector.score_samples(small_table)
    assert np.all(np.isfinite(scores)) and np.isfinite(detector.offset_)
    assert all(torch.isfinite(p).all() for p in detector.net_.module_.parameters())
    if epoch > 1:
        # Restored exactly to the state after the last finite epoch.
        assert_array_equal(scores, reference.score_samples(small_table))
