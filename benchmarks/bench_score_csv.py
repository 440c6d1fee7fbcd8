"""Peak memory of ``sklearn-ganad score`` on a CSV larger than the memory it may use.

A KDDCUP99-shaped CSV (121 columns: 38 Gaussian, 83 one-hot, as
``bench_scaling.write_table`` draws them) of about ``--gigabytes`` GB is
written by repeating one block of rows (the content does not matter for
memory, and repeating keeps writing it at disk speed). A GANomaly with its
defaults is fitted on the first block and saved; then the command line
scores the whole file in a child process::

    sklearn-ganad score MODEL BIG.csv -o SCORES.csv --only-scores

Printed: the file's size, the memory available when scoring starts
(``MemAvailable``), rows, seconds, rows per second and the child's peak
allocated memory (``RssAnon``, sampled every 50 ms) and peak resident set
(``ru_maxrss``, which adds the mapped pages of torch's shared libraries).
Neither counts the page cache that reading the file fills: that is the
kernel's, and it gives it back. With
``--memory-limit-mb`` (Linux, root, cgroup v1 memory controller) the child
runs in a memory cgroup of that size, page cache included, so that the file
is larger than all the memory the child can have; a child that needed the
file in memory would be killed.

Run from the repository root::

    python -m benchmarks.bench_score_csv --gigabytes 4 --memory-limit-mb 1024
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .bench_scaling import FEATURES, AnonPeak, write_table

_CGROUP_ROOT = Path("/sys/fs/cgroup/memory")


def write_csv(path: Path, gigabytes: float, block_rows: int, workdir: Path) -> tuple[int, Path]:
    """Write the big CSV; return its row count and the path of the first block (a CSV)."""
    import pandas as pd

    table = workdir / "block.npy"
    write_table(table, block_rows)
    block = pd.DataFrame(np.load(table), columns=[f"x{i}" for i in range(FEATURES)])
    block_path = workdir / "block.csv"
    block.to_csv(block_path, index=False, float_format="%.4f")
    text = block_path.read_text()
    header, body = text.split("\n", 1)
    copies = max(1, int(round(gigabytes * 1e9 / len(body))))
    with open(path, "w") as handle:
        handle.write(header + "\n")
        for _ in range(copies):
            handle.write(body)
    return copies * block_rows, block_path


def _mem_available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _memory_cgroup(limit_mb: int) -> Path:
    if not (_CGROUP_ROOT / "cgroup.procs").exists() or os.geteuid() != 0:
        sys.exit("--memory-limit-mb needs root and the cgroup v1 memory controller")
    group = _CGROUP_ROOT / f"sklearn-ganad-bench-{os.getpid()}"
    group.mkdir()
    (group / "memory.limit_in_bytes").write_text(str(limit_mb * 2**20))
    return group


def main(argv=None):
    """Write the CSV, fit a model, score the CSV in a child process; print the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_score_csv")
    parser.add_argument("--gigabytes", type=float, default=4.0)
    parser.add_argument("--block-rows", type=int, default=200_000)
    parser.add_argument("--chunksize", type=int, default=100_000)
    parser.add_argument("--memory-limit-mb", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        workdir = Path(tmp)
        big = workdir / "big.csv"
        start = time.perf_counter()
        n_rows, block_path = write_csv(big, args.gigabytes, args.block_rows, workdir)
        print(
            f"wrote {big.stat().st_size / 1e9:.2f} GB, {n_rows:,} rows x {FEATURES} in "
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )
        model = workdir / "model.ganad"
        cli = [sys.executable, "-m", "sklearn_ganad.cli"]
        subprocess.run(
            [*cli, "fit", "--method", "GANomaly", "--random-state", "0", str(block_path),
             "-o", str(model), "--no-progress"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        scores = workdir / "scores.csv"
        command = [*cli, "score", str(model), str(big), "-o", str(scores), "--only-scores",
                   "--no-progress", "--chunksize", str(args.chunksize)]  # fmt: skip
        group = _memory_cgroup(args.memory_limit_mb) if args.memory_limit_mb else None

        def enter_group():
            if group is not None:
                (group / "cgroup.procs").write_text(str(os.getpid()))

        environment = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        available = _mem_available_mb()
        start = time.perf_counter()
        try:
            child = subprocess.Popen(command, preexec_fn=enter_group, env=environment)
            with AnonPeak(interval=0.05, pid=child.pid) as anon:
                # wait4: this child's own peak, not that of every child so far.
                _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            seconds = time.perf_counter() - start
            peak_mb = usage.ru_maxrss / 1024
            failcnt = int((group / "memory.failcnt").read_text()) if group else None
        finally:
            if group is not None:
                group.rmdir()
        if child.returncode != 0:
            sys.exit(f"scoring failed with exit status {child.returncode}")
        with open(scores) as handle:
            scored = sum(1 for _ in handle) - 1
        size_mb = big.stat().st_size / 2**20
        print(f"file: {size_mb:,.0f} MB; memory available at the start: {available:,.0f} MB")
        if group is not None:
            print(
                f"memory cgroup limit: {args.memory_limit_mb:,} MB (page cache included); "
                f"times the limit was hit (page cache reclaimed): {failcnt}"
            )
        print(
            f"scored {scored:,} of {n_rows:,} rows in {seconds:.0f} s "
            f"({scored / seconds:,.0f} rows/s), chunks of {args.chunksize:,}; scoring "
            f"process: peak allocated memory (RssAnon) {anon.peak / 1024:,.0f} MB, peak "
            f"resident set (with shared libraries) {peak_mb:,.0f} MB"
        )


if __name__ == "__main__":
    main()
