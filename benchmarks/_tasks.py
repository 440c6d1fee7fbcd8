"""The data sets of the benchmark, as lists of tasks per profile."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sklearn_ganad.datasets import (
    list_adbench,
    load_adbench,
    load_digits_one_class,
    load_kddcup99,
    load_mnist_one_class,
    load_odds,
)

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Task:
    """One train/test problem of a data set (one digit of MNIST, say)."""

    dataset: str
    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    threshold_percentile: float
    kind: str  # "table" or "image"
    image_shape: tuple | None = None
    notes: list = field(default_factory=list)
    # Whether the features are already on a common scale (min-max scaled
    # tables, pixels in [-1, 1]). When they are not, the peers that need
    # scaled input (LocalOutlierFactor, OneClassSVM) get a StandardScaler in
    # front, unless ``raw_for_peers`` keeps them on the raw features too.
    scaled: bool = True
    # kddcup99-unscaled: its protocol is the papers' code, which fed every
    # method the raw features; its committed peer rows were run that way.
    raw_for_peers: bool = False


def default_data_dir() -> Path | None:
    """``$SKLEARN_GANAD_DATA``, else ``../shared/data`` next to the checkout, else None."""
    env = os.environ.get("SKLEARN_GANAD_DATA")
    if env:
        return Path(env)
    shared = REPO.parent / "shared" / "data"
    return shared if shared.is_dir() else None


def subsample_rows(n_rows, limit, seed):
    """Indices of at most ``limit`` of ``n_rows`` rows, drawn with ``seed`` (sorted)."""
    if limit is None or n_rows <= limit:
        return slice(None)
    return np.sort(np.random.RandomState(seed).choice(n_rows, limit, replace=False))


def load_kddcup99_from(data_dir, *, scale=True):
    """KDDCUP99 from ``data_dir``'s 10% file, else scikit-learn's fetcher (the papers' protocol)."""
    path = data_dir / "kddcup.data_10_percent.gz" if data_dir else None
    return load_kddcup99(path if path and path.is_file() else None, scale=scale)


def kddcup99_tasks(profile, data_dir, *, scale=True):
    data = load_kddcup99_from(data_dir, scale=scale)
    name = "kddcup99" if scale else "kddcup99-unscaled"
    notes = [] if scale else ["features left unscaled, as in the papers' code"]
    train_rows, test_rows = None, None
    if profile == "quick":
        # A fixed subsample (the same for every method and seed) keeps the CPU budget.
        train_rows, test_rows = 20_000, 50_000
        notes.append(
            f"quick: {train_rows:,} of {len(data.X_train):,} training rows and "
            f"{test_rows:,} of {len(data.X_test):,} test rows, drawn once with seed 0"
        )
    train = subsample_rows(len(data.X_train), train_rows, 0)
    test = subsample_rows(len(data.X_test), test_rows, 1)
    return [
        Task(
            name, "kddcup99", data.X_train[train], data.X_test[test], data.y_test[test],
            data.threshold_percentile, "table", notes=notes, scaled=scale,
            raw_for_peers=not scale,
        )
    ]  # fmt: skip


def arrhythmia_tasks(profile, data_dir):
    path = data_dir / "arrhythmia.mat" if data_dir else None
    data = load_odds("arrhythmia", path=path if path and path.is_file() else None)
    notes = ["ALAD split: 50/50 with seed 42, anomalies kept in training; min-max scaled"]
    return [
        Task(
            "arrhythmia", "arrhythmia", data.X_train, data.X_test, data.y_test,
            data.threshold_percentile, "table", notes=notes,
        )
    ]  # fmt: skip


def mnist_tasks(profile, data_dir, *, protocol="one-normal"):
    subset = "test"
    # All 70,000 images where the training files are given (or can be downloaded).
    if profile in ("paper", "full") and (data_dir is None or any(data_dir.glob("*train-images*"))):
        subset = "all"
    tasks = []
    for digit in range(10):
        data = load_mnist_one_class(digit, protocol=protocol, directory=data_dir, subset=subset)
        note = f"MNIST {subset} images ({'70,000' if subset == 'all' else '10,000'})"
        tasks.append(
            Task(
                "mnist" if protocol == "one-normal" else "mnist-one-anomalous",
                f"digit {digit}", data.X_train, data.X_test, data.y_test,
                data.threshold_percentile, "image", data.image_shape, notes=[note],
            )
        )  # fmt: skip
    return tasks


def digits_tasks(profile, data_dir):
    tasks = []
    for digit in range(10):
        data = load_digits_one_class(digit)
        tasks.append(
            Task(
                "digits", f"digit {digit}", data.X_train, data.X_test, data.y_test,
                data.threshold_percentile, "image", data.image_shape,
            )
        )  # fmt: skip
    return tasks


#: Rows kept of each ADBench table per profile (stratified by the label;
#: ADBench's own code draws 10,000 rows of the larger tables).
ADBENCH_MAX_ROWS = {"quick": 10_000, "paper": 100_000, "full": 100_000}


def adbench_tasks(profile, data_dir):
    """One task per table of ``data_dir/adbench``, with ADBench's semi-supervised split.

    60% of the normal rows train, the rest and every anomaly test (split seed
    0 for every model seed); the features stay raw (``scaled=False``).
    """
    directory = Path(data_dir) / "adbench" if data_dir is not None else None
    if directory is None or not directory.is_dir() or not any(directory.glob("*.npz")):
        raise FileNotFoundError(
            f"the adbench family reads ADBench's .npz tables from <data dir>/adbench, and "
            f"{directory or 'no data folder'} has none (pass --data-dir with an adbench/ "
            "folder; the tables are not downloaded)"
        )
    max_rows = ADBENCH_MAX_ROWS[profile]
    common = [
        "ADBench semi-supervised protocol: 60% of the normal rows train, the other normal "
        "rows and every anomaly test (split seed 0); raw features, no scaling; "
        "LocalOutlierFactor and OneClassSVM get a StandardScaler fitted on the training rows",
    ]
    tasks, few = [], []
    for name in list_adbench(directory):
        data = load_adbench(name, directory=directory, max_rows=max_rows, random_state=0)
        notes = list(common)
        if data.n_samples_in_file > max_rows:
            notes.append(
                f"{profile}: {name} capped at {max_rows:,} of {data.n_samples_in_file:,} rows "
                "(stratified by the label, seed 0)"
            )
        n_anomalies = int(data.y_test.sum())
        if n_anomalies < 10:
            few.append(f"{name} {n_anomalies}")
        tasks.append(
            Task(
                "adbench", name, data.X_train, data.X_test, data.y_test,
                data.threshold_percentile, "table", notes=notes, scaled=False,
            )
        )  # fmt: skip
    if few:
        note = f"fewer than 10 test anomalies, so coarse metrics: {', '.join(few)}"
        for task in tasks:
            task.notes.append(note)
    return tasks


#: Seeds per profile: one on the quick profile's larger sets, three for the
#: papers' tables.
_SEEDS = {"quick": (0,), "paper": (0, 1, 2), "full": (0, 1, 2)}

#: Data set name -> (task builder, seeds per profile).
DATASETS = {
    "kddcup99": (kddcup99_tasks, _SEEDS),
    "kddcup99-unscaled": (
        lambda profile, data_dir: kddcup99_tasks(profile, data_dir, scale=False),
        _SEEDS,
    ),
    "arrhythmia": (arrhythmia_tasks, {**_SEEDS, "quick": (0, 1, 2), "paper": (0, 1, 2, 3, 4)}),
    "mnist": (mnist_tasks, _SEEDS),
    "mnist-one-anomalous": (
        lambda profile, data_dir: mnist_tasks(profile, data_dir, protocol="one-anomalous"),
        _SEEDS,
    ),
    "digits": (digits_tasks, _SEEDS),
    # Not in DEFAULT_DATASETS: a development suite of 26 tables, about an hour.
    "adbench": (adbench_tasks, _SEEDS),
}

#: Data sets run when none are named, per profile. The full profile runs the
#: papers' tables: KDDCUP99 both ways, arrhythmia and MNIST with one digit
#: anomalous, the MNIST protocol of EGBAD's and GANomaly's papers (none of
#: the five papers reports MNIST with one digit normal; that protocol runs in
#: the quick profile on the same 10,000 test images, and ``--datasets mnist``
#: adds it to a full run).
DEFAULT_DATASETS = {
    "quick": ["kddcup99", "kddcup99-unscaled", "arrhythmia", "mnist", "digits"],
    "paper": ["kddcup99", "kddcup99-unscaled", "arrhythmia", "mnist", "digits"],
    "full": ["kddcup99", "kddcup99-unscaled", "arrhythmia", "mnist-one-anomalous"],
}
