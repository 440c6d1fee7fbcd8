"""The training loop without host synchronisation per step, and mixed precision."""

import pickle

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score
from skorch.callbacks import Callback

from sklearn_ganad import (
    EGBAD,
    GANNet,
    GANomaly,
    TrainingDivergedWarning,
)
from sklearn_ganad._net import epoch_losses
from sklearn_ganad.utils._torch import fused_adam_supported

from ._params import make_fast
from .test_net import _data, _model


def _fit_net(seed=0, **params):
    torch.manual_seed(seed)
    params = {"max_epochs": 3, "batch_size": 16, "verbose": 0, **params}
    return GANNet(_model(), **params).fit(_data(n=96))


def _history_losses(net):
    epochs = [epoch_losses(row) for row in net.history]
    batches = [
        {k: v for k, v in batch.items() if k != "train_batch_size"}
        for row in net.history
        for batch in row["batches"]
    ]
    return epochs, batches


@pytest.mark.parametrize("every", ["epoch", 2, 5])
def test_losses_read_in_bulk_train_and_record_exactly_as_per_batch(every):
    per_batch = _fit_net(loss_sync_every=1)
    bulk = _fit_net(loss_sync_every=every)
    assert _history_losses(bulk) == _history_losses(per_batch)
    for (name, p), (_, q) in zip(
        per_batch.module_.named_parameters(), bulk.module_.named_parameters(), strict=True
    ):
        assert torch.equal(p, q), name
    # Every batch has its losses, each player's and each term's.
    batch = bulk.history[-1, "batches", -1]
    assert {"train_loss", "train_loss_discriminator", "train_loss_adv"} <= set(batch)


def test_auto_reads_every_batch_on_the_cpu_only():
    net = GANNet(_model(), loss_sync_every="auto", device="cpu")
    assert net._sync_interval() == 1
    net.set_params(device="cuda")
    assert net._sync_interval() == 0
    assert GANNet(_model(), loss_sync_every="epoch")._sync_interval() == 0
    assert GANNet(_model(), loss_sync_every=7)._sync_interval() == 7
    with pytest.raises(ValueError, match="loss_sync_every must be a positive int"):
        GANNet(_model(), loss_sync_every=0)._sync_interval()


class _HostReads:
    """Counts the calls that copy a tensor's value to the host (each a device sync)."""

    names = ("item", "tolist", "__bool__", "__float__", "__int__", "numpy")

    def __init__(self, monkeypatch):
        self.count = 0
        for name in self.names:
            original = getattr(torch.Tensor, name)
            monkeypatch.setattr(torch.Tensor, name, self._counting(original))

    def _counting(self, original):
        def counted(tensor, *args, **kwargs):
            self.count += 1
            return original(tensor, *args, **kwargs)

        return counted


def _host_reads_of_a_fit(monkeypatch, n_rows, every):
    data = _data(n=n_rows)
    torch.manual_seed(0)
    # Fused Adam, as the detectors use it where supported: the unfused CPU
    # kernel reads its step counts (CPU tensors) with .item() every step.
    net = GANNet(
        _model(), max_epochs=2, batch_size=8, verbose=0, loss_sync_every=every,
        optimizer__fused=True,
    )  # fmt: skip
    net.initialize()
    with monkeypatch.context() as patch:
        reads = _HostReads(patch)
        net.partial_fit(data)
    return reads.count


@pytest.mark.skipif(
    not fused_adam_supported("cpu"), reason="this torch has no fused Adam on the CPU"
)
def test_host_reads_do_not_grow_with_the_number_of_steps(monkeypatch):
    # Four times the batches: the same number of reads when losses are read
    # once per epoch, and more when they are read every batch.
    few = _host_reads_of_a_fit(monkeypatch, 32, "epoch")
    many = _host_reads_of_a_fit(monkeypatch, 128, "epoch")
    assert many == few
    assert _host_reads_of_a_fit(monkeypatch, 128, 1) > many


@pytest.mark.parametrize("every", [1, "epoch"])
def test_a_non_finite_loss_read_in_bulk_still_restores_the_last_sane_epoch(every):
    class NaNAfterFirstEpoch(GANNet):
        def train_step(self, batch, **fit_params):
            if len(self.history) == 2 and self.history[-1]["batches"][1:]:
                with torch.no_grad():
                    next(self.module_.discriminator.parameters()).fill_(float("nan"))
            return super().train_step(batch, **fit_params)

    torch.manual_seed(0)
    net = NaNAfterFirstEpoch(
        _model(), max_epochs=4, batch_size=16, verbose=0, loss_sync_every=every
    )
    with pytest.warns(TrainingDivergedWarning, match="epoch 2.*restored to the end of epoch 1"):
        net.fit(_data(n=96))
    assert net.history[-1, "diverged"] is True and len(net.history) == 2
    assert all(torch.isfinite(p).all() for p in net.module_.parameters())


def test_ganomaly_resets_at_each_read(small_table):
    # A threshold every discriminator loss is below: one reset per read.
    detector = make_fast(GANomaly, discriminator_reset_threshold=1e9, max_epochs=2)
    detector.fit(small_table)
    n_batches = sum(len(row["batches"]) for row in detector.net_.history)
    assert detector.net_.module_.n_discriminator_resets == n_batches  # read every batch
    net = detector.net_
    net.set_params(loss_sync_every="epoch")
    before = net.module_.n_discriminator_resets
    net.partial_fit(np.asarray(small_table, dtype=np.float32), epochs=1)
    assert net.module_.n_discriminator_resets == before + 1


def _anomaly_task(n_train=600, n_test=400, d=8, seed=0):
    rng = np.random.RandomState(seed)
    cov = rng.normal(size=(d, d)) / np.sqrt(d)
    X_train = rng.normal(size=(n_train, d)) @ cov
    normal = rng.normal(size=(n_test // 2, d)) @ cov
    anomalies = rng.normal(size=(n_test // 2, d)) @ cov + rng.choice([-1.5, 1.5], size=(1, d))
    X_test = np.vstack([normal, anomalies])
    y_test = np.r_[np.zeros(len(normal)), np.ones(len(anomalies))]
    return X_train, X_test, y_test


def test_bf16_scores_and_ranking_match_float32():
    X_train, X_test, y_test = _anomaly_task()
    kwargs = dict(max_epochs=30, batch_size=64, random_state=0, n_threads=1)
    full = GANomaly(**kwargs).fit(X_train)
    scores_32 = -full.score_samples(X_test)
    # The same weights scored in bfloat16 (8 significant bits): measured, a
    # median difference of 0.3% of the mean score and at most 11% on one row
    # of 400; the order of the rows hardly moves.
    full.net_.set_params(precision="bf16")
    scores_bf16_eval = -full.score_samples(X_test)
    full.net_.set_params(precision="32")
    relative = np.abs(scores_bf16_eval - scores_32) / np.abs(scores_32).mean()
    assert np.median(relative) < 0.01 and relative.max() < 0.2
    assert spearmanr(scores_bf16_eval, scores_32).statistic > 0.99
    auc_32 = roc_auc_score(y_test, scores_32)
    assert abs(roc_auc_score(y_test, scores_bf16_eval) - auc_32) < 0.005
    # Trained and scored in bfloat16.
    half = GANomaly(precision="bf16", **kwargs).fit(X_train)
    auc_bf16 = roc_auc_score(y_test, -half.score_samples(X_test))
    assert auc_32 > 0.85
    assert abs(auc_bf16 - auc_32) < 0.005, (auc_32, auc_bf16)


def test_float16_trains_with_a_gradient_scaler_per_player(small_table):
    detector = make_fast(EGBAD, precision="16", max_epochs=3).fit(small_table)
    scalers = detector.net_.grad_scalers_
    assert set(scalers) == set(detector.net_.module_.players)
    assert all(s.is_enabled() and s.get_scale() > 0 for s in scalers.values())
    assert np.isfinite(detector.score_samples(small_table)).all()
    assert not make_fast(EGBAD, max_epochs=1).fit(small_table).net_.grad_scalers_


def test_precision_is_validated_before_training(small_table):
    with pytest.raises(ValueError, match="precision"):
        make_fast(GANomaly, precision="8").fit(small_table)


def test_weight_average_counts_steps_on_the_host():
    # The moving average's warm-up reads the step count from the host, not
    # from the buffer on the device; both agree after training.
    net = _fit_net(ema_decay=0.9)
    updates = net.module_.weight_average__updates
    assert int(updates) == sum(len(row["batches"]) for row in net.history)


class CtrlCOnce(Callback):
    """Raises KeyboardInterrupt once, in epoch 2, between unscale_ and the scaler's step."""

    def initialize(self):
        self.fired_ = False
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        if not self.fired_ and len(net.history) == 2:
            self.fired_ = True
            raise KeyboardInterrupt


def test_a_ctrl_c_between_unscale_and_step_leaves_a_usable_scaler(small_table):
    # Raised by a callback, the KeyboardInterrupt ends training quietly.
    detector = make_fast(
        GANomaly, precision="16", max_epochs=3, callbacks=[("ctrl_c", CtrlCOnce())]
    ).fit(small_table)
    assert len(detector.net_.history) == 2
    restored = pickle.loads(pickle.dumps(detector))  # a scaler mid-step refuses to pickle
    restored.partial_fit(small_table)  # and to unscale again
    assert np.isfinite(restored.score_samples(small_table)).all()


def test_float16_set_after_initialisation_gets_its_scalers():
    net = GANNet(_model(), max_epochs=1, batch_size=16, verbose=0).initialize()
    assert net.grad_scalers_ == {}
    net.set_params(precision="16")
    net.partial_fit(_data(n=32))
    assert set(net.grad_scalers_) == set(net.module_.players)


def test_the_gradient_penalty_runs_in_float32_under_autocast():
    from sklearn_ganad.losses import gradient_penalty

    critic = torch.nn.Linear(4, 1)
    real, generated = torch.randn(8, 4), torch.randn(8, 4).to(torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        penalty = gradient_penalty(lambda x: critic(x).squeeze(1), real, generated)
    assert penalty.dtype == torch.float32
