"""Fit and scoring cost against the number of rows: seconds and peak memory.

For each size (10^4 to 10^7 rows by default) a KDDCUP99-shaped table (121
float32 features: 38 Gaussian, 83 one-hot in three groups, seed 0) is written
to a ``.npy`` file; tables past 10^6 rows are memory-mapped from it
(``np.load(mmap_mode="r")``), smaller ones loaded. One method per family
(GANomaly; EGBAD for the BiGANs; f-AnoGAN for the latent-search methods,
whose AnoGAN search costs ~1,000x more per scored row) is fitted for one
epoch (one pass over the rows, so the cost should be linear in them) and
then scores every row. Each run is a fresh process, so that its memory is its
own, with ``n_threads`` set by ``--threads``.

Printed and written (``--out``: results.csv, summary.md, scaling.png): fit
and scoring seconds, rows per second, and peak memory: the peak of anonymous
resident memory (RssAnon, sampled every 20 ms: what the process allocated,
excluding the memory-mapped file's pages, which the kernel can drop at any
time) above the baseline after imports, and the peak resident set (VmHWM,
file pages included).

Run from the repository root::

    python -m benchmarks.bench_scaling                      # 10^4 .. 10^7 rows
    python -m benchmarks.bench_scaling --sizes 10000 100000 --methods GANomaly
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

FEATURES = 121
ONE_HOT_GROUPS = (3, 70, 10)  # KDDCUP99's protocol, service and flag columns
MEMMAP_FROM = 1_000_001
DEFAULT_SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
DEFAULT_METHODS = ("GANomaly", "EGBAD", "FAnoGAN")


def write_table(path: Path, n_rows: int, block: int = 500_000) -> None:
    """Write a KDDCUP99-shaped float32 table of ``n_rows`` rows to ``path``, block by block."""
    rng = np.random.RandomState(0)
    n_dense = FEATURES - sum(ONE_HOT_GROUPS)
    table = np.lib.format.open_memmap(path, "w+", np.float32, (n_rows, FEATURES))
    for start in range(0, n_rows, block):
        rows = min(block, n_rows - start)
        values = np.zeros((rows, FEATURES), dtype=np.float32)
        values[:, :n_dense] = rng.normal(size=(rows, n_dense))
        column = n_dense
        for width in ONE_HOT_GROUPS:
            values[np.arange(rows), column + rng.randint(width, size=rows)] = 1.0
            column += width
        table[start : start + rows] = values
    table.flush()
    del table


def _status_kib(field: str, pid="self") -> int:
    """A field of ``/proc/<pid>/status`` in KiB; 0 once the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class AnonPeak:
    """The peak of RssAnon (memory a process allocated), sampled in a thread.

    Parameters
    ----------
    interval : float, default=0.02
        Seconds between samples.
    pid : int or "self", default="self"
        The process to watch.
    """

    def __init__(self, interval=0.02, pid="self"):
        self.interval, self.pid, self.peak, self._stop = interval, pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _status_kib("RssAnon", self.pid))
            time.sleep(self.interval)

    def __enter__(self):
        self.peak = _status_kib("RssAnon", self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _status_kib("RssAnon", self.pid))


def run_one(path: str, method: str, threads: int, batch_size: int | None = None) -> dict:
    """Fit ``method`` for one epoch on the table at ``path`` and score it (in this process)."""
    from sklearn_ganad.utils import all_detectors

    detector_class = dict(all_detectors())[method]
    n_rows = np.load(path, mmap_mode="r").shape[0]
    mapped = n_rows >= MEMMAP_FROM
    extra = {"encoder_epochs": 1} if method == "FAnoGAN" else {}
    if batch_size is not None:
        extra["batch_size"] = batch_size
    # Imports and torch's lazy optimizer imports first: not part of the cost.
    warm = np.random.RandomState(0).normal(size=(64, FEATURES)).astype(np.float32)
    detector_class(max_epochs=1, random_state=0, n_threads=threads, **extra).fit(warm)
    baseline = _status_kib("RssAnon")
    with AnonPeak() as peak:
        X = np.load(path, mmap_mode="r" if mapped else None)
        detector = detector_class(max_epochs=1, random_state=0, n_threads=threads, **extra)
        start = time.perf_counter()
        detector.fit(X)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        scores = detector.score_samples(X)
        score_seconds = time.perf_counter() - start
    return {
        "method": method,
        "rows": n_rows,
        "memory_mapped": mapped,
        "fit_seconds": fit_seconds,
        "score_seconds": score_seconds,
        "fit_rows_per_second": n_rows / fit_seconds,
        "score_rows_per_second": n_rows / score_seconds,
        "peak_anon_mb": (peak.peak - baseline) / 1024,
        "peak_rss_mb": _status_kib("VmHWM") / 1024,
        "data_mb": n_rows * FEATURES * 4 / 2**20,
        "finite_scores": bool(np.isfinite(scores).all()),
        "threads": threads,
        "batch_size": detector.batch_size,
    }


def _plot(frame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for method, group in frame.groupby("method"):
        axes[0].loglog(group["rows"], group["fit_seconds"], "o-", label=f"{method} fit")
        axes[0].loglog(group["rows"], group["score_seconds"], "s--", label=f"{method} score")
        axes[1].semilogx(group["rows"], group["peak_anon_mb"], "o-", label=method)
    data = frame.drop_duplicates("rows")
    axes[1].semilogx(data["rows"], data["data_mb"], "k:", label="the data itself")
    axes[1].set_yscale("symlog", linthresh=100)
    axes[0].set(xlabel="rows", ylabel="seconds", title="Cost: one epoch, then scoring")
    axes[1].set(xlabel="rows", ylabel="MB", title="Peak allocated memory (RssAnon)")
    for ax in axes:
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None):
    """Run every (size, method) in its own process and report the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_scaling")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="the detectors' batch size (default: each one's default)",
    )
    parser.add_argument("--out", type=Path, default=None, help="folder for the figures")
    parser.add_argument(
        "--append",
        action="store_true",
        help="add to the results already in --out rather than replace them",
    )
    parser.add_argument("--child", nargs=2, metavar=("PATH", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.child[0], args.child[1], args.threads, args.batch_size)))
        return
    import pandas as pd

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = Path(folder) / f"table_{size}.npy"
            write_table(path, size)
            for method in args.methods:
                command = [sys.executable, "-m", "benchmarks.bench_scaling", "--threads",
                           str(args.threads), "--child", str(path), method]  # fmt: skip
                if args.batch_size is not None:
                    command += ["--batch-size", str(args.batch_size)]
                result = subprocess.run(command, capture_output=True, text=True, check=True)
                row = json.loads(result.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(
                    f"{method:>9} {size:>11,} rows{' (memmap)' if row['memory_mapped'] else '':9}"
                    f": fit {row['fit_seconds']:8.1f} s ({row['fit_rows_per_second']:9,.0f} rows/s)"
                    f", score {row['score_seconds']:7.1f} s "
                    f"({row['score_rows_per_second']:10,.0f} rows/s), peak allocated "
                    f"{row['peak_anon_mb']:7.1f} MB, peak RSS {row['peak_rss_mb']:7.1f} MB "
                    f"(data {row['data_mb']:,.0f} MB)",
                    flush=True,
                )
            path.unlink()
    frame = pd.DataFrame(rows)
    if args.out is not None and args.append and (args.out / "results.csv").is_file():
        frame = pd.concat([pd.read_csv(args.out / "results.csv"), frame], ignore_index=True)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out / "results.csv", index=False)
        (args.out / "summary.md").write_text(
            "# Scaling: one epoch and scoring, by rows\n\n"
            f"Command: `python -m benchmarks.bench_scaling {' '.join(argv or sys.argv[1:])}`\n\n"
            + frame.round(2).to_markdown(index=False)
            + "\n"
        )
        _plot(frame, args.out / "scaling.png")


if __name__ == "__main__":
    main()
