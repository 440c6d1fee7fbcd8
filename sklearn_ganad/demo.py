"""The package's main job on data that ships with scikit-learn.

Fits every detector of the package, next to scikit-learn's IsolationForest
and LocalOutlierFactor, on two one-class problems and prints one table of
ROC AUC, average precision, fit seconds and scoring rows per second:

* ``digits``: scikit-learn's 8x8 digits, one digit normal and the nine
  others anomalous, averaged over the ten digits (images, convolutional nets);
* ``breast-cancer``: benign tumours normal, malignant ones anomalous (a table,
  standardised inside a Pipeline).

Run it with ``python -m sklearn_ganad.demo`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm

from . import ALAD, EGBAD, AnoGAN, FAnoGAN, GANomaly
from .datasets import load_breast_cancer_outliers, load_digits_one_class

__all__ = ["run_demo", "main"]


def _detectors(kind: str, seed: int, epochs_scale: float) -> dict[str, Callable]:
    """Factories of the detectors to compare on one kind of data."""

    def epochs(n):
        return max(1, int(round(n * epochs_scale)))

    if kind == "images":
        # 2-D rows with image_shape: the convolutional networks, as for images.
        images = dict(image_shape=(1, 8, 8), batch_size=32, random_state=seed)
        package = {
            "GANomaly": lambda: GANomaly(max_epochs=epochs(40), **images),
            "EGBAD": lambda: EGBAD(max_epochs=epochs(40), lr=2e-4, **images),
            # The authors' weight average, as when the README's figures were measured.
            "ALAD": lambda: ALAD(max_epochs=epochs(20), lr=2e-4, ema_decay=0.999, **images),
            "AnoGAN": lambda: AnoGAN(max_epochs=epochs(20), lr=2e-4, n_search_iter=100, **images),
            "f-AnoGAN": lambda: FAnoGAN(
                max_epochs=epochs(40),
                encoder_epochs=epochs(40),
                lr=5e-4,
                encoder_lr=5e-4,
                **images,
            ),
        }
    else:
        # The BiGANs' papers use lr 1e-5 for hundreds of thousands of steps;
        # a few hundred rows need a larger rate.
        table = dict(batch_size=32, random_state=seed)
        package = {
            "GANomaly": lambda: make_pipeline(
                StandardScaler(), GANomaly(max_epochs=epochs(100), **table)
            ),
            "EGBAD": lambda: make_pipeline(
                StandardScaler(), EGBAD(max_epochs=epochs(100), lr=1e-3, **table)
            ),
            "ALAD": lambda: make_pipeline(
                StandardScaler(),
                ALAD(max_epochs=epochs(100), lr=1e-3, ema_decay=0.999, **table),
            ),
            "AnoGAN": lambda: make_pipeline(
                StandardScaler(),
                AnoGAN(max_epochs=epochs(100), lr=1e-3, n_search_iter=100, **table),
            ),
            "f-AnoGAN": lambda: make_pipeline(
                StandardScaler(),
                FAnoGAN(
                    max_epochs=epochs(100),
                    encoder_epochs=epochs(100),
                    lr=5e-4,
                    encoder_lr=5e-4,
                    **table,
                ),
            ),
        }
    baselines = {
        "IsolationForest": lambda: make_pipeline(
            StandardScaler(), IsolationForest(random_state=seed)
        ),
        "LocalOutlierFactor": lambda: make_pipeline(
            StandardScaler(), LocalOutlierFactor(novelty=True)
        ),
    }
    return {**package, **baselines}


def _evaluate(make_detector, tasks, advance=lambda: None):
    """Fit and score one detector on every task; return the averaged figures."""
    aucs, aps, fit_seconds = [], [], []
    n_scored, score_seconds = 0, 0.0
    for data in tasks:
        detector = make_detector()
        start = time.perf_counter()
        detector.fit(data.X_train)
        fit_seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        normality = detector.score_samples(data.X_test)
        score_seconds += time.perf_counter() - start
        n_scored += len(data.X_test)
        aucs.append(roc_auc_score(data.y_test, -normality))
        aps.append(average_precision_score(data.y_test, -normality))
        advance()
    return {
        "roc_auc": float(np.mean(aucs)),
        "average_precision": float(np.mean(aps)),
        "fit_seconds": float(np.mean(fit_seconds)),
        "score_rows_per_second": n_scored / score_seconds,
    }


def run_demo(*, digits=range(10), seed=0, epochs_scale=1.0, progress=False):
    """Run the demo and return its rows.

    Parameters
    ----------
    digits : iterable of int, default=range(10)
        The normal digits of the one-class digits tasks.
    seed : int, default=0
        ``random_state`` of every detector and of the splits.
    epochs_scale : float, default=1.0
        Multiplies the number of training epochs (for a quicker run).
    progress : bool, default=False
        Show a progress bar on stderr: the fits done, the detector and data
        set being fitted, and the time left.

    Returns
    -------
    rows : list of dict
        One row per (data set, detector) with ``dataset``, ``detector``,
        ``roc_auc``, ``average_precision``, ``fit_seconds`` and
        ``score_rows_per_second``.
    """
    digits = list(digits)
    problems = {
        f"digits ({len(digits)} one-class tasks)": (
            "images",
            [load_digits_one_class(d, as_images=False, random_state=seed) for d in digits],
        ),
        "breast-cancer": ("table", [load_breast_cancer_outliers(random_state=seed)]),
    }
    plan = [
        (dataset, tasks, name, make_detector)
        for dataset, (kind, tasks) in problems.items()
        for name, make_detector in _detectors(kind, seed, epochs_scale).items()
    ]
    rows = []
    total = sum(len(tasks) for _, tasks, _, _ in plan)
    with tqdm(total=total, desc="demo", unit="fit", file=sys.stderr, disable=not progress) as bar:
        for dataset, tasks, name, make_detector in plan:
            bar.set_postfix_str(f"{name} on {dataset.split(' (')[0]}")
            figures = _evaluate(make_detector, tasks, advance=lambda: bar.update(1))
            rows.append({"dataset": dataset, "detector": name, **figures})
    return rows


def format_table(rows) -> str:
    """Render the demo's rows as a Markdown table.

    Parameters
    ----------
    rows : list of dict
        As returned by :func:`run_demo`.

    Returns
    -------
    table : str
    """
    header = "| data set | detector | ROC AUC | average precision | fit s | scoring rows/s |"
    lines = [header, "|---|---|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(
            f"| {row['dataset']} | {row['detector']} | {row['roc_auc']:.3f} | "
            f"{row['average_precision']:.3f} | {row['fit_seconds']:.2f} | "
            f"{row['score_rows_per_second']:,.0f} |"
        )
    return "\n".join(lines)


#: What the demo does, for ``--help`` here and in ``sklearn-ganad demo``.
DESCRIPTION = (
    "Fit the package's detectors and scikit-learn's baselines on embedded data and print "
    "ROC AUC, average precision, fit time and scoring speed."
)


def _add_arguments(parser):
    """The demo's options, shared with ``sklearn-ganad demo``."""
    parser.add_argument(
        "--digits",
        type=int,
        nargs="+",
        default=list(range(10)),
        metavar="DIGIT",
        help="normal digits of the one-class digits tasks (default: all ten)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random_state (default: 0)")
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar on stderr (there is none when stderr is not a terminal)",
    )
    parser.add_argument(
        "--epochs-scale",
        type=float,
        default=1.0,
        metavar="F",
        help="multiply the training epochs, e.g. 0.25 for a quick look (default: 1)",
    )


def _run(args):
    """Run the demo for parsed options and print its table."""
    start = time.perf_counter()
    rows = run_demo(
        digits=args.digits,
        seed=args.seed,
        epochs_scale=args.epochs_scale,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    print(format_table(rows))
    print(
        f"\n(total {time.perf_counter() - start:.0f} s; AUC and AP are means over tasks, "
        "anomalies as the positive class)"
    )


def main(argv=None):
    """Command-line entry point: run the demo and print its table.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments; ``None`` reads ``sys.argv``.
    """
    parser = argparse.ArgumentParser(prog="python -m sklearn_ganad.demo", description=DESCRIPTION)
    _add_arguments(parser)
    _run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
