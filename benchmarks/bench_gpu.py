"""Training and scoring speed on a GPU (or the CPU), next to a plain PyTorch loop.

For ALAD and GANomaly (perceptrons, the papers' KDDCUP99 settings) on a
KDDCUP99-shaped table (121 uniform features), it prints the training rows per
second at each batch size and precision, the package's and a hand-written
loop's over the same modules (``bench_overhead.plain_fit``, which reads its
losses back every step as a logging loop does), the scoring rows per second
of both, and the training speed of one fit shared by several processes
(data-parallel over ``torch.distributed``: NCCL, one GPU each, when there are
enough GPUs, else gloo on the CPU).

Run::

    python -m benchmarks.bench_gpu                      # every setting, the best device
    python -m benchmarks.bench_gpu --json benchmarks/results/gpu.json
    python -m benchmarks.bench_gpu --device cpu --n-samples 20000

Without a GPU it runs on the CPU and says so. Figures of an H100 for such a
plain loop (ALAD, issue 16): 4,003 rows/s at batch 50, 40,914 at 512, 318,585
at 4096; plain scoring 9.4 million rows/s.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from sklearn_ganad.networks import reset_parameters_
from sklearn_ganad.presets import paper_params
from sklearn_ganad.utils._torch import seeded

from .bench_overhead import METHODS, plain_fit, plain_score


def _synchronize(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _table(n_samples, n_features=121, seed=0):
    return np.random.RandomState(seed).rand(n_samples, n_features).astype(np.float32)


def _detector(method, batch_size, epochs, device, precision, seed=0, **extra):
    params = {**paper_params(method, "kddcup99"), "max_epochs": epochs, "batch_size": batch_size}
    return METHODS[method]["cls"](
        **params, precision=precision, device=device, random_state=seed, **extra
    )


def measure(method, X, batch_size, epochs, device, precision, seed=0):
    """Package and plain training rows/s (epochs only) and scoring rows/s, one setting."""
    detector = _detector(method, batch_size, epochs, device, precision, seed)
    detector.fit(X)
    package_seconds = sum(detector.net_.history[:, "dur"])
    _synchronize(device)
    start = time.perf_counter()
    detector.score_samples(X)
    _synchronize(device)
    package_score = time.perf_counter() - start

    model = copy.deepcopy(detector.net_.module_)
    with seeded(seed, device):
        reset_parameters_(model, "mlp")
    _synchronize(device)
    start = time.perf_counter()
    plain_fit(
        model, X, method=method, epochs=epochs, batch_size=batch_size, lr=detector.lr_,
        betas=(0.5, 0.999), seed=seed, ema_decay=getattr(detector, "ema_decay_", None),
        device=device, precision=precision,
    )  # fmt: skip
    _synchronize(device)
    plain_seconds = time.perf_counter() - start
    start = time.perf_counter()
    plain_score(model, X, 4096, device)
    _synchronize(device)
    plain_score_seconds = time.perf_counter() - start
    rows = len(X) * epochs
    return {
        "method": method,
        "precision": precision,
        "batch_size": batch_size,
        "package_training_rows_per_second": rows / package_seconds,
        "plain_training_rows_per_second": rows / plain_seconds,
        "package_score_rows_per_second": len(X) / package_score,
        "plain_score_rows_per_second": len(X) / plain_score_seconds,
    }


def _worker(args):
    """One process of the data-parallel measurement (started by ``two_processes``)."""
    import torch.distributed as dist

    rank, world_size = args.worker_rank, args.processes
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # listen on 127.0.0.1 only
    gpus = torch.cuda.device_count()
    device = f"cuda:{rank}" if gpus >= world_size else "cpu"
    if device == "cpu":
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
    dist.init_process_group(
        "nccl" if device != "cpu" else "gloo", init_method=f"file://{args.store}",
        rank=rank, world_size=world_size,
    )  # fmt: skip
    try:
        X = _table(args.n_samples)
        detector = _detector(args.methods[0], args.batch_sizes[-1], args.epochs, device, "32")
        detector.fit(X)
        seconds = sum(detector.net_.history[:, "dur"])
        if rank == 0:
            print(json.dumps({"device": device, "rows_per_second": len(X) * args.epochs / seconds}))
    finally:
        dist.destroy_process_group()


def two_processes(args):
    """Training rows/s of one fit shared by ``args.processes`` processes."""
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store"
        command = [
            sys.executable, "-m", "benchmarks.bench_gpu", "--methods", args.methods[0],
            "--batch-sizes", str(args.batch_sizes[-1]), "--n-samples", str(args.n_samples),
            "--epochs", str(args.epochs), "--processes", str(args.processes),
            "--store", str(store),
        ]  # fmt: skip
        workers = [
            subprocess.Popen(
                [*command, "--worker-rank", str(rank)],
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "GLOO_SOCKET_IFNAME": "lo"},
            )  # fmt: skip
            for rank in range(args.processes)
        ]
        outputs = [worker.communicate()[0] for worker in workers]
    if any(worker.returncode for worker in workers):
        raise RuntimeError("a data-parallel worker failed")
    return json.loads(outputs[0].strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto: CUDA when available")
    parser.add_argument("--methods", nargs="+", default=["ALAD", "GANomaly"], choices=METHODS)
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[50, 512, 4096])
    parser.add_argument("--precisions", nargs="+", default=None, choices=["32", "bf16", "16"],
                        help="default: 32 and bf16 (and 16 on a GPU)")  # fmt: skip
    parser.add_argument("--n-samples", type=int, default=None,
                        help="rows (default: 1,000,000 on a GPU, 20,000 on the CPU)")  # fmt: skip
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--processes", type=int, default=2,
                        help="processes of the data-parallel figure (0: skip it)")  # fmt: skip
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--worker-rank", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--store", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    gpu = torch.cuda.is_available()
    device = ("cuda" if gpu else "cpu") if args.device == "auto" else args.device
    if args.n_samples is None:
        args.n_samples = 1_000_000 if device != "cpu" else 20_000
    if args.worker_rank is not None:
        return _worker(args)
    precisions = args.precisions or (["32", "bf16", "16"] if device != "cpu" else ["32", "bf16"])
    where = torch.cuda.get_device_name(device) if device != "cpu" else (
        f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    )  # fmt: skip
    if not gpu:
        print("No GPU found (torch.cuda.is_available() is False): figures of the CPU.")
    print(f"{where}; torch {torch.__version__}; {args.n_samples:,} x 121 rows, {args.epochs} "
          "epoch(s); the papers' KDDCUP99 settings but the batch size")  # fmt: skip
    print("| method | precision | batch | training rows/s | plain loop | ratio | "
          "scoring rows/s | plain scoring |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    X = _table(args.n_samples)
    rows = []
    for method in args.methods:
        for precision in precisions:
            for batch_size in args.batch_sizes:
                row = measure(method, X, batch_size, args.epochs, device, precision)
                rows.append(row)
                train, plain = (
                    row["package_training_rows_per_second"],
                    row["plain_training_rows_per_second"],
                )
                print(
                    f"| {method} | {precision} | {batch_size} | {train:,.0f} | {plain:,.0f} | "
                    f"{train / plain:.2f} | {row['package_score_rows_per_second']:,.0f} | "
                    f"{row['plain_score_rows_per_second']:,.0f} |",
                    flush=True,
                )
    parallel = None
    if args.processes > 1:
        parallel = two_processes(args)
        print(
            f"\n{args.processes} processes ({parallel['device']} each), {args.methods[0]}, "
            f"batch {args.batch_sizes[-1]} in all: {parallel['rows_per_second']:,.0f} training "
            "rows/s"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {"device": where, "gpu": gpu, "torch": torch.__version__,
                 "n_samples": args.n_samples, "epochs": args.epochs, "rows": rows,
                 "data_parallel": parallel},
                handle, indent=2,
            )  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
