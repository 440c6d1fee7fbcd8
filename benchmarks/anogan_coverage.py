"""How much of KDDCUP99's training data AnoGAN's generator covers.

Fits AnoGAN on a profile's KDDCUP99 training rows (``--profile``: the quick
profile's 20,000 by default, or the full profile's 198,361), min-max scaled
or, with ``--unscaled``, as they are (``--preprocessing`` has the detector
scale them itself, and distances are then measured on the scale its
networks see), with that profile's budget of ``--method`` (``AnoGAN``, the
paper's GAN, or ``AnoGAN-WGAN-GP``, f-AnoGAN's WGAN-GP scored by AnoGAN's
search), and prints:

* the per-feature standard deviation of 2,000 generated rows (near 0: the
  generator produces a single row, a mode collapse);
* the median and 90th percentile distance from a training row to the
  nearest generated row (how much of the data the generator reaches);
* ROC AUC and F1 on the test rows (10,000 in the quick profile, all 247,011
  in the full one) for the search with 0 and with ``--search-steps`` steps
  (equal figures: the search cannot move).

The fit runs no search over the training rows: its ``offset_`` is not used
here, and the search's start codes are fixed at fit, so the test scores are
those of a fit that did.

Run from the repository root, with ``../shared/data`` or ``SKLEARN_GANAD_DATA``
holding ``kddcup.data_10_percent.gz`` (else scikit-learn's fetcher is used)::

    python -m benchmarks.anogan_coverage
    python -m benchmarks.anogan_coverage --method AnoGAN-WGAN-GP
    python -m benchmarks.anogan_coverage --profile full --method AnoGAN-WGAN-GP --search-steps 100
    python -m benchmarks.anogan_coverage --lr 1e-5 --epochs 40   # override the budget
    python -m benchmarks.anogan_coverage --preprocessing standard --output-activation linear
    python -m benchmarks.anogan_coverage --preprocessing standard --output-activation linear \\
        --ema-decay none
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.metrics import pairwise_distances_argmin_min, roc_auc_score

from sklearn_ganad import AnoGAN
from sklearn_ganad.metrics import precision_recall_f1_at_percentile

from ._methods import budget, cosine_schedule, ema_decay_arg
from ._tasks import default_data_dir, kddcup99_tasks


def main(argv=None):
    """Fit AnoGAN once and print its generator's coverage and its scores.

    Parameters
    ----------
    argv : list of str, optional
        The command-line arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.anogan_coverage")
    parser.add_argument("--method", choices=("AnoGAN", "AnoGAN-WGAN-GP"), default="AnoGAN")
    parser.add_argument("--profile", choices=("quick", "full"), default="quick",
                        help="whose KDDCUP99 rows and budget (default: quick)")  # fmt: skip
    parser.add_argument("--lr", type=float, help="default: the budget's")
    parser.add_argument("--epochs", type=int, help="default: the budget's")
    parser.add_argument("--output-activation", help="default: the budget's")
    parser.add_argument("--search-steps", type=int, help="default: the budget's")
    parser.add_argument(
        "--ema-decay",
        type=ema_decay_arg,
        default=argparse.SUPPRESS,
        help="a float, or 'none' to score with the last weights (default: the detector's)",
    )
    parser.add_argument(
        "--lr-schedule",
        choices=("cosine",),
        help="anneal every player's learning rate to 0 over the training steps, batch by "
        "batch (default: constant)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--unscaled", action="store_true", help="the papers' unscaled features")
    parser.add_argument(
        "--preprocessing",
        choices=("none", "standard", "minmax"),
        help="the detector's own scaling, clipped as its defaults clip (default: the "
        "budget's, none); distances are then measured on the scale the networks see",
    )
    args = parser.parse_args(argv)

    task = kddcup99_tasks(args.profile, default_data_dir(), scale=not args.unscaled)[0]
    X = task.X_train
    n_test = len(task.X_test) if args.profile == "full" else min(10_000, len(task.X_test))
    test = np.sort(np.random.RandomState(0).choice(len(task.X_test), n_test, replace=False))
    X_test, y_test = task.X_test[test], task.y_test[test]
    n_distinct = len(np.unique(X.round(3), axis=0))
    print(
        f"training rows: {len(X):,}, distinct at 3 decimals: {n_distinct:,}; test rows: {n_test:,}"
    )

    params = budget(args.profile, args.method, task.dataset)
    overrides = dict(
        lr=args.lr, max_epochs=args.epochs, output_activation=args.output_activation,
        n_search_iter=args.search_steps,
    )  # fmt: skip
    params.update({name: value for name, value in overrides.items() if value is not None})
    if args.preprocessing is not None:
        params["preprocessing"] = None if args.preprocessing == "none" else args.preprocessing
    if hasattr(args, "ema_decay"):  # given
        params["ema_decay"] = args.ema_decay
    # No search at fit: offset_ (the training rows' scores) is not used here.
    detector = AnoGAN(random_state=args.seed, **{**params, "n_search_iter": 0})
    if args.lr_schedule == "cosine":
        schedule = cosine_schedule(detector, len(X))
        detector.set_params(callbacks=[("lr_schedule", schedule)])
        params["lr_schedule"] = f"cosine over {schedule.kwargs['T_max']} batches"
    print(f"{args.method}: {params}")
    start = time.perf_counter()
    detector.fit(X)
    print(f"fit: {time.perf_counter() - start:.0f} s")

    model = detector.net_.module_
    generator = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        z = torch.randn(2_000, detector.latent_dim_, generator=generator)
        generated = model.generator(z).numpy()
    # On the networks' scale: the detector's own scaling, where it has one.
    _, to_generated = pairwise_distances_argmin_min(detector._scale(X[:5_000]), generated)
    print(f"generated rows: per-feature std {generated.std(axis=0).mean():.4f}")
    print(
        "distance from a training row to the nearest generated row: median "
        f"{np.median(to_generated):.3f}, 90th percentile {np.percentile(to_generated, 90):.3f}"
    )
    for steps in (0, params["n_search_iter"]):
        model.n_search_iter = steps
        scores = -detector.score_samples(X_test)
        f1 = precision_recall_f1_at_percentile(y_test, scores, task.threshold_percentile)[2]
        print(f"search steps {steps:>3}: ROC AUC {roc_auc_score(y_test, scores):.3f}, F1 {f1:.3f}")


if __name__ == "__main__":
    main()
