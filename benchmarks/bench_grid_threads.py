"""Wall time of a grid search with n_jobs=1 and n_jobs=2: does it oversubscribe the cores?

A 4-candidate ``GridSearchCV`` (GANomaly's ``latent_dim`` x ``lr``, 2-fold
stratified CV, ROC AUC) on a 20,000-row, 30-feature table with 2% outliers,
run with ``n_jobs=1`` (one process, torch's threads) and ``n_jobs=2`` (two
joblib worker processes, each given ``cpu_count // 2`` threads by joblib,
which the detectors follow with ``n_threads=None``). On two cores the second
should take no longer than the first; without the thread limit each worker
would start two threads and the four would compete for two cores.

Run from the repository root::

    python -m benchmarks.bench_grid_threads
"""

from __future__ import annotations

import argparse
import time

import joblib
import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sklearn_ganad import GANomaly


def main(argv=None):
    """Run the grid search once per n_jobs and print the wall times."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_grid_threads")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    rng = np.random.RandomState(0)
    n_outliers = args.rows // 50
    X = np.vstack([
        rng.normal(size=(args.rows - n_outliers, 30)),
        rng.normal(loc=2.5, size=(n_outliers, 30)),
    ]).astype(np.float32)  # fmt: skip
    y = np.r_[np.ones(args.rows - n_outliers), -np.ones(n_outliers)]  # +1 inlier
    grid = {"latent_dim": [8, 32], "lr": [1e-3, 3e-4]}
    print(f"{joblib.cpu_count()} CPUs; {len(X):,} rows; 4 candidates x 2 folds = 8 fits")
    for n_jobs in args.n_jobs:
        search = GridSearchCV(
            GANomaly(max_epochs=3, random_state=0),
            grid,
            scoring="roc_auc",
            cv=StratifiedKFold(2, shuffle=True, random_state=0),
            n_jobs=n_jobs,
            refit=False,
        )
        start = time.perf_counter()
        search.fit(X, y)
        seconds = time.perf_counter() - start
        best = search.cv_results_["mean_test_score"].max()
        print(f"n_jobs={n_jobs}: {seconds:6.1f} s wall (best mean ROC AUC {best:.3f})", flush=True)


if __name__ == "__main__":
    main()
