"""Memory-mapped input: trained and scored a block at a time, never loaded whole."""

import sys
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from skorch.dataset import Dataset

from sklearn_ganad import GANomaly
from sklearn_ganad._net import _dataset_array
from sklearn_ganad.utils._rows import ScaledRows, is_memory_mapped

from ._params import ALL_DETECTORS, make_fast


@pytest.fixture
def mapped(tmp_path):
    """300 rows of 5 float32 features, in memory and memory-mapped from a .npy file."""
    X = np.random.RandomState(3).normal(size=(300, 5)).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    return X, np.load(tmp_path / "X.npy", mmap_mode="r")


@pytest.mark.parametrize("cls", ALL_DETECTORS, ids=lambda c: c.__name__)
def test_a_memmap_trains_and_scores_as_the_array(cls, mapped):
    X, mm = mapped
    settings = dict(preprocessing="standard", validation_fraction=0.2)
    in_memory = make_fast(cls, **settings).fit(X)
    from_disk = make_fast(cls, **settings).fit(mm)
    assert_array_equal(from_disk.score_samples(mm), in_memory.score_samples(X))
    assert from_disk.offset_ == in_memory.offset_
    assert_array_equal(from_disk.reconstruct(mm), in_memory.reconstruct(X))
    chunked = make_fast(cls, **settings)
    for start in (0, 150):
        chunked.partial_fit(mm[start : start + 150])
    assert np.all(np.isfinite(chunked.score_samples(mm)))


@pytest.mark.parametrize(
    "settings", [{"preprocessing": "auto"}, {"preprocessing": None, "feature_clip": 1.5}]
)
def test_a_memmap_is_clipped_as_the_array(settings, tmp_path):
    X = np.random.RandomState(4).normal(size=(200, 4)).astype(np.float32)
    X[0, 1] = 1e4  # 14 standard deviations out: beyond the bound whatever the scaling
    np.save(tmp_path / "X.npy", X)
    mm = np.load(tmp_path / "X.npy", mmap_mode="r")
    in_memory = make_fast(GANomaly, **settings).fit(X)
    from_disk = make_fast(GANomaly, **settings).fit(mm)
    assert in_memory.feature_clip_ is not None
    assert_array_equal(from_disk.score_samples(mm), in_memory.score_samples(X))
    assert from_disk.offset_ == in_memory.offset_


def test_memory_mapped_views_are_recognised(mapped, tmp_path):
    X, mm = mapped
    assert is_memory_mapped(mm) and is_memory_mapped(mm[10:20]) and is_memory_mapped(mm.T)
    assert not is_memory_mapped(X) and not is_memory_mapped(np.asarray(mm[[1, 2]]))
    images = np.lib.format.open_memmap(tmp_path / "i.npy", "w+", np.float32, (4, 1, 8, 8))
    assert is_memory_mapped(images.reshape(4, -1))


def test_scaled_rows_read_only_what_is_asked(mapped):
    X, mm = mapped
    rows = ScaledRows(mm, lambda block: block * 2)
    assert rows.shape == (300, 5) and len(rows) == 300
    assert_array_equal(rows[5:9], X[5:9] * 2)
    assert_array_equal(rows[np.array([7, 2, 7, 0])], X[[7, 2, 7, 0]] * 2)
    assert rows[0:3].flags.writeable and rows[0:3].dtype == np.float32
    with pytest.raises(TypeError, match="indexed by rows only"):
        rows[0, 1]
    # The net's batch iterator keeps the rows lazy, also for a validation split.
    assert _dataset_array(Dataset(rows)) is rows


def test_fitting_a_memmap_does_not_copy_it(tmp_path, monkeypatch):
    # 100,000 x 50 float32 = 20 MB on disk; tracemalloc sees numpy's allocations.
    # Blocks of 4,096 rows (1.6 MB in float64) rather than 65,536, which would
    # be a third of this small array.
    monkeypatch.setattr("sklearn_ganad.utils._rows.BLOCK_ROWS", 4096)
    n, d = 100_000, 50
    mm = np.lib.format.open_memmap(tmp_path / "big.npy", "w+", np.float32, (n, d))
    rng = np.random.RandomState(0)
    for start in range(0, n, 10_000):
        mm[start : start + 10_000] = rng.normal(size=(10_000, d))
    mm.flush()
    mm = np.load(tmp_path / "big.npy", mmap_mode="r")
    detector = GANomaly(
        max_epochs=1, batch_size=2048, hidden_layer_sizes=(16,), latent_dim=4, random_state=0
    )
    # A first fit imports what torch's optimizers import lazily (tens of MB of
    # Python objects, once per process): not data.
    GANomaly(max_epochs=1, random_state=0).fit(np.random.RandomState(0).normal(size=(50, 3)))
    tracemalloc.start()
    try:
        detector.fit(mm)
        detector.score_samples(mm)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The scores themselves (n float64, 0.8 MB) and blocks of rows are allowed;
    # a copy of the data (20 MB, or 40 MB in float64) is not.
    assert peak < 0.25 * mm.nbytes, f"peak {peak / 1e6:.1f} MB"
    assert detector.n_features_in_ == d


def test_scoring_many_rows_shows_a_bar_when_verbose_on_a_terminal(mapped, capsys, monkeypatch):
    X, _ = mapped
    detector = make_fast(GANomaly).fit(X)
    monkeypatch.setattr(type(detector), "_score_chunk_size", {"mlp": 64, "conv": 64})
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    detector.score_samples(X)
    assert capsys.readouterr().err == ""  # verbose=0
    detector.net_.verbose = 1
    detector.score_samples(X)
    assert "scoring" in capsys.readouterr().err
    detector.score_samples(X[:64])  # one chunk: no bar
    assert capsys.readouterr().err == ""
