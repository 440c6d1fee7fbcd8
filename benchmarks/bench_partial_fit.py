"""Training by chunks (``partial_fit``) against ``fit``, on KDDCUP99.

The papers' protocol (:func:`sklearn_ganad.datasets.load_kddcup99`: the
``normal.`` traffic is the anomaly class, F1 at the 80th percentile of the
test scores), 50,000 training rows (``--train-rows``) and 50,000 test rows
(``--test-rows``). For each method and seed, with the method's defaults
otherwise:

* ``fit``: ``fit(X)`` with ``max_epochs`` set to ``--passes``;
* ``chunks``: ``--passes`` passes over ``X`` (its rows shuffled once, seed
  0, as in a shuffled file) cut into ``--chunks`` chunks of equal size (a
  tenth each by default), one ``partial_fit`` call per chunk, so both see
  every row the same number of times.

Printed and written (``--out``: results.jsonl, summary.md): ROC AUC and F1 of
each run, their means and standard deviations over the seeds, and the
difference of the means next to the seed spread. AnoGAN is left out by
default: each ``partial_fit`` call scores its threshold sample with the
latent search, so ten calls per pass cost minutes (``--methods AnoGAN`` runs
it).

Run from the repository root, with ``../shared/data`` or ``SKLEARN_GANAD_DATA``
holding ``kddcup.data_10_percent.gz`` (else scikit-learn's fetcher is used)::

    python -m benchmarks.bench_partial_fit --out benchmarks/results/partial-fit
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from sklearn_ganad.metrics import precision_recall_f1_at_percentile
from sklearn_ganad.utils import all_detectors

from ._tasks import default_data_dir, load_kddcup99_from, subsample_rows

DETECTORS = dict(all_detectors())
DEFAULT_METHODS = ("GANomaly", "EGBAD", "ALAD", "FAnoGAN")


def train(method, mode, X, *, seed, passes, n_chunks):
    """Return a detector trained on ``X`` by ``fit`` or by chunks, and its seconds."""
    cls = DETECTORS[method]
    start = time.perf_counter()
    if mode == "fit":
        detector = cls(random_state=seed, max_epochs=passes).fit(X)
    else:
        detector = cls(random_state=seed)
        for _ in range(passes):
            for chunk in np.array_split(X, n_chunks):
                detector.partial_fit(chunk)
    return detector, time.perf_counter() - start


def evaluate(detector, X_test, y_test, percentile):
    """ROC AUC and F1 (at the protocol's percentile) of a fitted detector."""
    anomaly_score = -detector.score_samples(X_test)
    _, _, f1 = precision_recall_f1_at_percentile(y_test, anomaly_score, percentile)
    return float(roc_auc_score(y_test, anomaly_score)), float(f1)


def summarize(results, methods, args) -> str:
    """A markdown table: mean +- std per method and mode, and the difference."""
    lines = [
        "# partial_fit by chunks against fit, KDDCUP99",
        "",
        f"Command: `python -m benchmarks.bench_partial_fit {' '.join(args.argv)}`".rstrip(),
        "",
        f"{args.train_rows:,} training rows, {args.test_rows:,} test rows (papers' protocol, "
        f"min-max scaled by the loader, then each detector's default preprocessing); "
        f"{args.passes} passes; chunks of 1/{args.chunks} of the rows; seeds "
        f"{', '.join(map(str, args.seeds))}; `±` is the standard deviation over seeds.",
        "",
        "| method | fit ROC AUC | chunks ROC AUC | difference | fit F1 | chunks F1 | "
        "fit s | chunks s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for method in methods:
        rows = {m: [r for r in results if r["method"] == method and r["mode"] == m]
                for m in ("fit", "chunks")}  # fmt: skip
        auc = {m: np.array([r["roc_auc"] for r in rows[m]]) for m in rows}
        f1 = {m: np.array([r["f1"] for r in rows[m]]) for m in rows}
        secs = {m: np.mean([r["seconds"] for r in rows[m]]) for m in rows}
        lines.append(
            f"| {method} | {auc['fit'].mean():.3f} ± {auc['fit'].std():.3f} "
            f"| {auc['chunks'].mean():.3f} ± {auc['chunks'].std():.3f} "
            f"| {auc['chunks'].mean() - auc['fit'].mean():+.3f} "
            f"| {f1['fit'].mean():.3f} ± {f1['fit'].std():.3f} "
            f"| {f1['chunks'].mean():.3f} ± {f1['chunks'].std():.3f} "
            f"| {secs['fit']:.1f} | {secs['chunks']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Run every method, seed and mode; print one line per run and a summary."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_partial_fit")
    parser.add_argument("--methods", nargs="+", choices=list(DETECTORS), default=DEFAULT_METHODS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--train-rows", type=int, default=50_000)
    parser.add_argument("--test-rows", type=int, default=50_000)
    parser.add_argument("--out", type=Path, help="folder for results.jsonl and summary.md")
    args = parser.parse_args(argv)
    args.argv = argv if argv is not None else sys.argv[1:]

    data = load_kddcup99_from(default_data_dir())
    X = data.X_train[subsample_rows(len(data.X_train), args.train_rows, 0)]
    # The file is ordered by kind of traffic; partial_fit wants chunks drawn
    # alike (its docstring), as from a shuffled file: shuffle the rows once.
    X = X[np.random.RandomState(0).permutation(len(X))]
    test = subsample_rows(len(data.X_test), args.test_rows, 1)
    X_test, y_test = data.X_test[test], data.y_test[test]
    args.train_rows, args.test_rows = len(X), len(X_test)

    results = []
    for method in args.methods:
        for seed in args.seeds:
            for mode in ("fit", "chunks"):
                detector, seconds = train(
                    method, mode, X, seed=seed, passes=args.passes, n_chunks=args.chunks
                )
                roc_auc, f1 = evaluate(detector, X_test, y_test, data.threshold_percentile)
                result = dict(method=method, mode=mode, seed=seed, roc_auc=roc_auc, f1=f1,
                              seconds=seconds)  # fmt: skip
                results.append(result)
                print(
                    f"{method:>9} seed {seed} {mode:>6}: ROC AUC {roc_auc:.3f} F1 {f1:.3f} "
                    f"({seconds:.1f} s)",
                    flush=True,
                )
    summary = summarize(results, args.methods, args)
    print(summary)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        with open(args.out / "results.jsonl", "w") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in results)
        (args.out / "summary.md").write_text(summary)


if __name__ == "__main__":
    main()
