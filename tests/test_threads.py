"""n_threads: how many torch threads a detector uses, and that the caller's setting survives."""

import joblib
import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from threadpoolctl import threadpool_limits

from sklearn_ganad import GANomaly
from sklearn_ganad.utils._torch import resolve_n_threads

from ._params import ALL_DETECTORS, make_fast


class _RecordThreads(Callback):
    """Records torch's thread count in every batch's history (callbacks are copied at fit)."""

    def on_batch_begin(self, net, **kwargs):
        net.history.record_batch("threads", torch.get_num_threads())


def _threads_seen(detector):
    return {n for epoch in detector.net_.history for n in (b["threads"] for b in epoch["batches"])}


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("cls", ALL_DETECTORS, ids=lambda c: c.__name__)
def test_n_threads_bounds_training_and_scoring_and_is_restored(
    cls, small_table, two_threads, monkeypatch
):
    detector = make_fast(cls, n_threads=1, callbacks=[_RecordThreads()]).fit(small_table)
    assert _threads_seen(detector) == {1}
    assert torch.get_num_threads() == 2

    # Scoring too: the threads the network's forward pass runs with.
    during = []
    model_class = type(detector.net_.module_)
    anomaly_score = model_class.anomaly_score

    def recording(self, *args, **kwargs):
        during.append(torch.get_num_threads())
        return anomaly_score(self, *args, **kwargs)

    monkeypatch.setattr(model_class, "anomaly_score", recording)
    detector.score_samples(small_table)
    assert during and set(during) == {1}
    assert torch.get_num_threads() == 2


def test_n_threads_none_follows_threadpoolctl_limits(small_table, two_threads):
    detector = make_fast(GANomaly, callbacks=[_RecordThreads()])
    with threadpool_limits(limits=1):
        detector.fit(small_table)
    assert _threads_seen(detector) == {1}
    detector.fit(small_table)
    assert _threads_seen(detector) == {2}


class _Fails(Callback):
    def on_batch_begin(self, net, **kwargs):
        raise RuntimeError("a callback failed")


def test_an_error_in_training_restores_the_threads(small_table, two_threads):
    detector = make_fast(GANomaly, n_threads=1, callbacks=[_Fails()])
    with pytest.raises(RuntimeError, match="a callback failed"):
        detector.fit(small_table)
    assert torch.get_num_threads() == 2


def test_negative_n_threads_counts_from_the_cpus():
    cpus = joblib.cpu_count()
    assert resolve_n_threads(-1) == cpus
    assert resolve_n_threads(-2) == max(1, cpus - 1)
    assert resolve_n_threads(-1000) == 1
    assert resolve_n_threads(3) == 3
    assert resolve_n_threads(None) is None


def test_zero_threads_is_refused_before_training(small_table):
    detector = GANomaly(n_threads=0)
    with pytest.raises(ValueError, match="n_threads=0 runs nothing"):
        detector.fit(small_table)
    assert not hasattr(detector, "net_")


def test_joblib_workers_limit_the_threads_of_a_detector():
    # loky gives each of n_jobs workers cpu_count // n_jobs threads through
    # OMP_NUM_THREADS; torch, and so a detector with n_threads=None, follows.
    counts = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(_threads_in_a_worker)() for _ in range(2)
    )
    assert set(counts) == {max(1, joblib.cpu_count() // 2)}


def _threads_in_a_worker():
    X = np.random.RandomState(0).normal(size=(40, 3))
    detector = GANomaly(max_epochs=1, callbacks=[_RecordThreads()], random_state=0).fit(X)
    return max(_threads_seen(detector))
