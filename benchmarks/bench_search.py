"""AnoGAN's batched latent search vs the same search per sample, and vs PyOD's AnoGAN.

Three ways to score the same rows with the same fitted AnoGAN:

* ``score_samples``: the package's batched search (all rows of a chunk at
  once, each with its own code, ``n_search_iter`` Adam steps);
* a per-sample loop: the very same search (``AnoGANModel.latent_search``,
  same steps, same start) called on one row at a time, as AnoGAN ports do;
  it is timed on ``--loop-rows`` rows and reported as rows/s;
* PyOD's ``AnoGAN.decision_function`` on the same data, fitted briefly. Note
  that it runs *no* search at test time: it scores every row against one
  latent code left over from training, in a per-sample Python loop; its
  rows/s is an upper bound for a real per-sample search.

Two network sizes are timed: the AnoGAN baseline's KDDCUP99 model (121
features; D 256-128-128, G 64-128, latent 32) and a small model of PyOD's
AnoGAN default widths (10 features; D 20-10-5, G 20-10, latent 2).

Run::

    python benchmarks/bench_search.py                  # 100 steps, both sizes
    python benchmarks/bench_search.py --steps 500 --out benchmarks/results/search-speed.json

It prints one table per size; the batched/per-sample ratio is from one run.
Torch uses all the CPU threads it finds (set ``OMP_NUM_THREADS`` to pin it).

It also prints the *matrix-product floor*: the search's matrix products are
counted (every linear layer one search step runs on a row, forward and the
backward pass to the input) and each is timed alone, with the chunk's
shape, on this machine; the rows/s at which the matrix products alone would
take all the time is an upper bound for any implementation of this search in
this precision here, and the batched search's share of it says how much time
goes elsewhere (activations, norms, the optimizer step, the allocator).
"""

from __future__ import annotations

import argparse
import copy
import functools
import importlib.util
import json
import platform
import time

import numpy as np
import torch

from sklearn_ganad import AnoGAN

SIZES = {
    "kddcup99": dict(
        n_features=121,
        params=dict(hidden_layer_sizes=(256, 128, 128), generator_layer_sizes=(64, 128)),
        latent_dim=32,
    ),
    "small": dict(
        n_features=10,
        params=dict(hidden_layer_sizes=(20, 10, 5), generator_layer_sizes=(20, 10)),
        latent_dim=2,
    ),
}


def _best_time(function, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def _pyod_rows_per_second(X_train, X, latent_dim, seed):
    from pyod.models.anogan import AnoGAN as PyODAnoGAN

    torch.manual_seed(seed)
    np.random.seed(seed)
    # One epoch on a few rows: its fit runs a query loop per training row too.
    detector = PyODAnoGAN(epochs=1, latent_dim_G=latent_dim, device=torch.device("cpu"))
    detector.fit(X_train[:200])
    elapsed = _best_time(lambda: detector.decision_function(X), 1)
    return len(X) / elapsed


_PRODUCTS_PER_TIMING = 10


def _products(left, right):
    for _ in range(_PRODUCTS_PER_TIMING):
        torch.mm(left, right)


def _matmul_floor(model, n_features, chunk_size, steps, repeats=20):
    """Return (flop per row and step, rows/s if only the matrix products took time)."""
    shapes = []

    def record(layer, inputs, output):
        shapes.append((layer.in_features, layer.out_features))

    hooks = [
        layer.register_forward_hook(record)
        for layer in model.modules()
        if isinstance(layer, torch.nn.Linear)
    ]
    with torch.no_grad():
        row = torch.zeros(1, n_features)
        features = model.discriminator.features(row) if model.score_method == "fm" else None
        shapes.clear()  # keep only the layers of one search step
        model.search_loss(row, features, torch.zeros(1, model.latent_dim))
    for hook in hooks:
        hook.remove()
    flop = 2 * 2 * sum(n_in * n_out for n_in, n_out in shapes)  # forward + input gradient
    seconds = 0.0
    for n_in, n_out in shapes:
        weight = torch.rand(n_out, n_in)
        # Forward (rows x weight^T) and the gradient to the input (rows x weight).
        for left, right in ((torch.rand(chunk_size, n_in), weight.T),
                            (torch.rand(chunk_size, n_out), weight)):  # fmt: skip
            timing = _best_time(functools.partial(_products, left, right), repeats)
            seconds += timing / _PRODUCTS_PER_TIMING
    return flop, chunk_size / (seconds * steps)


def measure(size, *, n_rows, loop_rows, steps, repeats, seed=0):
    """Return the figures of one network size as a dict."""
    config = SIZES[size]
    rng = np.random.RandomState(seed)
    X_train = rng.rand(2000, config["n_features"]).astype(np.float32)
    X = rng.rand(n_rows, config["n_features"]).astype(np.float32)
    detector = AnoGAN(
        max_epochs=1, lr=1e-3, n_search_iter=steps, latent_dim=config["latent_dim"],
        preprocessing=None, random_state=seed, device="cpu", **config["params"],
    ).fit(X_train)  # fmt: skip
    batched = _best_time(lambda: detector.score_samples(X), repeats)

    model = copy.deepcopy(detector.net_.module_).eval()
    rows = torch.from_numpy(X[:loop_rows])

    def per_sample():
        for i in range(loop_rows):
            model.latent_search(rows[i : i + 1])

    looped = _best_time(per_sample, 1)
    # The loop runs the same search: its scores match the batched ones.
    loop_scores = torch.cat([model.latent_search(rows[i : i + 1])[0] for i in range(len(rows))])
    max_difference = float(
        np.abs(-detector.score_samples(X[:loop_rows]) - loop_scores.detach().numpy()).max()
    )
    result = {
        "size": size,
        "n_features": config["n_features"],
        "steps": steps,
        "rows": n_rows,
        "batched_rows_per_s": n_rows / batched,
        "per_sample_rows_per_s": loop_rows / looped,
        "loop_rows": loop_rows,
        "max_score_difference_batched_vs_loop": max_difference,
    }
    result["speedup"] = result["batched_rows_per_s"] / result["per_sample_rows_per_s"]
    flop, floor = _matmul_floor(model, config["n_features"], AnoGAN._score_chunk_size["mlp"], steps)
    result["search_flop_per_row_and_step"] = flop
    result["matmul_floor_rows_per_s"] = floor
    result["share_of_floor"] = result["batched_rows_per_s"] / floor
    if importlib.util.find_spec("pyod") is not None:
        result["pyod_anogan_rows_per_s"] = _pyod_rows_per_second(
            X_train, X[: min(n_rows, 5000)], config["latent_dim"], seed
        )
    return result


def _print(result):
    print(
        f"\n{result['size']} model ({result['n_features']} features), "
        f"{result['steps']} search steps, {result['rows']:,} rows"
    )
    print(f"  batched search (score_samples)   {result['batched_rows_per_s']:>12,.0f} rows/s")
    print(f"  same search, per-sample loop     {result['per_sample_rows_per_s']:>12,.1f} rows/s")
    print(f"  speed-up                         {result['speedup']:>12,.0f} x")
    print(
        "  max |score difference|           "
        f"{result['max_score_difference_batched_vs_loop']:>12.2e}"
    )
    print(
        f"  matrix-product floor             {result['matmul_floor_rows_per_s']:>12,.0f} rows/s"
        f"  ({result['search_flop_per_row_and_step'] / 1e3:,.0f} kflop per row and step;"
        f" batched search at {result['share_of_floor']:.0%} of it)"
    )
    if "pyod_anogan_rows_per_s" in result:
        print(
            f"  PyOD AnoGAN (no search)          {result['pyod_anogan_rows_per_s']:>12,.0f} rows/s"
        )


def main(argv=None):
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--rows", type=int, default=8192, help="rows scored in one call")
    parser.add_argument("--loop-rows", type=int, default=40, help="rows of the timed loop")
    parser.add_argument("--steps", type=int, default=100, help="search steps")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor()}")
    results = []
    for size in args.sizes:
        result = measure(
            size, n_rows=args.rows, loop_rows=args.loop_rows, steps=args.steps,
            repeats=args.repeats,
        )  # fmt: skip
        _print(result)
        results.append(result)
    if args.out:
        with open(args.out, "w") as file:
            json.dump({"threads": torch.get_num_threads(), "results": results}, file, indent=2)
    return results


if __name__ == "__main__":
    main()
