"""The data loaders and the evaluation protocols."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.io import savemat
from sklearn.utils import Bunch

from sklearn_ganad import datasets
from sklearn_ganad.datasets import (
    KDDCUP99_COLUMNS,
    list_adbench,
    load_adbench,
    load_breast_cancer_outliers,
    load_digits_one_class,
    load_kddcup99,
    load_mnist,
    load_mnist_one_class,
    load_odds,
    one_class_split,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_one_class_split_trains_on_normal_data_only():
    X = np.arange(100).reshape(50, 2)
    is_anomaly = np.arange(50) >= 40
    data = one_class_split(X, is_anomaly, train_fraction=0.75, random_state=0)
    assert len(data.X_train) == 30 and len(data.X_test) == 20
    assert np.all(data.X_train[:, 0] < 80)  # rows 0..39 are the normal ones
    assert data.y_test.sum() == 10
    np.testing.assert_array_equal(data.y_test, (data.X_test[:, 0] >= 80).astype(int))
    seen = np.concatenate([data.X_train[:, 0], data.X_test[:, 0]])
    assert sorted(seen) == list(range(0, 100, 2))
    again = one_class_split(X, is_anomaly, train_fraction=0.75, random_state=0)
    np.testing.assert_array_equal(again.X_test, data.X_test)


def test_one_class_split_rejects_bad_arguments():
    with pytest.raises(ValueError, match="one entry per sample"):
        one_class_split(np.zeros((5, 2)), [True, False])
    with pytest.raises(ValueError, match="train_fraction"):
        one_class_split(np.zeros((5, 2)), np.zeros(5, bool), train_fraction=1.5)
    with pytest.raises(ValueError, match="leave no room"):
        one_class_split(np.zeros((3, 2)), [False, True, True])


@pytest.mark.parametrize("protocol", ["one-normal", "one-anomalous"])
def test_digits_protocols(protocol):
    data = load_digits_one_class(3, protocol=protocol)
    assert data.X_train.shape[1:] == (1, 8, 8) and data.image_shape == (1, 8, 8)
    assert data.X_train.min() >= -1 and data.X_train.max() <= 1
    n_threes = 183  # in scikit-learn's digits
    if protocol == "one-normal":
        assert len(data.X_train) == round(0.8 * n_threes)
        assert data.y_test.sum() == 1797 - n_threes
    else:
        assert data.y_test.sum() == n_threes
    flat = load_digits_one_class(3, protocol=protocol, as_images=False)
    assert flat.X_train.shape[1] == 64


def test_digits_loader_validates_its_arguments():
    with pytest.raises(ValueError, match="protocol"):
        load_digits_one_class(1, protocol="both")
    with pytest.raises(ValueError, match="digit"):
        load_digits_one_class(10)


def test_breast_cancer_outliers():
    data = load_breast_cancer_outliers()
    assert data.X_train.shape == (286, 30)
    assert data.y_test.sum() == 212 and len(data.y_test) == 357 - 286 + 212
    assert len(data.feature_names) == 30


# -- files the tests write themselves ------------------------------------------------


def _kdd_frame(n=200):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.randint(0, 5, size=(n, 41)), columns=KDDCUP99_COLUMNS[:-1])
    frame["duration"] = np.arange(n)  # identifies each row
    frame["protocol_type"] = rng.choice(["tcp", "udp", "icmp"], n)
    frame["service"] = rng.choice(["http", "smtp", "ftp", "private"], n)
    frame["flag"] = rng.choice(["SF", "S0", "REJ"], n)
    for column in ("land", "logged_in", "is_guest_login"):
        frame[column] = rng.randint(0, 2, n)
    frame["is_host_login"] = 0
    # every fourth row is normal traffic, the anomaly class
    frame["label"] = np.where(np.arange(n) % 4 == 0, "normal.", "smurf.")
    return frame


@pytest.fixture
def kdd_file(tmp_path):
    path = tmp_path / "kddcup.data_10_percent.gz"
    _kdd_frame().to_csv(path, header=False, index=False, compression="gzip")
    return path


def test_kddcup99_protocol(kdd_file):
    data = load_kddcup99(kdd_file, scale=False)
    # 34 numeric + 3 protocols + 4 services + 3 flags + 2 + 2 + 1 + 2 one-hot columns
    assert data.X_train.shape[1] == 34 + 3 + 4 + 3 + 2 + 2 + 1 + 2
    assert data.X_train.dtype == np.float32
    duration = list(data.feature_names).index("duration")
    train_rows = data.X_train[:, duration].astype(int)
    assert np.all(train_rows % 4 != 0)  # no normal traffic in training
    assert len(train_rows) == len(set(train_rows))
    test_rows = data.X_test[:, duration].astype(int)
    assert not set(train_rows) & set(test_rows)
    np.testing.assert_array_equal(data.y_test, (test_rows % 4 == 0).astype(int))
    assert data.y_test.mean() <= 0.2 + 1e-9 and data.threshold_percentile == 80.0
    # Half of the rows were drawn for training, as DataFrame.sample(frac=0.5, random_state=42).
    expected = _kdd_frame().sample(frac=0.5, random_state=42)
    assert set(train_rows) == set(expected.loc[expected.label != "normal.", "duration"])


def test_kddcup99_scaling_and_encodings(kdd_file):
    scaled = load_kddcup99(kdd_file)
    assert scaled.X_train.min() == 0.0 and scaled.X_train.max() == pytest.approx(1.0)
    categorical = load_kddcup99(kdd_file, one_hot="categorical")
    assert categorical.X_train.shape[1] == 34 + 3 + 4 + 3 + 4  # land, ... stay numeric
    with pytest.raises(ValueError, match="one_hot"):
        load_kddcup99(kdd_file, one_hot="all")


def test_kddcup99_rejects_a_file_of_another_shape(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame(np.zeros((5, 10))).to_csv(path, header=False, index=False)
    with pytest.raises(ValueError, match="has 10 columns"):
        load_kddcup99(path)


def test_kddcup99_through_scikit_learns_fetcher(kdd_file, monkeypatch):
    frame = _kdd_frame()
    # fetch_kddcup99 returns an object array with bytes for the text columns
    data = frame.drop(columns="label").astype(object)
    for column in ("protocol_type", "service", "flag"):
        data[column] = data[column].str.encode("ascii")
    fake = Bunch(data=data.to_numpy(), target=frame["label"].str.encode("ascii").to_numpy())
    monkeypatch.setattr(datasets, "fetch_kddcup99", lambda **kwargs: fake)
    fetched = load_kddcup99(None, scale=False)
    from_file = load_kddcup99(kdd_file, scale=False)
    np.testing.assert_array_equal(fetched.X_train, from_file.X_train)
    np.testing.assert_array_equal(fetched.y_test, from_file.y_test)


@pytest.fixture
def odds_file(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 6))
    y = (np.arange(40) < 8).astype(float).reshape(-1, 1)
    path = tmp_path / "toy.mat"
    savemat(path, {"X": X, "y": y})
    return path


def test_odds_protocol(odds_file):
    data = load_odds("toy", path=odds_file, scale=False)
    assert len(data.X_train) == len(data.X_test) == 20
    assert data.y_train.sum() + data.y_test.sum() == 8  # anomalies kept in training
    assert data.threshold_percentile == pytest.approx(100 * (1 - data.y_test.mean()))
    # Read as arrhythmia (the default name), a file gets the ALAD code's 85.
    assert load_odds(path=odds_file).threshold_percentile == 85.0
    # A percentile of one's own, checked before the file is read.
    assert load_odds("toy", path=odds_file, threshold_percentile=90).threshold_percentile == 90.0
    for bad in (0, 100, True, "85"):
        with pytest.raises(ValueError, match="threshold_percentile must be"):
            load_odds("toy", path=odds_file.parent / "missing.mat", threshold_percentile=bad)
    clean = load_odds("toy", path=odds_file, drop_train_anomalies=True)
    assert clean.y_train.sum() == 0 and len(clean.X_train) == 20 - data.y_train.sum()
    assert clean.X_train.min() == 0.0 and clean.X_train.max() == pytest.approx(1.0)


def test_odds_errors(odds_file, tmp_path):
    with pytest.raises(ValueError, match="No download address"):
        load_odds("cardio")
    with pytest.raises(FileNotFoundError, match="No toy file"):
        load_odds("toy", path=tmp_path / "missing.mat")
    savemat(tmp_path / "other.mat", {"data": np.zeros((3, 3))})
    with pytest.raises(ValueError, match="no 'X' and 'y'"):
        load_odds("other", path=tmp_path / "other.mat")


def _write_idx(path, array, magic, compress=True):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def mnist_dir(tmp_path):
    rng = np.random.RandomState(0)
    labels = np.repeat(np.arange(10), 6)
    images = rng.randint(0, 256, size=(60, 28, 28))
    _write_idx(tmp_path / "mnist-t10k-images-idx3-ubyte.gz", images, 2051)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels, 2049, compress=False)
    return tmp_path, images, labels


def test_mnist_idx_reader(mnist_dir):
    directory, images, labels = mnist_dir
    read_images, read_labels = load_mnist(directory)
    np.testing.assert_array_equal(read_images, images)
    np.testing.assert_array_equal(read_labels, labels)
    with pytest.raises(FileNotFoundError, match="train-images"):
        load_mnist(directory, subset="train")
    with pytest.raises(ValueError, match="subset"):
        load_mnist(directory, subset="valid")


def test_mnist_idx_reader_rejects_bad_files(tmp_path):
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((2, 28, 28)), 2049)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(2), 2049)
    with pytest.raises(ValueError, match="not an IDX file of the expected kind"):
        load_mnist(tmp_path)
    header = (2051).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in (5, 28, 28))
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as handle:
        handle.write(header + bytes(100))
    with pytest.raises(ValueError, match="truncated"):
        load_mnist(tmp_path)


def test_mnist_one_class(mnist_dir):
    directory, images, labels = mnist_dir
    data = load_mnist_one_class(4, directory=directory, train_fraction=0.5)
    assert data.X_train.shape == (3, 1, 28, 28) and data.image_shape == (1, 28, 28)
    assert data.y_test.sum() == 54 and len(data.y_test) == 57
    assert data.X_train.min() >= -1 and data.X_train.max() <= 1
    flipped = load_mnist_one_class(
        4, protocol="one-anomalous", directory=directory, as_images=False
    )
    assert flipped.X_train.shape == (43, 784) and flipped.y_test.sum() == 6


def test_download_checks_the_md5(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"sklearn-ganad")
    md5 = datasets._md5(source)
    target = datasets._download(source.as_uri(), tmp_path / "copy.bin", md5)
    assert target.read_bytes() == b"sklearn-ganad"
    with pytest.raises(OSError, match="expected 0+"):
        datasets._download(source.as_uri(), tmp_path / "bad.bin", "0" * 32)
    assert not (tmp_path / "bad.bin").exists()
    with pytest.raises(OSError, match="Could not download"):
        datasets._download((tmp_path / "nothing").as_uri(), tmp_path / "x.bin")


# -- the real files in ../shared/data (skipped where absent) -----------------------

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared data folder {SHARED} is not on this machine"
)


@needs_shared
def test_shared_kddcup99_matches_the_papers_protocol():
    data = load_kddcup99(SHARED / "kddcup.data_10_percent.gz")
    assert data.X_train.shape == (198361, 121)
    assert data.X_test.shape == (247011, 121)
    assert data.y_test.mean() == pytest.approx(0.1969, abs=1e-4)


@needs_shared
def test_shared_arrhythmia():
    data = load_odds(path=SHARED / "arrhythmia.mat")
    assert data.X_train.shape == (226, 274) and data.X_test.shape == (226, 274)
    assert data.y_train.sum() + data.y_test.sum() == 66
    # The ALAD code's threshold: the top 15% of the 226 test scores (34 rows
    # flagged, for the 32 anomalies), as its precision 0.5000 and recall 0.5313 imply.
    assert data.y_test.sum() == 32 and data.threshold_percentile == 85.0
    distinct = np.arange(226.0)
    assert (distinct >= np.percentile(distinct, data.threshold_percentile)).sum() == 34


@needs_shared
def test_shared_mnist_test_images():
    images, labels = load_mnist(SHARED)
    assert images.shape == (10000, 28, 28) and np.bincount(labels).tolist()[:2] == [980, 1135]


# -- ADBench tables the tests write themselves --------------------------------------


def _adbench_arrays(n=200, n_anomalies=20, n_features=4):
    """Rows whose first column is their index; the last ``n_anomalies`` are anomalies."""
    rng = np.random.RandomState(0)
    X = np.column_stack([np.arange(n), rng.normal(size=(n, n_features - 1)) * 1000])
    y = (np.arange(n) >= n - n_anomalies).astype(np.int64)
    return X, y


@pytest.fixture
def adbench_dir(tmp_path):
    X, y = _adbench_arrays()
    np.savez(tmp_path / "10_toy.npz", X=X, y=y)
    np.savez(tmp_path / "2_Other.npz", X=X[:50], y=y[:50].astype(np.int32) | (np.arange(50) < 5))
    return tmp_path


def test_adbench_semi_supervised_split(adbench_dir):
    data = load_adbench("toy", directory=adbench_dir)
    assert data.name == "toy" and data.path.endswith("10_toy.npz")
    assert data.n_samples_in_file == 200 and data.anomaly_share_in_file == pytest.approx(0.1)
    # 60% of the 180 normal rows train; the other 72 and all 20 anomalies test.
    assert data.X_train.shape == (108, 4) and data.X_test.shape == (92, 4)
    assert data.y_test.sum() == 20
    train_rows = data.X_train[:, 0].astype(int)
    test_rows = data.X_test[:, 0].astype(int)
    assert np.all(train_rows < 180)  # no anomaly in training
    assert sorted(np.concatenate([train_rows, test_rows])) == list(range(200))
    np.testing.assert_array_equal(data.y_test, (test_rows >= 180).astype(int))
    assert data.threshold_percentile == pytest.approx(100 * 72 / 92)
    # Raw features: not scaled.
    X, _ = _adbench_arrays()
    np.testing.assert_array_equal(data.X_train, X[train_rows])
    assert data.X_train.dtype == np.float64


def test_adbench_names_and_paths(adbench_dir):
    assert list_adbench(adbench_dir) == ["Other", "toy"]
    by_name = load_adbench("toy", directory=adbench_dir)
    for same in ("10_toy", "10_toy.npz", "TOY"):
        np.testing.assert_array_equal(
            load_adbench(same, directory=adbench_dir).X_test, by_name.X_test
        )
    by_path = load_adbench(adbench_dir / "10_toy.npz", train_fraction=0.5)
    assert by_path.name == "toy" and len(by_path.X_train) == 90
    assert load_adbench("other", directory=adbench_dir).y_test.sum() == 5


def test_adbench_is_deterministic_by_random_state(adbench_dir):
    first = load_adbench("toy", directory=adbench_dir, max_rows=100, random_state=3)
    again = load_adbench("toy", directory=adbench_dir, max_rows=100, random_state=3)
    other = load_adbench("toy", directory=adbench_dir, max_rows=100, random_state=4)
    for key in ("X_train", "X_test", "y_test"):
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(first.X_train, other.X_train)


def test_adbench_row_cap_is_stratified(tmp_path):
    X, y = _adbench_arrays(n=1000, n_anomalies=30)
    np.savez(tmp_path / "big.npz", X=X, y=y)
    data = load_adbench(tmp_path / "big.npz", max_rows=200, random_state=1)
    assert len(data.X_train) + len(data.X_test) == 200
    assert data.y_test.sum() == 6  # 3% of 200 rows, as in the file
    assert len(data.X_train) == round(0.6 * 194)
    assert np.all(data.X_train[:, 0] < 970)
    # A share too small for the cap still keeps one anomaly.
    X, y = _adbench_arrays(n=1000, n_anomalies=2)
    np.savez(tmp_path / "rare.npz", X=X, y=y)
    assert load_adbench(tmp_path / "rare.npz", max_rows=100).y_test.sum() == 1
    # A cap above the size keeps every row.
    uncapped = load_adbench(tmp_path / "big.npz", max_rows=5000)
    assert len(uncapped.X_train) + len(uncapped.X_test) == 1000


def test_adbench_errors(adbench_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="No ADBench table 'nothing'.*Other, toy"):
        load_adbench("nothing", directory=adbench_dir)
    with pytest.raises(FileNotFoundError, match="No ADBench file at"):
        load_adbench(tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError, match="directory=..."):
        load_adbench("toy")
    with pytest.raises(FileNotFoundError, match="No ADBench folder"):
        load_adbench("toy", directory=tmp_path / "absent")
    with pytest.raises(ValueError, match="train_fraction"):
        load_adbench("toy", directory=adbench_dir, train_fraction=1.0)
    with pytest.raises(ValueError, match="max_rows"):
        load_adbench("toy", directory=adbench_dir, max_rows=1.5)
    X, y = _adbench_arrays()
    bad = tmp_path / "bad"
    bad.mkdir()
    np.savez(bad / "nokey.npz", X=X, labels=y)
    with pytest.raises(ValueError, match="no 'y' array"):
        load_adbench(bad / "nokey.npz")
    np.savez(bad / "flat.npz", X=X[:, 0], y=y)
    with pytest.raises(ValueError, match="2-D"):
        load_adbench(bad / "flat.npz")
    np.savez(bad / "short.npz", X=X, y=y[:-1])
    with pytest.raises(ValueError, match="one label per row"):
        load_adbench(bad / "short.npz")
    np.savez(bad / "multi.npz", X=X, y=np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match=r"0 \(normal\) or 1 \(anomaly\)"):
        load_adbench(bad / "multi.npz")
    np.savez(bad / "normal.npz", X=X, y=np.zeros(len(X)))
    with pytest.raises(ValueError, match="no anomaly"):
        load_adbench(bad / "normal.npz")
    np.savez(bad / "objects.npz", X=X.astype(object), y=y)
    with pytest.raises(ValueError, match="numeric"):
        load_adbench(bad / "objects.npz")
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    np.savez(bad / "nan.npz", X=X_nan, y=y)
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        load_adbench(bad / "nan.npz")
    (bad / "text.npz").write_text("not an archive")
    with pytest.raises(ValueError, match="not a NumPy .npz file"):
        load_adbench(bad / "text.npz")
    np.save(bad / "array.npy", X)
    with pytest.raises(ValueError, match="single array"):
        load_adbench(bad / "array.npy")
    np.savez(bad / "1_Ab.npz", X=X, y=y)
    np.savez(bad / "2_aB.npz", X=X, y=y)
    with pytest.raises(ValueError, match="matches several files"):
        load_adbench("ab", directory=bad)
