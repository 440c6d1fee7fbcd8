"""Scoring speed: onnxruntime on an exported graph vs ``score_samples``.

For each method whose score is one forward pass (GANomaly, EGBAD, ALAD,
f-AnoGAN), a detector with its default networks is fitted for one epoch on
10,000 rows of a 121-feature table (KDDCUP99's width after one-hot
encoding; Gaussian rows, as scoring speed does not depend on the values),
exported with :func:`sklearn_ganad.export.export_onnx`, and 100,000 rows
are scored once each way:

* ``score_samples``: the package on the CPU (float64 for tables, in chunks);
* onnxruntime's CPU provider, the whole array in one ``run`` call, float32.

Both use the machine's cores (torch and onnxruntime default to all of
them). One run each; the parity of the two scores is printed as the largest
relative difference.

Run::

    python -m benchmarks.bench_onnx --json benchmarks/results/onnx-speed.json
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from sklearn_ganad import ALAD, EGBAD, FAnoGAN, GANomaly
from sklearn_ganad.export import export_onnx

METHODS = {"GANomaly": GANomaly, "EGBAD": EGBAD, "ALAD": ALAD, "FAnoGAN": FAnoGAN}


def measure(cls, X_train, X_score, folder):
    import onnxruntime as ort

    detector = cls(max_epochs=1, random_state=0)
    if cls is FAnoGAN:
        detector.set_params(encoder_epochs=1)
    detector.fit(X_train)
    path = export_onnx(detector, Path(folder) / f"{cls.__name__}.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    session.run(["score_samples"], {"X": X_score[:256]})  # warm-up
    detector.score_samples(X_score[:256])
    start = time.perf_counter()
    expected = detector.score_samples(X_score)
    torch_seconds = time.perf_counter() - start
    start = time.perf_counter()
    (scores,) = session.run(["score_samples"], {"X": X_score})
    onnx_seconds = time.perf_counter() - start
    return {
        "score_samples_rows_per_second": len(X_score) / torch_seconds,
        "onnxruntime_rows_per_second": len(X_score) / onnx_seconds,
        "speedup": torch_seconds / onnx_seconds,
        "max_relative_difference": float(np.max(np.abs(scores - expected) / np.abs(expected))),
        "file_megabytes": path.stat().st_size / 1e6,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=121)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(10_000, args.features)).astype(np.float32)
    X_score = rng.normal(size=(args.rows, args.features)).astype(np.float32)
    results = {"machine": platform.machine(), "rows": args.rows, "features": args.features}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.methods:
            figures = measure(METHODS[name], X_train, X_score, folder)
            results[name] = figures
            print(f"{name:9s} score_samples {figures['score_samples_rows_per_second']:>12,.0f} "
                  f"rows/s  onnxruntime {figures['onnxruntime_rows_per_second']:>12,.0f} rows/s  "
                  f"x{figures['speedup']:.2f}  max rel diff "
                  f"{figures['max_relative_difference']:.1e}  "
                  f"{figures['file_megabytes']:.2f} MB", flush=True)  # fmt: skip
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return results


if __name__ == "__main__":
    main()
