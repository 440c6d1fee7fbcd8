"""Benchmark runner: methods x data sets x seeds, in one run.

Writes ``results.csv`` (one row per run: ROC AUC, average precision,
precision/recall/F1 at the protocol's threshold, fit seconds, scoring rows/s,
peak memory), ``results.json`` (the same with the run's metadata),
``summary.md`` (tables next to the papers' figures) and ``figures/`` (ROC
curves and score histograms of the first task and seed of each data set).

Profiles:

* ``quick``: CPU-sized (KDDCUP99 subsampled, short training), about 40 minutes
  on two cores for everything (the seven GAN detectors and five peers; PyOD's
  AutoEncoder and DeepSVDD add about three minutes, an estimate);
* ``full``: the papers' full data (every KDDCUP99 row, both MNIST protocols)
  with budgets cut to minutes per method and seed on two cores, three seeds;
  hours in all, so it is run with ``--resume`` over several sittings;
* ``paper``: the papers' data sizes and budgets, meant for a GPU.

Every finished (data set, task, method, seed) run is appended to
``progress.jsonl`` at once; ``--resume`` skips those an earlier, interrupted
sitting finished.

The ``adbench`` data set (not run by default) is a development suite: the 26
ADBench tables in ``<data dir>/adbench``, every method with its defaults,
reported per table (ROC AUC, average precision) and over the tables (means,
medians, mean rank, wins against IsolationForest).

Examples::

    python -m benchmarks --profile quick
    python -m benchmarks --profile quick --datasets digits arrhythmia --methods GANomaly
    python -m benchmarks --profile quick --compare benchmarks/results/quick/results.csv
    python -m benchmarks --profile quick --methods AnoGAN FAnoGAN --update  # add methods
    python -m benchmarks --profile quick --datasets adbench --out benchmarks/results/adbench
    python -m benchmarks --profile full --resume  # again until complete
    python -m benchmarks --profile paper --device cuda --out benchmarks/results/paper
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_auc_score

from sklearn_ganad.metrics import precision_recall_f1_at_percentile

from . import _report
from ._methods import DEFAULT_METHODS, DEFAULTS_ONLY, METHODS, PYOD_AVAILABLE, SKIPPED
from ._tasks import DATASETS, DEFAULT_DATASETS, REPO, default_data_dir, subsample_rows


class PeakMemory:
    """Peak increase of the resident set size while the block runs (Linux)."""

    def __init__(self, interval=0.005):
        self.interval = interval
        self.peak_mb = float("nan")

    @staticmethod
    def _rss_mb():
        try:
            with open("/proc/self/statm") as handle:
                pages = int(handle.read().split()[1])
        except OSError:
            return float("nan")
        import resource

        return pages * resource.getpagesize() / 2**20

    def _sample(self):
        while not self._stop.is_set():
            self._max = max(self._max, self._rss_mb())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._baseline = self._max = self._rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._max = max(self._max, self._rss_mb())
        self.peak_mb = self._max - self._baseline
        return False


class Progress:
    """The finished runs of an output folder: ``progress.jsonl``, a JSON line per run.

    A run is one (data set, task, method, seed): its rows (one per score
    variant) and seconds are appended and flushed to disk as soon as it
    finishes, so an interrupted benchmark loses at most the run in flight.
    ``resume=True`` keeps the file's runs and :meth:`finished` hands them back
    to be skipped; runs that failed are run again. A run without ``resume``
    starts the file anew.
    """

    FILE = "progress.jsonl"

    def __init__(self, out, profile, defaults, *, resume):
        self.path = Path(out) / self.FILE
        self.settings = {"profile": profile, "defaults": bool(defaults)}
        self.sitting = time.strftime("%Y-%m-%d %H:%M:%S")
        self.runs = self._read() if resume else {}
        # Anew, or rewritten with the runs read: a line the interruption cut
        # must not swallow the next one appended.
        with open(self.path, "w") as handle:
            handle.writelines(json.dumps(run, default=float) + "\n" for run in self.runs.values())

    def _read(self):
        runs = {}
        if not self.path.is_file():
            return runs
        with open(self.path) as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    run = json.loads(line)
                except json.JSONDecodeError:
                    # The line the interruption cut: that run is run again.
                    print(f"{self.path}: line {number} is incomplete; its run is run again")
                    continue
                if run["settings"] != self.settings:
                    sys.exit(
                        f"{self.path} holds runs with {run['settings']}, this run is "
                        f"{self.settings}: resume with the same --profile and --defaults, "
                        "or run without --resume to start anew."
                    )
                runs[tuple(run["key"])] = run  # a later line (a rerun) replaces an earlier
        return runs

    def finished(self, key, config=None):
        """The rows of ``key``'s run if it finished without an error, else None.

        A ``config`` (the method's settings now) other than the one the run
        was recorded with also gives None: its budget changed since, and a
        resumed profile must not mix the old settings' rows with the new.
        """
        run = self.runs.get(key)
        if run is None or any(row.get("error") for row in run["rows"]):
            return None
        recorded = run["rows"][0].get("config")
        if config is not None and recorded is not None and recorded != config:
            print(f"{' '.join(map(str, key))}: its settings changed since {run['sitting']} "
                  f"(were {recorded}, now {config}); run again", flush=True)  # fmt: skip
            return None
        return run["rows"]

    def record(self, key, rows, seconds):
        """Append ``key``'s finished run to the file, on disk before returning."""
        run = dict(key=list(key), settings=self.settings, sitting=self.sitting,
                   seconds=seconds, rows=rows)  # fmt: skip
        self.runs[key] = run
        with open(self.path, "a") as handle:
            handle.write(json.dumps(run, default=float) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def minutes(self):
        """Minutes the recorded runs took to fit and score, over every sitting."""
        return sum(run["seconds"] for run in self.runs.values()) / 60

    def sittings(self):
        """How many sittings (invocations) the recorded runs took."""
        return len({run["sitting"] for run in self.runs.values()})


# The figures draw at most this many test rows (the same for every method), so
# that their scores can be kept in the output folder for a resumed run.
PLOT_ROWS = 10_000


def _save_plot_scores(out, dataset, method, scores):
    """Keep the plotted task's scores (``PLOT_ROWS`` of them) for a resumed run's figures."""
    folder = out / "scores" / dataset
    folder.mkdir(parents=True, exist_ok=True)
    rows = subsample_rows(len(scores), PLOT_ROWS, 0)
    np.save(folder / f"{method}.npy", np.asarray(scores, dtype=np.float32)[rows])


def _load_plot_scores(out, dataset, methods):
    """The kept scores of ``methods`` on ``dataset``'s plotted task (those on disk)."""
    folder = out / "scores" / dataset
    return {m: np.load(folder / f"{m}.npy") for m in methods if (folder / f"{m}.npy").is_file()}


def method_config(task, method, profile, seed, device):
    """The settings ``run_one`` records for ``method`` on ``task`` (None if it cannot build)."""
    build, _ = METHODS[method]
    try:
        return build(task, profile, seed, device).config
    except Exception:  # run_one reports the error when it runs
        return None


def pr_auc_trapezoid(y_true, scores):
    """Area under the precision-recall curve by the trapezoidal rule.

    EGBAD's paper reports this on MNIST (its code integrates the curve of
    ``precision_recall_curve`` with ``auc``). It differs from
    ``average_precision_score``, which steps from point to point where the
    trapezoid interpolates linearly, by a little either way.
    """
    precision, recall, _ = precision_recall_curve(y_true, scores)
    return auc(recall, precision)


def run_one(task, method, profile, seed, device):
    """Fit and score one method on one task.

    Returns a list of ``(row, anomaly scores)``, one per score variant (one
    for most methods); a failure gives a row with its ``error`` and no scores.
    """
    build, family = METHODS[method]
    base = dict(
        profile=profile, dataset=task.dataset, task=task.name, method=method, family=family,
        seed=seed, n_test=len(task.X_test), n_train_available=len(task.X_train), error=None,
    )  # fmt: skip
    try:
        wrapped = build(task, profile, seed, device)
        base["config"] = wrapped.config
        with PeakMemory() as memory:
            start = time.perf_counter()
            wrapped.fit(task.X_train, seed)
            base["fit_seconds"] = time.perf_counter() - start
        base["n_train"] = wrapped.n_train
    except Exception as error:  # a failing peer must not stop the run
        traceback.print_exc()
        return [({**base, "error": f"{type(error).__name__}: {error}"}, None)]
    results = []
    for variant in list(wrapped.variants) or [None]:
        row = {**base, "method": variant or method}
        try:
            with PeakMemory() as scoring_memory:
                start = time.perf_counter()
                scores = np.asarray(wrapped.anomaly_score(task.X_test, variant), dtype=float)
                row["score_rows_per_second"] = len(task.X_test) / (time.perf_counter() - start)
            row["peak_memory_mb"] = max(memory.peak_mb, scoring_memory.peak_mb)
            if not np.all(np.isfinite(scores)):
                raise ValueError(f"{int((~np.isfinite(scores)).sum())} non-finite scores")
            row["roc_auc"] = roc_auc_score(task.y_test, scores)
            row["average_precision"] = average_precision_score(task.y_test, scores)
            row["pr_auc_trapezoid"] = pr_auc_trapezoid(task.y_test, scores)
            row["precision"], row["recall"], row["f1"] = precision_recall_f1_at_percentile(
                task.y_test, scores, task.threshold_percentile
            )
        except Exception as error:
            traceback.print_exc()
            row["error"], scores = f"{type(error).__name__}: {error}", None
        results.append((row, scores))
    return results


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1],
    )  # fmt: skip
    parser.add_argument("--profile", choices=["quick", "full", "paper"], default="quick")
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=None)
    parser.add_argument("--methods", nargs="+", choices=sorted(METHODS), default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=None,
                        help="override the profile's seeds for every data set")  # fmt: skip
    parser.add_argument("--max-tasks", type=int, default=None,
                        help="run only the first N tasks (digits) of each data set")  # fmt: skip
    parser.add_argument("--tasks", nargs="+", type=int, default=None,
                        help="run only these tasks of each data set, by position from 0 "
                        "(digit N of the image sets); with --update, the rows of the other "
                        "tasks are kept, so a long run can be split")  # fmt: skip
    parser.add_argument("--device", default="auto", help="device of the package's methods")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder with kddcup.data_10_percent.gz, arrhythmia.mat, the "
                        "MNIST IDX files and adbench/*.npz (default: $SKLEARN_GANAD_DATA or "
                        "../shared/data; missing files but ADBench's are downloaded)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: benchmarks/results/<profile>)")  # fmt: skip
    parser.add_argument("--defaults", action="store_true",
                        help="run the package's methods with their defaults on every data set "
                        "(no BUDGETS; the AnoGAN-WGAN-GP variant is left out)")  # fmt: skip
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--update", action="store_true",
                        help="add to the output folder's results: keep its rows of the methods, "
                        "data sets, tasks and seeds not run now, replace the others")  # fmt: skip
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run in the output folder: keep the "
                        "(data set, task, method, seed) runs it finished (progress.jsonl) "
                        "and run only the others; rerun with the same arguments until "
                        "complete")  # fmt: skip
    parser.add_argument("--rerun", action="store_true",
                        help="with --resume: run the selected runs again even where "
                        "progress.jsonl holds them (after a change to the package's code or "
                        "defaults, which the recorded settings do not show); the new records "
                        "replace the old, the other runs are kept")  # fmt: skip
    parser.add_argument("--report-only", action="store_true",
                        help="with --resume: run nothing, write the results, summary and "
                        "figures of the finished runs, and list the others as not run "
                        "yet")  # fmt: skip
    parser.add_argument("--compare", type=Path, default=None,
                        help="a results.csv to compare this run with (exit 1 if they differ "
                        "by more than seed noise)")  # fmt: skip
    return parser.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    datasets = args.datasets or DEFAULT_DATASETS[args.profile]
    methods = args.methods or DEFAULT_METHODS
    DEFAULTS_ONLY["enabled"] = args.defaults
    if args.defaults:
        methods = [m for m in methods if m != "AnoGAN-WGAN-GP"]
    if any(m.startswith("PyOD") for m in methods) and not PYOD_AVAILABLE:
        sys.exit("PyOD is not installed: pip install -e '.[bench]' (or drop the PyOD methods).")
    data_dir = args.data_dir or default_data_dir()
    out = args.out or REPO / "benchmarks" / "results" / args.profile
    (out / "figures").mkdir(parents=True, exist_ok=True)

    previous = None
    if args.update:
        previous = _previous_run(out)
    if args.report_only and not args.resume:
        sys.exit("--report-only reports the finished runs of a --resume run: add --resume.")
    if args.rerun and (args.report_only or not args.resume):
        sys.exit("--rerun replaces runs of a --resume run: add --resume, without --report-only.")
    # Read before this sitting rewrites them: the notes of the data sets it leaves out.
    earlier_notes = _earlier_notes(out) if args.resume else {}
    progress = Progress(out, args.profile, args.defaults, resume=args.resume)
    rows, notes, unfinished, selected = [], {}, {}, set()
    for dataset in datasets:
        builder, profile_seeds = DATASETS[dataset]
        try:
            family = builder(args.profile, data_dir)
            tasks = _select_tasks(family, args.max_tasks, args.tasks)
        except OSError as error:
            download = "" if dataset == "adbench" else (
                " or connect to the internet so that the loaders can download them"
            )  # fmt: skip
            sys.exit(
                f"Could not load {dataset} ({type(error).__name__}: {error}). Pass --data-dir "
                f"with the data files (see benchmarks/README.md){download}."
            )
        seeds = args.seeds or profile_seeds[args.profile]
        if previous is not None:
            previous["rows"] = _rows_not_rerun(previous["rows"], dataset, tasks, methods, seeds)
        notes[dataset] = list(dict.fromkeys(n for task in tasks for n in task.notes))
        skipped = SKIPPED[args.profile]
        run_methods = [m for m in methods if (dataset, m) not in skipped]
        notes[dataset] += list(
            dict.fromkeys(
                f"not run: {skipped[(dataset, m)]}" for m in methods if m not in run_methods
            )
        )
        for task_index, task in enumerate(tasks):
            for seed_index, seed in enumerate(seeds):
                plotted = task_index == 0 and seed_index == 0 and not args.no_plots
                for method in run_methods:
                    key = (dataset, task.name, method, seed)
                    selected.add(key)
                    config = method_config(task, method, args.profile, seed, args.device)
                    finished = None if args.rerun else progress.finished(key, config)
                    if finished is not None:
                        rows.extend(finished)
                        print(f"{dataset} {task.name} seed {seed} {method}: done in an "
                              "earlier sitting (progress.jsonl), skipped", flush=True)  # fmt: skip
                        continue
                    if args.report_only:
                        unfinished.setdefault(dataset, ([], len(tasks)))[0].append(
                            (method, seed, task.name)
                        )
                        continue
                    start = time.perf_counter()
                    results = run_one(task, method, args.profile, seed, args.device)
                    for row, scores in results:
                        rows.append(row)
                        elapsed = progress.minutes() * 60 + time.perf_counter() - start
                        print(
                            f"[{elapsed:7.1f}s] {dataset} {task.name} seed "
                            f"{seed} {row['method']}: AUC {row.get('roc_auc', np.nan):.3f} "
                            f"F1 {row.get('f1', np.nan):.3f} fit {row.get('fit_seconds', 0):.1f}s",
                            flush=True,
                        )
                        if scores is not None and plotted:
                            _save_plot_scores(out, dataset, row["method"], scores)
                    progress.record(key, [row for row, _ in results],
                                    time.perf_counter() - start)  # fmt: skip
                    # Saved as it goes; an update keeps the earlier rows in it.
                    kept = previous["rows"] if previous is not None else []
                    pd.DataFrame(kept + rows).to_csv(out / "results.csv", index=False)
                if plotted:
                    names = [
                        row["method"] for row in rows
                        if (row["dataset"], row["task"], row["seed"]) == (dataset, task.name, seed)
                        and row["error"] is None
                    ]  # fmt: skip
                    scores = _load_plot_scores(out, dataset, names)
                    if scores:
                        _report.plot_task(
                            scores, task.y_test[subsample_rows(len(task.y_test), PLOT_ROWS, 0)],
                            task.threshold_percentile,
                            # Name the task wherever the family has several,
                            # even when --max-tasks or --tasks ran one.
                            f"{dataset} {task.name}" if len(family) > 1 else dataset,
                            out / "figures" / dataset,
                        )  # fmt: skip
    # A resumed sitting that ran a narrower selection (one method, one seed)
    # reports the earlier sittings' other runs too, as recorded, so that the
    # results files never shrink to this sitting's rows.
    outside = [] if previous is not None else [
        run for key, run in progress.runs.items() if key not in selected
    ]  # fmt: skip
    if outside:
        rows = _in_recorded_order(rows + [row for run in outside for row in run["rows"]],
                                  progress)  # fmt: skip
        for dataset in dict.fromkeys(run["key"][0] for run in outside):
            notes.setdefault(dataset, earlier_notes.get(dataset, []))
        print(f"{len(outside)} runs of earlier sittings outside this selection are reported as "
              "recorded (progress.jsonl)", flush=True)  # fmt: skip
    for dataset, caps in _train_cap_notes(rows).items():
        notes.setdefault(dataset, []).extend(caps)
    for dataset, (runs, n_tasks) in unfinished.items():
        notes[dataset].append(_unfinished_note(runs, n_tasks))

    elapsed_minutes = progress.minutes()
    command = "python -m benchmarks " + " ".join(
        a for a in argv if a not in ("--resume", "--report-only", "--rerun")
    )
    if outside:
        command += (f" (and {len(outside)} runs of earlier sittings outside that selection, "
                    "from progress.jsonl)")  # fmt: skip
    if previous is not None:
        rows = previous["rows"] + rows
        for dataset, dataset_notes in previous["notes"].items():
            notes[dataset] = list(dict.fromkeys(dataset_notes + notes.get(dataset, [])))
        command = f"{previous['metadata']['command']}; then {command}"
        elapsed_minutes += previous["metadata"]["total_minutes"]
    frame = pd.DataFrame(rows)
    metadata = dict(
        profile=args.profile,
        command=command,
        machine=f"{platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"{'CUDA ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU'}",
        torch=torch.__version__,
        sklearn=sklearn.__version__,
        pyod=_pyod_version(),
        device=args.device,
        total_minutes=elapsed_minutes,
        sittings=progress.sittings(),
        date=time.strftime("%Y-%m-%d"),
    )
    frame.to_csv(out / "results.csv", index=False)
    with open(out / "results.json", "w") as handle:
        json.dump({"metadata": metadata, "notes": notes, "rows": rows}, handle, indent=1,
                  default=float)  # fmt: skip
    report = _report.markdown_report(frame, notes, metadata)
    (out / "summary.md").write_text(report)
    print(report)
    if args.compare is not None:
        ok, comparison = _report.compare(frame, pd.read_csv(args.compare))
        print(f"\nComparison with {args.compare}:\n{comparison}")
        if not ok:
            sys.exit(1)


def _base_method(row_name):
    """The runner's method of a results row (``EGBAD-fm`` -> ``EGBAD``)."""
    return row_name if row_name in METHODS else row_name.rsplit("-", 1)[0]


def _select_tasks(tasks, max_tasks=None, positions=None):
    """The tasks a run covers: the first ``max_tasks``, or those at ``positions``."""
    tasks = tasks[:max_tasks]
    if positions is None:
        return tasks
    wrong = sorted(set(p for p in positions if not 0 <= p < len(tasks)))
    if wrong:
        sys.exit(f"--tasks {wrong}: the data set has tasks 0 to {len(tasks) - 1}.")
    return [tasks[p] for p in sorted(set(positions))]


def _previous_run(out):
    """``out``'s earlier results (rows, notes, metadata) that an update adds to."""
    path = out / "results.json"
    if not path.is_file():
        sys.exit(f"--update needs an earlier run in {out} (no results.json there).")
    with open(path) as handle:
        return json.load(handle)


def _unfinished_note(runs, n_tasks):
    """Name the ``(method, seed, task)`` runs that ``--report-only`` found missing.

    A family of several tasks (MNIST's ten digits) names, per seed, the methods
    that lack the same tasks once, so that two missing seeds of eight methods
    read as two groups rather than 160 names.
    """
    if n_tasks == 1:
        names = ", ".join(f"{method} seed {seed}" for method, seed, _ in runs)
    else:
        tasks = {}
        for method, seed, task in runs:
            tasks.setdefault((method, seed), []).append(task)
        groups = {}
        for (method, seed), missing in tasks.items():
            where = f"all {n_tasks} tasks" if len(missing) == n_tasks else ", ".join(missing)
            groups.setdefault((seed, where), []).append(method)
        ordered = sorted(groups.items(), key=lambda group: group[0][0])
        names = "; ".join(
            f"{', '.join(methods)} seed {seed} ({where})" for (seed, where), methods in ordered
        )
    return f"not run yet ({len(runs)}, the run is unfinished): {names}"


def _earlier_notes(out):
    """The per-data-set notes of ``out``'s results.json, less those a run recomputes."""
    path = out / "results.json"
    if not path.is_file():
        return {}
    with open(path) as handle:
        notes = json.load(handle).get("notes", {})
    recomputed = ("not run yet", "(a cap: its cost grows")
    return {
        dataset: [n for n in dataset_notes if not any(part in n for part in recomputed)]
        for dataset, dataset_notes in notes.items()
    }


def _in_recorded_order(rows, progress):
    """``rows`` in the order their runs were first recorded in ``progress`` (stable)."""
    position = {key: i for i, key in enumerate(progress.runs)}

    def key_of(row):
        return (row["dataset"], row["task"], _base_method(row["method"]), row["seed"])

    return sorted(rows, key=lambda row: position.get(key_of(row), len(position)))


def _rows_not_rerun(rows, dataset, tasks, methods, seeds):
    """Earlier ``rows`` minus those of ``dataset``'s ``tasks``, ``methods`` and ``seeds`` run now.

    The rows of other seeds stay, so that a run with more seeds adds them.
    """
    names = {task.name for task in tasks}
    return [
        row for row in rows
        if not (
            row["dataset"] == dataset and row["task"] in names
            and _base_method(row["method"]) in methods and int(row["seed"]) in seeds
        )
    ]  # fmt: skip


def _train_cap_notes(rows):
    capped = {}
    for row in rows:
        if row.get("n_train", 0) < row.get("n_train_available", 0):
            capped.setdefault(row["dataset"], {})[row["method"]] = (
                row["n_train"],
                row["n_train_available"],
            )
    return {
        dataset: [f"{method} trained on {n:,} of {total:,} rows (a cap: its cost grows faster "
                  "than the number of rows)" for method, (n, total) in methods.items()]
        for dataset, methods in capped.items()
    }  # fmt: skip


def _pyod_version():
    try:
        import pyod

        return pyod.__version__
    except ImportError:
        return "not installed"


if __name__ == "__main__":
    main()
