"""Fit seconds of every detector with its defaults on a table of a given size.

A random standard-normal table (``--rows`` x ``--features``, seed 0), each
detector fitted once with its defaults (``random_state=0``); prints the fit
seconds, the resolved epochs and the optimisation steps. The default size is
the issue's reference, 10,000 x 50.

Run from the repository root::

    python -m benchmarks.fit_time
    python -m benchmarks.fit_time --rows 100000 --features 20 --methods GANomaly
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from sklearn_ganad.utils import all_detectors

DETECTORS = dict(all_detectors())


def main(argv=None):
    """Fit each requested detector once and print its fit time."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fit_time")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--methods", nargs="+", choices=list(DETECTORS), default=list(DETECTORS))
    args = parser.parse_args(argv)
    X = np.random.RandomState(0).normal(size=(args.rows, args.features)).astype(np.float32)
    for method in args.methods:
        detector = DETECTORS[method](random_state=0)
        start = time.perf_counter()
        detector.fit(X)
        seconds = time.perf_counter() - start
        steps = detector.max_epochs_ * math.ceil(args.rows / detector.batch_size)
        print(
            f"{method:>9}: fit {seconds:6.1f} s on {args.rows:,} x {args.features} "
            f"({detector.max_epochs_} epochs, about {steps:,} steps, lr {detector.lr_})",
            flush=True,
        )


if __name__ == "__main__":
    main()
