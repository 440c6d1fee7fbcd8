"""partial_fit on every detector: chunked training, its threshold and its seeds."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.metrics import roc_auc_score

from sklearn_ganad import FAnoGAN, GANomaly

from ._params import ALL_DETECTORS, make_fast

each_detector = pytest.mark.parametrize("cls", ALL_DETECTORS, ids=lambda c: c.__name__)


def _one_epoch(cls, **overrides):
    extra = {"encoder_epochs": 1} if cls is FAnoGAN else {}
    return make_fast(cls, max_epochs=1, **extra, **overrides)


@each_detector
def test_first_partial_fit_trains_as_fit_with_one_epoch(cls, small_table):
    fitted = _one_epoch(cls, preprocessing="standard").fit(small_table)
    chunked = _one_epoch(cls, preprocessing="standard").partial_fit(small_table)
    assert_array_equal(chunked.score_samples(small_table), fitted.score_samples(small_table))
    assert chunked.offset_ == fitted.offset_
    assert chunked.n_samples_seen_ == fitted.n_samples_seen_ == len(small_table)
    assert len(chunked.net_.history) == len(fitted.net_.history)


@each_detector
def test_same_seed_and_chunks_give_the_same_scores(cls, small_table):
    chunks = np.array_split(small_table, 3)
    before = torch.random.get_rng_state()

    def train():
        detector = make_fast(cls)
        for chunk in chunks:
            detector.partial_fit(chunk)
        return detector

    first, second = train(), train()
    assert_array_equal(first.score_samples(small_table), second.score_samples(small_table))
    assert first.offset_ == second.offset_
    assert torch.equal(torch.random.get_rng_state(), before)
    assert first.n_samples_seen_ == len(small_table)
    # One epoch per call, and every call after the first draws new noise.
    assert len(first.net_.history) == 3 * (2 if cls is FAnoGAN else 1)
    once = make_fast(cls).partial_fit(chunks[0])
    assert not np.array_equal(first.score_samples(small_table), once.score_samples(small_table))


@each_detector
def test_threshold_is_the_percentile_of_the_sampled_rows(cls, small_table, monkeypatch):
    monkeypatch.setattr(cls, "_threshold_sample_size", {"mlp": 25, "conv": 25})
    detector = make_fast(cls, contamination=0.2)
    for chunk in np.array_split(small_table, 6):
        detector.partial_fit(chunk)
    sample = detector._threshold_rows_
    assert sample.shape == (25, small_table.shape[1])
    # Every sampled row is a training row.
    assert all((small_table.astype(np.float32) == row).all(axis=1).any() for row in sample)
    scores = detector.score_samples(sample)
    assert detector.offset_ == pytest.approx(np.percentile(scores, 20.0), rel=1e-6)
    assert np.mean(detector.predict(sample) == -1) == pytest.approx(0.2, abs=0.04)


@each_detector
def test_chunks_of_a_tenth_rank_as_well_as_fit(cls, blobs):
    # Same passes over the data: fit for 6 epochs, or 6 passes of 10 chunks.
    X, labels = blobs, np.r_[np.zeros(200), np.ones(5)]
    train = blobs[:200]
    settings = dict(preprocessing="standard", max_epochs=6, batch_size=16)
    if cls is FAnoGAN:
        settings["encoder_epochs"] = 6
    aucs = {}
    for seed in (0, 1):
        fitted = make_fast(cls, random_state=seed, **settings).fit(train)
        chunked = make_fast(cls, random_state=seed, **settings)
        for _ in range(6):
            for chunk in np.array_split(train, 10):
                chunked.partial_fit(chunk)
        aucs[seed] = (
            roc_auc_score(labels, -fitted.score_samples(X)),
            roc_auc_score(labels, -chunked.score_samples(X)),
        )
    full = np.mean([a[0] for a in aucs.values()])
    by_chunks = np.mean([a[1] for a in aucs.values()])
    assert by_chunks >= full - 0.05, aucs
    assert by_chunks > 0.9, aucs


@each_detector
def test_partial_fit_checks_its_input(cls, small_table):
    detector = make_fast(cls).partial_fit(small_table)
    with pytest.raises(ValueError, match="X has 4 features, but .* is expecting 5"):
        detector.partial_fit(small_table[:, :4])
    with pytest.raises(TypeError, match="unexpected (option|keyword argument).*'epochs'"):
        detector.partial_fit(small_table, epochs=3)
    with pytest.raises(ValueError, match="minimum of 2 is required"):
        make_fast(cls).partial_fit(small_table[:1])
    with pytest.raises(ValueError, match="NaN"):
        bad = small_table.copy()
        bad[3, 2] = np.nan
        detector.partial_fit(bad)
    # A refused chunk trains nothing.
    assert len(detector.net_.history) == (2 if cls is FAnoGAN else 1)


def test_the_scaler_is_fitted_on_the_first_chunk_and_kept(small_table):
    from sklearn.preprocessing import StandardScaler

    first, *rest = np.array_split(small_table * [1, 10, 100, 1, 1] + 5, 3)
    detector = make_fast(GANomaly, preprocessing="standard").partial_fit(first)
    expected = StandardScaler().fit(first.astype(np.float32))
    for chunk in rest:
        detector.partial_fit(chunk)
        assert detector.scaler_.n_samples_seen_ == len(first)
        np.testing.assert_allclose(detector.scaler_.mean_, expected.mean_, rtol=1e-6)
        np.testing.assert_allclose(detector.scaler_.scale_, expected.scale_, rtol=1e-6)


@each_detector
def test_partial_fit_after_fit_goes_on_training(cls, small_table):
    detector = make_fast(cls).fit(small_table)
    epochs = len(detector.net_.history)
    detector.partial_fit(small_table[:30])
    assert len(detector.net_.history) == epochs + (2 if cls is FAnoGAN else 1)
    assert detector.n_samples_seen_ == len(small_table) + 30
    assert len(detector._threshold_rows_) == 30
    # fit starts afresh.
    detector.fit(small_table)
    assert not hasattr(detector, "_threshold_rows_")
    assert detector.n_samples_seen_ == len(small_table)


@each_detector
def test_partial_fit_on_images(cls, small_images):
    detector = make_fast(cls)
    for chunk in np.array_split(small_images, 2):
        detector.partial_fit(chunk)
    assert detector.architecture_ == "conv"
    assert detector._threshold_rows_.shape == (40, 64)
    assert np.all(np.isfinite(detector.score_samples(small_images)))


@pytest.mark.parametrize("size", [1, 7, 50])
def test_reservoir_keeps_a_uniform_sample(size, monkeypatch):
    # No torch: the shared sampler alone, on 200 rows that are their own index.
    monkeypatch.setattr(GANomaly, "_threshold_sample_size", {"mlp": 20})
    rows = np.arange(200, dtype=np.float32)[:, None]
    counts = np.zeros(200)
    for repeat in range(1000):
        detector = GANomaly()
        detector.architecture_, detector.n_samples_seen_ = "mlp", 0
        rng = np.random.default_rng(repeat)
        for start in range(0, 200, size):
            chunk = rows[start : start + size]
            detector._add_to_threshold_sample(chunk, rng)
            detector.n_samples_seen_ += len(chunk)
        sample = detector._threshold_rows_[:, 0].astype(int)
        assert len(np.unique(sample)) == 20
        counts[sample] += 1
    # Each row is kept with probability 20/200: 100 times in 1000, sd about 9.5.
    assert np.abs(counts - 100).max() < 45
    assert abs(counts[:100].sum() - counts[100:].sum()) < 0.1 * counts.sum()


@pytest.mark.parametrize("stage", ["gan", "encoder", "both"])
def test_fanogan_partial_fit_trains_the_stage_asked_for(stage, small_table):
    detector = make_fast(FAnoGAN).fit(small_table)
    module = detector.net_.module_
    before = {name: p.detach().clone() for name, p in module.named_parameters()}
    detector.partial_fit(small_table, stage=stage)
    changed = {
        name.split(".")[0]
        for name, p in module.named_parameters()
        if not torch.equal(p, before[name])
    }
    expected = {"gan": {"generator", "critic"}, "encoder": {"encoder"}}
    assert changed == expected.get(stage, {"generator", "critic", "encoder"})
    assert module.stage == ("gan" if stage == "gan" else "encoder")


def test_fanogan_partial_fit_refuses_an_unknown_stage(small_table):
    detector = make_fast(FAnoGAN)
    with pytest.raises(ValueError, match="stage must be one of .*'gan'.*got 'critic'"):
        detector.partial_fit(small_table, stage="critic")
    assert not hasattr(detector, "net_")
