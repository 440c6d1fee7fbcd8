"""F1 after every epoch of EGBAD or ALAD on KDDCUP99: what a budget's epochs could reach.

Trains the method with a profile's KDDCUP99 budget (``--profile``, the full
one by default: all 198,361 training rows), with any of the settings below
overridden, and after every epoch scores the test rows with each of the
method's scores, as scoring after ``fit`` would (the weight average adopted,
the networks in evaluation mode). It prints one line per epoch: the epoch,
``valid_loss`` where rows are held out (``--validation-fraction``; the epoch
of lowest ``valid_loss`` is then kept, as the budgets do), and the F1 at the
80th percentile of each score. The test labels only measure: they never
steer training. The best epoch of the trace bounds what any choice of epochs
could give that seed, and the trace shows whether the held-out criterion
picks a good epoch.

Run from the repository root, with ``../shared/data`` or
``SKLEARN_GANAD_DATA`` holding ``kddcup.data_10_percent.gz`` (else
scikit-learn's fetcher is used)::

    python -m benchmarks.epoch_trace --method ALAD --seed 1
    python -m benchmarks.epoch_trace --method ALAD --seed 1 --output-activation linear
    python -m benchmarks.epoch_trace --method ALAD --unscaled --seed 2 --epochs 16 \\
        --validation-fraction 0.1
    python -m benchmarks.epoch_trace --method EGBAD --epochs 4 --validation-fraction 0.1
    python -m benchmarks.epoch_trace --method EGBAD --reconstruction-weight 1  # residual alone
    python -m benchmarks.epoch_trace --method EGBAD --preprocessing standard --feature-clip auto
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import numpy as np
import torch
from skorch.callbacks import Callback

from sklearn_ganad import ALAD, EGBAD
from sklearn_ganad._net import _adopt_weight_average, _has_weight_average
from sklearn_ganad.metrics import precision_recall_f1_at_percentile

from ._methods import (
    SCORE_VARIANTS,
    budget,
    cosine_schedule,
    ema_decay_arg,
    feature_clip_arg,
    use_score,
)
from ._tasks import default_data_dir, kddcup99_tasks

METHODS = {"EGBAD": EGBAD, "ALAD": ALAD}


def epoch_scores(detector, module, X_test, score_methods):
    """Anomaly scores of ``X_test`` under ``module``, one array per score.

    Parameters
    ----------
    detector : EGBAD or ALAD
        The detector being fitted (its scaler and feature count are set).
    module : torch.nn.Module
        The method's model as it stands; it is copied, not changed.
    X_test : ndarray of shape (n_samples, n_features)
        Test rows, unscaled (the detector's scaler is applied).
    score_methods : sequence of str
        Values of the method's ``score_method``.

    Returns
    -------
    scores : dict of str to ndarray of shape (n_samples,)
        Higher = more anomalous, as ``-score_samples`` after ``fit``.
    """
    X = detector._validate_X(X_test, reset=False)
    # The detector's scoring chunk, so that memory stays flat over many rows.
    chunk = detector._score_chunk_size[detector.architecture_]
    # Not net_.anomaly_scores: mid-fit the net's module has no averaged
    # weights yet (fit adopts them at its end), so a copy adopts them here.
    model = copy.deepcopy(module)
    if _has_weight_average(model):
        _adopt_weight_average(model)  # what fit leaves for scoring
    model.eval()
    scores = {}
    with torch.no_grad():
        for name in score_methods:
            use_score(detector, model, name)
            parts = [
                model.anomaly_score(torch.from_numpy(np.ascontiguousarray(X[i : i + chunk])))
                for i in range(0, len(X), chunk)
            ]
            scores[name] = torch.cat(parts).double().numpy()
    return scores


def f1_per_score(scores, y_test, percentile):
    """F1 of flagging each score at or above ``percentile``, to 4 decimals.

    Parameters
    ----------
    scores : dict of str to ndarray of shape (n_samples,)
        Anomaly scores per score name (:func:`epoch_scores`).
    y_test : ndarray of shape (n_samples,)
        1 for anomalies, 0 for normal rows.
    percentile : float
        The protocol's threshold percentile.

    Returns
    -------
    f1 : dict of str to float
    """
    return {
        name: round(precision_recall_f1_at_percentile(y_test, values, percentile)[2], 4)
        for name, values in scores.items()
    }


class EpochTrace(Callback):
    """After every epoch, record the F1 of each score on labelled test rows.

    Parameters
    ----------
    detector : EGBAD or ALAD
        The detector whose ``net_`` this callback is given to.
    X_test, y_test : ndarray
        Test rows (unscaled) and their labels (1 = anomaly).
    percentile : float
        Scores at or above this percentile are flagged.
    score_methods : sequence of str
        The scores to evaluate.
    out : callable or None, default=None
        Called with each epoch's record (``print`` of a JSON line, say).
    """

    def __init__(self, detector, X_test, y_test, percentile, score_methods, out=None):
        self.detector = detector
        self.X_test = X_test
        self.y_test = y_test
        self.percentile = percentile
        self.score_methods = score_methods
        self.out = out

    def __deepcopy__(self, memo):
        # Detectors copy their callbacks at fit; the trace must read the
        # detector being fitted (its scaler) and keep its records where the
        # caller holds them, without copying the test rows.
        return self

    def initialize(self):
        """Start an empty trace."""
        self.records_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        """Score the test rows and record the epoch's F1 per score."""
        last = net.history[-1]
        record = {"epoch": len(net.history)}
        if "valid_loss" in last:
            record["valid_loss"] = round(float(last["valid_loss"]), 5)
        scores = epoch_scores(self.detector, net.module_, self.X_test, self.score_methods)
        record.update(f1_per_score(scores, self.y_test, self.percentile))
        self.records_.append(record)
        if self.out is not None:
            self.out(record)


def trace(detector, task, score_methods, out=None):
    """Fit ``detector`` on ``task``'s training rows, tracing every epoch.

    Parameters
    ----------
    detector : EGBAD or ALAD
        Unfitted; its ``callbacks`` are kept and the trace added.
    task : benchmarks._tasks.Task
        Training rows, test rows, labels and the threshold percentile.
    score_methods : sequence of str
        The scores to evaluate after every epoch.
    out : callable or None, default=None
        Called with each epoch's record.

    Returns
    -------
    records : list of dict
        One per epoch: ``epoch``, ``valid_loss`` (with held-out rows) and
        the F1 of each score.
    final : dict
        The F1 of each score after ``fit`` (the epoch kept, if any).
    """
    probe = EpochTrace(
        detector, task.X_test, task.y_test, task.threshold_percentile, score_methods, out
    )
    detector.set_params(callbacks=[*(detector.callbacks or []), ("epoch_trace", probe)])
    detector.fit(task.X_train)
    scores = epoch_scores(detector, detector.net_.module_, task.X_test, score_methods)
    return probe.records_, f1_per_score(scores, task.y_test, task.threshold_percentile)


def main(argv=None):
    """Fit EGBAD or ALAD on KDDCUP99 once and print the F1 of every epoch."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.epoch_trace")
    parser.add_argument("--method", choices=tuple(METHODS), default="ALAD")
    parser.add_argument("--profile", choices=("quick", "full"), default="full")
    parser.add_argument("--unscaled", action="store_true", help="the papers' unscaled features")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, help="default: the budget's")
    parser.add_argument("--lr", type=float, help="default: the budget's")
    parser.add_argument(
        "--ema-decay",
        type=ema_decay_arg,
        default=argparse.SUPPRESS,
        help="a float, or 'none' for no weight average (default: the budget's)",
    )
    parser.add_argument("--output-activation", help="default: the budget's")
    parser.add_argument(
        "--preprocessing",
        choices=("none", "standard", "minmax"),
        help="the detector's own scaling (default: the budget's); clipped as --feature-clip says",
    )
    parser.add_argument(
        "--feature-clip",
        type=feature_clip_arg,
        default=argparse.SUPPRESS,
        help="'auto' (10 standard deviations under 'standard'), a bound, or 'none' (default: "
        "the budget's, or none where --preprocessing is given)",
    )
    parser.add_argument(
        "--validation-fraction",
        type=float,
        help="hold out this share and keep the epoch of lowest valid_loss (default: the "
        "budget's); 0 holds out nothing and keeps the last epoch",
    )
    parser.add_argument(
        "--lr-schedule",
        choices=("cosine",),
        help="anneal every player's learning rate to 0 over the training steps, batch by "
        "batch (default: constant)",
    )
    parser.add_argument(
        "--reconstruction-weight",
        type=float,
        help="EGBAD only: the residual's weight in every score; 1 scores by the residual "
        "alone, 0 by the discriminator's term alone (default: the detector's 'auto')",
    )
    args = parser.parse_args(argv)
    # Checked before the data are loaded.
    if args.reconstruction_weight is not None:
        if args.method != "EGBAD":
            parser.error("--reconstruction-weight is EGBAD's")
        if not 0 <= args.reconstruction_weight <= 1:
            parser.error(
                f"--reconstruction-weight must lie in [0, 1], got {args.reconstruction_weight}"
            )

    task = kddcup99_tasks(args.profile, default_data_dir(), scale=not args.unscaled)[0]
    params = budget(args.profile, args.method, task.dataset)
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    if args.lr is not None:
        params["lr"] = args.lr
    if hasattr(args, "ema_decay"):  # given
        params["ema_decay"] = args.ema_decay
    if args.output_activation is not None:
        params["output_activation"] = args.output_activation
    if args.preprocessing is not None:
        # As the budgets state it: no clipping beside a scaler.
        params["preprocessing"] = None if args.preprocessing == "none" else args.preprocessing
        params["feature_clip"] = None
    if hasattr(args, "feature_clip"):  # given
        params["feature_clip"] = args.feature_clip
    if args.validation_fraction is not None:
        held_out = args.validation_fraction > 0
        params["validation_fraction"] = args.validation_fraction if held_out else None
        params["restore_best_weights"] = held_out
    if args.reconstruction_weight is not None:
        params["reconstruction_weight"] = args.reconstruction_weight
    detector = METHODS[args.method](random_state=args.seed, **params)
    if args.lr_schedule == "cosine":
        schedule = cosine_schedule(detector, len(task.X_train))
        detector.set_params(callbacks=[("lr_schedule", schedule)])
        params["lr_schedule"] = f"cosine over {schedule.kwargs['T_max']} batches"
    print(json.dumps({"method": args.method, "dataset": task.dataset, "seed": args.seed,
                      "params": params}, default=str), flush=True)  # fmt: skip
    start = time.perf_counter()
    records, final = trace(
        detector,
        task,
        SCORE_VARIANTS[args.method],
        out=lambda record: print(json.dumps(record), flush=True),
    )
    best = {name: max(record[name] for record in records) for name in SCORE_VARIANTS[args.method]}
    summary = {"after_fit": final, "best_epoch": best}
    summary["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
