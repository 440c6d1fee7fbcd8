"""Interrupted and runaway training, constant scores, and edge-case input errors."""

import re
import signal
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback, EarlyStopping

from sklearn_ganad import (
    ConstantScoresWarning,
    FAnoGAN,
    GANomaly,
    TrainingDivergedWarning,
    TrainingInterruptedWarning,
)

from ._params import ALL_DETECTORS, make_fast


@pytest.fixture(autouse=True)
def python_handles_sigint():
    """Python's own SIGINT handler, as in a terminal.

    A process started in the background by a shell without job control
    inherits SIGINT ignored, and Python then installs no handler: the tests'
    signals would vanish.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class _CtrlC(Callback):
    """Send this process SIGINT, as Ctrl-C does, after a given batch of a given epoch.

    Python's handler raises KeyboardInterrupt wherever the program then is;
    a callback's own ``raise KeyboardInterrupt`` would be an early stop.
    """

    def __init__(self, epoch=2, batch=2):
        self.epoch = epoch
        self.batch = batch

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training and len(net.history) == self.epoch:
            if len(net.history[-1, "batches"]) == self.batch:
                signal.raise_signal(signal.SIGINT)


class _LossSpike(Callback):
    """Record a huge main loss for every batch of a given epoch (the weights stay sane)."""

    def __init__(self, epoch, value=1e9):
        self.epoch = epoch
        self.value = value

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training and len(net.history) == self.epoch:
            net.history.record_batch("train_loss", self.value)


@pytest.mark.parametrize("detector_class", ALL_DETECTORS, ids=lambda c: c.__name__)
def test_ctrl_c_keeps_a_usable_detector_and_says_so(detector_class, small_table):
    detector = make_fast(detector_class, max_epochs=5, callbacks=[("ctrl_c", _CtrlC())])
    with pytest.warns(TrainingInterruptedWarning) as record:
        detector.fit(small_table)
    messages = [str(w.message) for w in record if w.category is TrainingInterruptedWarning]
    assert (
        "interrupted (KeyboardInterrupt) in epoch 2 of 5, after 1 complete epoch" in (messages[0])
    )
    history = detector.net_.history
    assert detector.net_.interrupted_
    assert history[-1, "interrupted"] and not history[0].get("interrupted", False)
    # The second epoch stopped after its second batch; no further epoch ran.
    assert len(history) == 2 and len(history[-1, "batches"]) == 2
    # offset_ is the contamination percentile of what was trained.
    scores = detector.score_samples(small_table)
    assert np.all(np.isfinite(scores))
    assert detector.offset_ == pytest.approx(
        np.percentile(scores, 100 * detector.contamination), rel=1e-6
    )
    assert (detector.predict(small_table) == -1).mean() == pytest.approx(0.1, abs=0.02)
    if detector_class is FAnoGAN:
        # The encoder stage is not started, and the user is told what that means.
        assert len(messages) == 2 and "encoder stage was not started" in messages[1]
    else:
        assert len(messages) == 1
    # A later, uninterrupted fit clears the flag.
    detector.set_params(callbacks=None, max_epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingInterruptedWarning)
        detector.fit(small_table)
    assert not detector.net_.interrupted_


def test_ctrl_c_as_an_error_leaves_the_detector_unfitted(small_table):
    """The command line's way: the warning turned into an error stops fit at once."""
    detector = make_fast(GANomaly, max_epochs=5, callbacks=[("ctrl_c", _CtrlC())])
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingInterruptedWarning)
        with pytest.raises(TrainingInterruptedWarning, match="epoch 2 of 5"):
            detector.fit(small_table)
    with pytest.raises(NotFittedError):
        detector.score_samples(small_table)


def test_ctrl_c_in_partial_training_counts_the_epochs_of_the_call(small_table):
    detector = make_fast(GANomaly, max_epochs=2).fit(small_table)
    net = detector.net_
    net.callbacks = [("ctrl_c", _CtrlC(epoch=4, batch=1))]
    net.initialize_callbacks()
    with pytest.warns(TrainingInterruptedWarning, match="in epoch 2 of 3, after 1 complete"):
        net.partial_fit(small_table, epochs=3)
    assert len(net.history) == 4 and net.history[-1, "interrupted"]


@pytest.mark.parametrize("detector_class", ALL_DETECTORS, ids=lambda c: c.__name__)
def test_runaway_learning_rate_is_caught_and_restored(detector_class, small_table):
    """lr=1e3 keeps every number finite; it used to give AnoGAN one score for every row."""
    overrides = dict(lr=1e3, max_epochs=6)
    if detector_class is FAnoGAN:
        overrides["encoder_lr"] = 1e-3
    detector = make_fast(detector_class, **overrides)
    with pytest.warns(TrainingDivergedWarning) as record:
        detector.fit(small_table)
    message = str(record[0].message)
    assert re.search(r"epoch 1: a weight reached [0-9.e+]+, beyond 1e\+03", message), message
    assert "runaway training" in message and "initial weights" in message
    assert "Lower the learning rate (lr=1000)" in message
    # Stopped in epoch 1 (f-AnoGAN's encoder stage then trains at its own sane lr).
    assert detector.net_.history[0, "diverged"]
    encoder_epochs = detector.encoder_epochs_ if detector_class is FAnoGAN else 0
    assert len(detector.net_.history) == 1 + encoder_epochs
    weights = [p.detach().abs().max().item() for p in detector.net_.module_.parameters()]
    assert max(weights) < 100
    scores = detector.score_samples(small_table)
    assert np.all(np.isfinite(scores)) and np.ptp(scores) > 0
    # The threshold separates the contamination share again.
    assert (detector.predict(small_table) == -1).mean() == pytest.approx(0.1, abs=0.02)


def test_a_loss_many_orders_above_its_first_epochs_is_runaway(small_table):
    reference = make_fast(GANomaly, max_epochs=2).fit(small_table)
    detector = make_fast(GANomaly, max_epochs=5, callbacks=[("spike", _LossSpike(epoch=3))])
    with pytest.warns(TrainingDivergedWarning, match=r"epoch 3: the mean \|train_loss\| reached"):
        detector.fit(small_table)
    assert len(detector.net_.history) == 3
    # Restored exactly to the end of epoch 2.
    np.testing.assert_array_equal(
        detector.score_samples(small_table), reference.score_samples(small_table)
    )


def test_sane_training_is_not_called_runaway(small_table):
    """A long run at a high but sane learning rate raises no divergence warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingDivergedWarning)
        detector = make_fast(GANomaly, max_epochs=60, lr=1e-2).fit(small_table)
    assert len(detector.net_.history) == 60


def test_constant_training_scores_warn_that_the_threshold_separates_nothing():
    X = np.ones((40, 3))
    with pytest.warns(ConstantScoresWarning, match="All 40 training rows got the same score"):
        detector = make_fast(GANomaly).fit(X)
    assert (detector.predict(X) == 1).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConstantScoresWarning)
        make_fast(GANomaly).fit(np.random.RandomState(0).normal(size=(40, 3)))


@pytest.mark.parametrize("shape", [(0, 8, 8), (0, 1, 8, 8)])
def test_zero_image_rows_get_the_zero_samples_message(shape, small_images):
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\) \(shape=\(0, 64\)\)"):
        make_fast(GANomaly).fit(np.zeros(shape, dtype=np.float32))
    detector = make_fast(GANomaly, max_epochs=1).fit(small_images[:, :, :8, :8])
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        detector.score_samples(np.zeros(shape, dtype=np.float32))


def test_values_beyond_float32_are_named_not_called_infinite():
    X = np.random.RandomState(0).normal(size=(30, 3))
    X[4, 2] = -1e300
    with pytest.raises(ValueError, match=r"too large for float32 .* in column\(s\) 2;"):
        make_fast(GANomaly).fit(X)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"in column\(s\) 'c';"):
        make_fast(GANomaly).fit(frame)
    detector = make_fast(GANomaly).fit(frame.iloc[5:])
    with pytest.raises(ValueError, match=r"in column\(s\) 'c';"):
        detector.score_samples(frame)


def test_anogan_table_scores_do_not_depend_on_row_order_or_the_other_rows():
    """Exact here; the documented bound (float32 rounding, 4e-7 relative) elsewhere."""
    from sklearn_ganad import AnoGAN

    X = np.random.RandomState(0).normal(size=(2500, 6))
    detector = make_fast(AnoGAN, max_epochs=2).fit(X[:300])
    scores = detector.score_samples(X)
    order = np.random.RandomState(1).permutation(len(X))
    np.testing.assert_allclose(detector.score_samples(X[order]), scores[order], rtol=1e-6)
    np.testing.assert_allclose(detector.score_samples(X[1030:1033]), scores[1030:1033], rtol=1e-6)


@pytest.mark.parametrize("detector_class", [GANomaly, FAnoGAN], ids=lambda c: c.__name__)
def test_early_stopping_is_not_an_interruption(detector_class, small_table):
    """skorch's EarlyStopping ends training with KeyboardInterrupt on purpose: no warning."""
    stopper = EarlyStopping(monitor="train_loss", patience=1, threshold=10.0)
    detector = make_fast(detector_class, max_epochs=6, callbacks=[stopper])
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingInterruptedWarning)
        detector.fit(small_table)
    history = detector.net_.history
    assert not detector.net_.interrupted_
    assert not any(row.get("interrupted") for row in history)
    if detector_class is FAnoGAN:
        # EarlyStopping ends a stage; the encoder stage still runs.
        assert len(history) > 2 and detector.net_.module_.stage == "encoder"
    else:
        assert len(history) == 2  # stopped after `patience` epochs without gain
