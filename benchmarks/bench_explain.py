"""How well feature contributions and anomaly maps point at what was corrupted.

Two measurements, each on data that ships with scikit-learn, every method
with its defaults (``random_state=0``):

* **table**: the breast-cancer table (569 x 30). The detector is fitted on
  70% of the rows; in each of the other rows one column, drawn at random,
  is shifted by ``--shift`` of its standard deviations (up or down at
  random). Reported: the share of corrupted rows whose corrupted column has
  the largest contribution (``top1``; chance is 1/30), the share where it is
  among the three largest (``top3``), and its mean rank (1 is best).
* **images**: scikit-learn's 8x8 digits (values / 16). The detector is
  fitted on the first 1,000 images; on each of the other 797 a 3x3 patch of
  value 1 is pasted at a random place. Reported: the share of the anomaly
  map's mass inside the patch (mean over images; the patch covers 9 of 64
  pixels, so a map spread evenly would give 0.14), the share of images whose
  map peaks (its largest pixel) inside the patch, and the mass share for the
  plain residual ``|x - reconstruct(x)|`` for comparison.

Run::

    python -m benchmarks.bench_explain --json benchmarks/results/explain.json

Fit and explanation seconds are printed too (two threads, one run).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits

from sklearn_ganad import ALAD, EGBAD, AnoGAN, FAnoGAN, GANomaly

METHODS = {"GANomaly": GANomaly, "EGBAD": EGBAD, "ALAD": ALAD, "FAnoGAN": FAnoGAN, "AnoGAN": AnoGAN}


def corrupted_table(shift, seed=0):
    """Training rows, test rows with one column shifted each, and that column."""
    X = load_breast_cancer().data.astype(np.float32)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    n_train = int(0.7 * len(X))
    train, test = X[order[:n_train]], X[order[n_train:]].copy()
    columns = rng.integers(0, X.shape[1], size=len(test))
    signs = rng.choice([-1.0, 1.0], size=len(test))
    rows = np.arange(len(test))
    test[rows, columns] += signs * shift * train.std(axis=0)[columns]
    return train, test, columns


def patched_digits(seed=0, size=3):
    """Training images, test images with a pasted patch, and the patch masks."""
    images = load_digits().images.astype(np.float32)[:, None] / 16.0
    train, test = images[:1000], images[1000:].copy()
    rng = np.random.default_rng(seed)
    masks = np.zeros((len(test), 8, 8), dtype=bool)
    for index, (top, left) in enumerate(rng.integers(0, 8 - size + 1, size=(len(test), 2))):
        masks[index, top : top + size, left : left + size] = True
    test[:, 0][masks] = 1.0
    return train, test, masks


def table_figures(cls, shift):
    train, test, columns = corrupted_table(shift)
    start = time.perf_counter()
    detector = cls(random_state=0).fit(train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    contributions = detector.feature_contributions(test)
    explain_seconds = time.perf_counter() - start
    # Rank 1 = largest contribution; ties count against the corrupted column.
    own = contributions[np.arange(len(test)), columns]
    ranks = 1 + (contributions > own[:, None]).sum(axis=1)
    sums = contributions.sum(axis=1)
    return {
        "top1": float(np.mean(ranks == 1)),
        "top3": float(np.mean(ranks <= 3)),
        "mean_rank": float(ranks.mean()),
        "max_relative_sum_error": float(
            np.max(np.abs(sums + detector.score_samples(test)) / np.abs(sums))
        ),
        "fit_seconds": fit_seconds,
        "explain_seconds": explain_seconds,
    }


def image_figures(cls):
    train, test, masks = patched_digits()
    start = time.perf_counter()
    detector = cls(random_state=0).fit(train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    maps = detector.anomaly_map(test)
    explain_seconds = time.perf_counter() - start
    residual = np.abs(test - detector.reconstruct(test))[:, 0]

    def share(values):
        return float(np.mean(values[masks].reshape(len(test), -1).sum(1) / values.sum((1, 2))))

    peaks = maps.reshape(len(test), -1).argmax(axis=1)
    return {
        "map_share_in_patch": share(maps),
        "map_peak_in_patch": float(
            np.mean(masks.reshape(len(test), -1)[np.arange(len(test)), peaks])
        ),
        "residual_share_in_patch": share(residual),
        "patch_area_share": float(masks[0].mean()),
        "fit_seconds": fit_seconds,
        "explain_seconds": explain_seconds,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--shift", type=float, default=6.0, help="standard deviations")
    parser.add_argument("--parts", nargs="+", default=["table", "images"],
                        choices=["table", "images"])  # fmt: skip
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    results = {"machine": platform.machine(), "shift": args.shift, "table": {}, "images": {}}
    for name in args.methods:
        if "table" in args.parts:
            figures = table_figures(METHODS[name], args.shift)
            results["table"][name] = figures
            print(f"table  {name:9s} top1 {figures['top1']:.3f}  top3 {figures['top3']:.3f}  "
                  f"mean rank {figures['mean_rank']:.2f}  fit {figures['fit_seconds']:.1f} s  "
                  f"explain {figures['explain_seconds']:.2f} s", flush=True)  # fmt: skip
        if "images" in args.parts:
            figures = image_figures(METHODS[name])
            results["images"][name] = figures
            print(f"images {name:9s} map share in patch {figures['map_share_in_patch']:.3f}  "
                  f"peak in patch {figures['map_peak_in_patch']:.3f}  "
                  f"residual's {figures['residual_share_in_patch']:.3f}  (area "
                  f"{figures['patch_area_share']:.3f})  fit {figures['fit_seconds']:.1f} s  "
                  f"explain {figures['explain_seconds']:.2f} s", flush=True)  # fmt: skip
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return results


if __name__ == "__main__":
    main()
