"""Every detector with its defaults on KDDCUP99, as a user would fit it.

The papers' protocol (:func:`sklearn_ganad.datasets.load_kddcup99`: the
``normal.`` traffic is the anomaly class, F1 at the 80th percentile of the
test scores), the features as the loader gives them (one-hot and min-max
scaled, or raw with ``--unscaled``), and no parameter set but the seed
(and, in the ``shortened`` setting, ``max_epochs=10, batch_size=256``: a user
who only shortens training). Prints, per method and setting, ROC AUC, F1,
fit seconds and scoring seconds:

* ``defaults-50k``: defaults on 50,000 training rows (drawn once, seed 0);
* ``shortened-50k``: the same rows with ``max_epochs=10, batch_size=256``;
* ``defaults-full``: defaults on the whole training half (198,361 rows).

Test rows: the whole test half (247,011), or ``--test-rows`` of it.

Run from the repository root, with ``../shared/data`` or ``SKLEARN_GANAD_DATA``
holding ``kddcup.data_10_percent.gz`` (else scikit-learn's fetcher is used)::

    python -m benchmarks.defaults_kddcup99
    python -m benchmarks.defaults_kddcup99 --settings shortened-50k --methods EGBAD ALAD
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from sklearn_ganad.metrics import precision_recall_f1_at_percentile
from sklearn_ganad.utils import all_detectors

from ._tasks import default_data_dir, load_kddcup99_from, subsample_rows

DETECTORS = {**dict(all_detectors()), "IsolationForest": IsolationForest}
#: Setting -> (training rows or None for all, parameters besides the seed).
SETTINGS = {
    "defaults-50k": (50_000, {}),
    "shortened-50k": (50_000, {"max_epochs": 10, "batch_size": 256}),
    "defaults-full": (None, {}),
}


def run(method, setting, data, *, seed, test_rows):
    """Fit one detector in one setting; return its figures as a dict."""
    n_train, params = SETTINGS[setting]
    X_train = data.X_train[subsample_rows(len(data.X_train), n_train, 0)]
    test = subsample_rows(len(data.X_test), test_rows, 1)
    X_test, y_test = data.X_test[test], data.y_test[test]
    cls = DETECTORS[method]
    if cls is IsolationForest:
        params = {}  # no epochs to shorten
    detector = cls(random_state=seed, **params)
    start = time.perf_counter()
    detector.fit(X_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    anomaly_score = -detector.score_samples(X_test)
    score_seconds = time.perf_counter() - start
    _, _, f1 = precision_recall_f1_at_percentile(y_test, anomaly_score, data.threshold_percentile)
    return {
        "method": method,
        "setting": setting,
        "seed": seed,
        "n_train": len(X_train),
        "n_test": len(X_test),
        "roc_auc": float(roc_auc_score(y_test, anomaly_score)),
        "f1": float(f1),
        "fit_seconds": fit_seconds,
        "score_seconds": score_seconds,
        "max_epochs_": getattr(detector, "max_epochs_", None),
        "lr_": getattr(detector, "lr_", None),
    }


def main(argv=None):
    """Run the requested methods and settings and print one line per run."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.defaults_kddcup99")
    parser.add_argument("--methods", nargs="+", choices=list(DETECTORS), default=list(DETECTORS))
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--test-rows", type=int, default=None, help="default: all 247,011")
    parser.add_argument("--unscaled", action="store_true", help="raw features (papers' code)")
    parser.add_argument("--out", type=Path, help="append the runs to this JSON-lines file")
    args = parser.parse_args(argv)

    data = load_kddcup99_from(default_data_dir(), scale=not args.unscaled)
    for setting in args.settings:
        for method in args.methods:
            for seed in args.seeds:
                result = run(method, setting, data, seed=seed, test_rows=args.test_rows)
                result["scaled_by_loader"] = not args.unscaled
                print(
                    f"{setting:>14} {method:>15} seed {seed}: ROC AUC {result['roc_auc']:.3f} "
                    f"F1 {result['f1']:.3f} fit {result['fit_seconds']:6.1f} s score "
                    f"{result['score_seconds']:6.1f} s (epochs {result['max_epochs_']}, "
                    f"lr {result['lr_']})",
                    flush=True,
                )
                if args.out:
                    with open(args.out, "a") as handle:
                        handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
