"""Framework overhead: a method trained through the package vs a plain PyTorch loop.

Both sides train the *same* modules (the fitted detector's, re-initialised)
with the same algorithm, optimizers, batch size and shuffling:

* ``GANomaly``: per batch a generator step (encoder, decoder and latent
  encoder, discriminator frozen) then a discriminator step on the detached
  reconstruction;
* ``ALAD``: per batch a step of the three discriminators (D_xz, D_xx, D_zz),
  then one of the generator and encoder, then the update of the weights'
  moving average.

The plain loop is what one would write by hand; the package adds skorch's
callbacks and history, the divergence checks and input validation. Scoring
compares ``score_samples`` with a plain float32 ``torch.no_grad`` pass; note
that on the CPU the package scores perceptrons in float64, so that a row's
score does not depend on the other rows (see ``GANNet.anomaly_scores``).

Run::

    python benchmarks/bench_overhead.py --method GANomaly    # 100,000 x 121, 2 epochs
    python benchmarks/bench_overhead.py --method ALAD --epochs 1

It prints one table; ratios above 1 mean the package is faster. Timings on a
shared machine are noisy, so each figure is the best of ``--repeats``
interleaved runs. "fit seconds" is the whole ``fit`` (validation, building
the networks, training, and the scoring pass that sets ``offset_``); the
"training loop" row counts skorch's epochs only.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import platform
import time

import numpy as np
import torch

from sklearn_ganad import ALAD, GANomaly
from sklearn_ganad.losses import bce_with_logits, mean_absolute_error, mean_squared_error
from sklearn_ganad.networks import reset_parameters_
from sklearn_ganad.presets import paper_params
from sklearn_ganad.utils._torch import seeded


def _set_requires_grad(params, flag):
    for param in params:
        param.requires_grad_(flag)


def _ganomaly_step(model, x, optimizers, players):
    w_adv, w_con, w_enc = model.adversarial_weight, model.contextual_weight, model.encoder_weight
    opt_g, opt_d = optimizers
    generator, discriminator = players
    _set_requires_grad(discriminator, False)
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
    _set_requires_grad(discriminator, True)
    _set_requires_grad(generator, False)
    opt_d.zero_grad(set_to_none=True)
    fake = x_hat.detach()
    loss_d = 0.5 * (
        bce_with_logits(model.discriminator(x), 1.0)
        + bce_with_logits(model.discriminator(fake), 0.0)
    )
    loss_d.backward()
    opt_d.step()
    _set_requires_grad(generator, True)
    return loss_g, loss_d


def _alad_step(model, x, optimizers, players):
    opt_g, opt_d = optimizers
    generator, discriminator = players
    E, G, D, Dxx, Dzz = (
        model.encoder,
        model.generator,
        model.discriminator,
        model.cycle_x,
        model.cycle_z,
    )
    z = torch.randn(len(x), model.latent_dim, device=x.device)
    _set_requires_grad(generator, False)
    opt_d.zero_grad(set_to_none=True)
    with torch.no_grad():
        code, generated = E(x), G(z)
        reconstruction, cycled = G(code), E(generated)
    loss_d = (
        bce_with_logits(D(x, code), 1.0) + bce_with_logits(D(generated, z), 0.0)
        + bce_with_logits(Dxx(x, x), 1.0) + bce_with_logits(Dxx(x, reconstruction), 0.0)
        + bce_with_logits(Dzz(z, z), 1.0) + bce_with_logits(Dzz(z, cycled), 0.0)
    )  # fmt: skip
    loss_d.backward()
    opt_d.step()
    _set_requires_grad(generator, True)
    z = torch.randn(len(x), model.latent_dim, device=x.device)
    _set_requires_grad(discriminator, False)
    opt_g.zero_grad(set_to_none=True)
    code, generated = E(x), G(z)
    loss_g = (
        bce_with_logits(D(generated, z), 1.0) + bce_with_logits(D(x, code), 0.0)
        + bce_with_logits(Dxx(x, x), 0.0) + bce_with_logits(Dxx(x, G(code)), 1.0)
        + bce_with_logits(Dzz(z, z), 0.0) + bce_with_logits(Dzz(z, E(generated)), 1.0)
    )  # fmt: skip
    loss_g.backward()
    opt_g.step()
    _set_requires_grad(discriminator, True)
    return loss_g, loss_d


METHODS = {
    "GANomaly": dict(cls=GANomaly, step=_ganomaly_step, batch_size=64),
    "ALAD": dict(cls=ALAD, step=_alad_step, batch_size=50),
}


def plain_fit(
    model, X, *, method, epochs, batch_size, lr, betas, seed, ema_decay=None, device="cpu",
    precision="32",
):  # fmt: skip
    """Train ``model`` with a hand-written PyTorch loop of ``method``'s algorithm.

    On ``device``, with the data placed there once, under ``torch.autocast``
    for a ``precision`` other than ``"32"`` (bf16 only: no gradient scaler);
    the losses are read back every step, as such a loop logs them.
    """
    generator = [p for _, p in model.player_parameters("generator")]
    discriminator = [p for _, p in model.player_parameters("discriminator")]
    optimizers = (  # the package's optimizer settings: Adam, fused where supported
        torch.optim.Adam(generator, lr=lr, betas=betas, fused=True),
        torch.optim.Adam(discriminator, lr=lr, betas=betas, fused=True),
    )
    params = [p for p in model.parameters()]
    averages = [p.detach().clone() for p in params] if ema_decay else None
    step = METHODS[method]["step"]
    data = torch.from_numpy(X).to(device)
    autocast = (
        torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
        if precision == "bf16" else contextlib.nullcontext()
    )  # fmt: skip
    with seeded(seed, device):
        model.train()
        updates = 0
        for _ in range(epochs):
            order = torch.randperm(len(data)).to(device)
            for start in range(0, len(data), batch_size):
                x = data[order[start : start + batch_size]]
                with autocast:
                    loss_g, loss_d = step(model, x, optimizers, (generator, discriminator))
                if averages is not None:
                    decay = min(ema_decay, (1 + updates) / (10 + updates))
                    with torch.no_grad():
                        torch._foreach_lerp_(averages, [p.detach() for p in params], 1 - decay)
                    updates += 1
                loss_g.item(), loss_d.item()  # a loop logs its losses too
    return model


def plain_score(model, X, batch_size, device="cpu"):
    """Anomaly scores from a plain float32 no-grad pass in batches."""
    model.eval()
    out = np.empty(len(X))
    data = torch.from_numpy(X)
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            chunk = data[start : start + batch_size].to(device)
            out[start : start + batch_size] = model(chunk).float().cpu().numpy()
    return out


def run(method, n_samples, n_features, epochs, repeats, seed=0):
    spec = METHODS[method]
    X = np.random.RandomState(seed).rand(n_samples, n_features).astype(np.float32)
    timings = {key: [] for key in ("fit", "loop", "plain", "score", "plain_score")}
    for _ in range(repeats):
        # The papers' KDDCUP99 settings (the figures committed so far), unscaled.
        params = {**paper_params(method, "kddcup99"), "max_epochs": epochs}
        detector = spec["cls"](**params, random_state=seed, device="cpu")
        start = time.perf_counter()
        detector.fit(X)
        timings["fit"].append(time.perf_counter() - start)
        # skorch's EpochTimer: the training loop alone, without validation,
        # network construction and the scoring pass that sets offset_.
        timings["loop"].append(sum(detector.net_.history[:, "dur"]))

        # The same modules, re-drawn from their initialisation, for the plain loop.
        model = copy.deepcopy(detector.net_.module_)
        with seeded(seed, "cpu"):
            reset_parameters_(model, "mlp")
        start = time.perf_counter()
        plain_fit(
            model, X, method=method, epochs=epochs, batch_size=spec["batch_size"],
            lr=detector.lr_, betas=(0.5, 0.999), seed=seed,
            ema_decay=getattr(detector, "ema_decay_", None),
        )  # fmt: skip
        timings["plain"].append(time.perf_counter() - start)

        start = time.perf_counter()
        detector.score_samples(X)
        timings["score"].append(time.perf_counter() - start)
        start = time.perf_counter()
        plain_score(model, X, 4096)
        timings["plain_score"].append(time.perf_counter() - start)
    best = {key: min(values) for key, values in timings.items()}
    rows_seen = n_samples * epochs
    return {
        "package_fit_seconds": best["fit"],
        "package_training_loop_seconds": best["loop"],
        "plain_fit_seconds": best["plain"],
        "package_training_rows_per_second": rows_seen / best["loop"],
        "plain_training_rows_per_second": rows_seen / best["plain"],
        "fit_speed_ratio": best["plain"] / best["fit"],
        "training_loop_speed_ratio": best["plain"] / best["loop"],
        "package_score_rows_per_second": n_samples / best["score"],
        "plain_score_rows_per_second": n_samples / best["plain_score"],
        "score_speed_ratio": best["plain_score"] / best["score"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=sorted(METHODS), default="GANomaly")
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--n-features", type=int, default=121)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many interleaved runs")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args.method, args.n_samples, args.n_features, args.epochs, args.repeats)
    setup = (
        f"{args.method} (MLP, its default settings, batch {METHODS[args.method]['batch_size']}), "
        f"{args.n_samples:,} x {args.n_features} uniform table, {args.epochs} epochs, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}"
    )
    print(setup)
    print("| | package | plain PyTorch | ratio (package / plain speed) |")
    print("|---|---:|---:|---:|")
    print(
        f"| fit seconds | {figures['package_fit_seconds']:.2f} | "
        f"{figures['plain_fit_seconds']:.2f} | {figures['fit_speed_ratio']:.3f} |"
    )
    print(
        f"| training rows/s (epochs only) | {figures['package_training_rows_per_second']:,.0f} | "
        f"{figures['plain_training_rows_per_second']:,.0f} | "
        f"{figures['training_loop_speed_ratio']:.3f} |"
    )
    print(
        f"| scoring rows/s | {figures['package_score_rows_per_second']:,.0f} | "
        f"{figures['plain_score_rows_per_second']:,.0f} | {figures['score_speed_ratio']:.3f} |"
    )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"setup": setup, **figures}, handle, indent=2)


if __name__ == "__main__":
    main()
