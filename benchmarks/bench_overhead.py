"""Framework overhead: GANomaly through the package vs a plain PyTorch loop.

Both sides train the *same* modules (built from the same seed) with the same
algorithm: per batch a generator step (encoder, decoder and latent encoder,
with the discriminator frozen) then a discriminator step on the detached
reconstruction, Adam per player, the same shuffling and batch size. The plain
loop is what one would write by hand; the package adds skorch's callbacks,
the history, the divergence checks and input validation. Scoring compares
``score_samples`` with a plain ``torch.no_grad`` pass over the same modules.

Run::

    python benchmarks/bench_overhead.py                      # 100,000 x 121, 2 epochs
    python benchmarks/bench_overhead.py --n-samples 20000 --epochs 1

It prints one table; ratios above 1 mean the package is faster. Timings on a
shared machine are noisy, so each figure is the best of ``--repeats``
interleaved runs. "fit seconds" is the whole ``fit`` (validation, building
the networks, training, and the scoring pass that sets ``offset_``); the
"training loop" row counts skorch's epochs only.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import time

import numpy as np
import torch

from sklearn_ganad import GANomaly
from sklearn_ganad.losses import bce_with_logits, mean_absolute_error, mean_squared_error
from sklearn_ganad.networks import reset_parameters_
from sklearn_ganad.utils._torch import seeded


def plain_fit(model, X, *, epochs, batch_size, lr, betas, seed):
    """Train ``model`` (a GANomalyModel) with a hand-written PyTorch loop."""
    generator_params = [p for _, p in model.player_parameters("generator")]
    discriminator_params = list(model.discriminator.parameters())
    opt_g = torch.optim.Adam(generator_params, lr=lr, betas=betas)
    opt_d = torch.optim.Adam(discriminator_params, lr=lr, betas=betas)
    data = torch.from_numpy(X)
    w_adv, w_con, w_enc = model.adversarial_weight, model.contextual_weight, model.encoder_weight
    with seeded(seed, "cpu"):
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(data))
            for start in range(0, len(data), batch_size):
                x = data[order[start : start + batch_size]]
                # generator step, discriminator frozen
                for p in discriminator_params:
                    p.requires_grad_(False)
                opt_g.zero_grad(set_to_none=True)
                z = model.encoder(x)
                x_hat = model.decoder(z)
                z_hat = model.latent_encoder(x_hat)
                with torch.no_grad():
                    f_real = model.discriminator.features(x)
                f_fake = model.discriminator.features(x_hat)
                loss_g = (
                    w_adv * mean_squared_error(f_real, f_fake).mean()
                    + w_con * mean_absolute_error(x, x_hat).mean()
                    + w_enc * mean_squared_error(z, z_hat).mean()
                )
                loss_g.backward()
                opt_g.step()
                for p in discriminator_params:
                    p.requires_grad_(True)
                # discriminator step, generator frozen
                for p in generator_params:
                    p.requires_grad_(False)
                opt_d.zero_grad(set_to_none=True)
                fake = x_hat.detach()
                loss_d = 0.5 * (
                    bce_with_logits(model.discriminator(x), 1.0)
                    + bce_with_logits(model.discriminator(fake), 0.0)
                )
                loss_d.backward()
                opt_d.step()
                for p in generator_params:
                    p.requires_grad_(True)
                loss_g.item(), loss_d.item()  # a loop logs its losses too
    return model


def plain_score(model, X, batch_size):
    """Anomaly scores from a plain no-grad pass in batches."""
    model.eval()
    out = np.empty(len(X))
    data = torch.from_numpy(X)
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            out[start : start + batch_size] = model(data[start : start + batch_size]).numpy()
    return out


def run(n_samples, n_features, epochs, batch_size, repeats, seed=0):
    X = np.random.RandomState(seed).rand(n_samples, n_features).astype(np.float32)
    package_fit, package_loop, plain_fit_s, package_score, plain_score_s = [], [], [], [], []
    for _ in range(repeats):
        detector = GANomaly(
            max_epochs=epochs, batch_size=batch_size, random_state=seed, device="cpu"
        )
        start = time.perf_counter()
        detector.fit(X)
        package_fit.append(time.perf_counter() - start)
        # skorch's EpochTimer: the training loop alone, without validation,
        # network construction and the scoring pass that sets offset_.
        package_loop.append(sum(detector.net_.history[:, "dur"]))

        # The same modules, re-drawn from their initialisation, for the plain loop.
        model = copy.deepcopy(detector.net_.module_)
        with seeded(seed, "cpu"):
            reset_parameters_(model, "mlp")
        start = time.perf_counter()
        plain_fit(
            model, X, epochs=epochs, batch_size=batch_size, lr=2e-4, betas=(0.5, 0.999), seed=seed
        )
        plain_fit_s.append(time.perf_counter() - start)

        start = time.perf_counter()
        detector.score_samples(X)
        package_score.append(time.perf_counter() - start)
        start = time.perf_counter()
        plain_score(model, X, 4096)
        plain_score_s.append(time.perf_counter() - start)
    best = {
        "package_fit_seconds": min(package_fit),
        "package_training_loop_seconds": min(package_loop),
        "plain_fit_seconds": min(plain_fit_s),
        "package_score_rows_per_second": n_samples / min(package_score),
        "plain_score_rows_per_second": n_samples / min(plain_score_s),
    }
    best["fit_speed_ratio"] = best["plain_fit_seconds"] / best["package_fit_seconds"]
    best["training_loop_speed_ratio"] = (
        best["plain_fit_seconds"] / best["package_training_loop_seconds"]
    )
    best["score_speed_ratio"] = (
        best["package_score_rows_per_second"] / best["plain_score_rows_per_second"]
    )
    best["training_rows_per_second"] = n_samples * epochs / best["package_fit_seconds"]
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--n-features", type=int, default=121)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many interleaved runs")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args.n_samples, args.n_features, args.epochs, args.batch_size, args.repeats)
    setup = (
        f"GANomaly (MLP), {args.n_samples:,} x {args.n_features} uniform table, "
        f"{args.epochs} epochs, batch {args.batch_size}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {platform.processor() or platform.machine()}"
    )
    print(setup)
    print("| | package | plain PyTorch | ratio (package / plain speed) |")
    print("|---|---:|---:|---:|")
    print(
        f"| fit seconds | {figures['package_fit_seconds']:.2f} | "
        f"{figures['plain_fit_seconds']:.2f} | {figures['fit_speed_ratio']:.3f} |"
    )
    print(
        f"| training loop seconds (epochs only) | {figures['package_training_loop_seconds']:.2f} | "
        f"{figures['plain_fit_seconds']:.2f} | {figures['training_loop_speed_ratio']:.3f} |"
    )
    print(
        f"| scoring rows/s | {figures['package_score_rows_per_second']:,.0f} | "
        f"{figures['plain_score_rows_per_second']:,.0f} | {figures['score_speed_ratio']:.3f} |"
    )
    print(f"training throughput: {figures['training_rows_per_second']:,.0f} rows/s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"setup": setup, **figures}, handle, indent=2)


if __name__ == "__main__":
    main()
