"""The benchmark runner, run small, and its report and comparison helpers."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.ensemble import IsolationForest

from benchmarks import _report
from benchmarks._methods import BUDGETS, family
from benchmarks.run import main
from sklearn_ganad import AnoGAN, FAnoGAN


def _rows():
    rows = []
    for seed, shift in [(0, -0.01), (1, 0.01)]:
        for task, auc in (("digit 0", 0.99), ("digit 1", 0.80)):
            rows.append(dict(
                dataset="digits", task=task, method="GANomaly", family="package", seed=seed,
                roc_auc=auc + shift, average_precision=0.5, precision=0.4, recall=0.4, f1=0.4,
                fit_seconds=1.0, score_rows_per_second=100.0, peak_memory_mb=5.0, error=None,
            ))  # fmt: skip
    return pd.DataFrame(rows)


def test_aggregate_averages_tasks_then_spreads_over_seeds():
    summary = _report.aggregate(_rows())
    assert len(summary) == 1
    row = summary.iloc[0]
    # per seed: mean over the two digits, 0.885 and 0.905
    assert row["roc_auc"] == pytest.approx(0.895) and row["roc_auc_std"] == pytest.approx(0.01)
    assert row["n_seeds"] == 2 and row["n_failed"] == 0


def test_aggregate_counts_failed_runs():
    rows = _rows()
    rows.loc[1, ["roc_auc", "error"]] = [np.nan, "RuntimeError: boom"]
    summary = _report.aggregate(rows)
    assert summary.iloc[0]["n_failed"] == 1
    assert "1 runs failed" in _report.dataset_table(summary, "digits")


def test_per_task_tables_show_the_seed_spread_and_egbads_pr_area():
    rows = _rows().assign(pr_auc_trapezoid=[0.6, 0.3, 0.8, 0.5])
    table = _report.per_task_table(rows, "digits")
    assert table.splitlines()[0] == "| method | digit 0 | digit 1 | mean |"
    # seeds 0 and 1: 0.98 and 1.00 on digit 0, 0.79 and 0.81 on digit 1
    assert table.splitlines()[2] == "| GANomaly | 0.990 ± 0.010 | 0.800 ± 0.010 | 0.895 |"
    area = _report.per_task_table(rows, "digits", "pr_auc_trapezoid").splitlines()[2]
    assert area == "| GANomaly | 0.700 ± 0.100 | 0.400 ± 0.100 | 0.550 |"
    # One seed: the mean alone; rows without the metric: no table.
    one_seed = _report.per_task_table(rows[rows["seed"] == 0], "digits").splitlines()[2]
    assert one_seed == "| GANomaly | 0.980 | 0.790 | 0.885 |"
    assert _report.per_task_table(_rows(), "digits", "pr_auc_trapezoid") == ""
    # Nor where the column exists but only another data set's rows (newer) fill it.
    newer = _rows().assign(dataset="arrhythmia", pr_auc_trapezoid=0.5)
    mixed = pd.concat([_rows().assign(pr_auc_trapezoid=np.nan), newer], ignore_index=True)
    assert _report.per_task_table(mixed, "digits", "pr_auc_trapezoid") == ""
    metadata = dict(profile="quick", command="x", machine="m", torch="t", sklearn="s",
                    pyod="p", device="cpu", total_minutes=1.0)  # fmt: skip
    report = _report.markdown_report(rows, {}, metadata)
    assert "ROC AUC per task (± the standard deviation over seeds):" in report
    assert "by the trapezoidal rule as EGBAD's code computes it" in report
    assert "trapezoidal" not in _report.markdown_report(_rows(), {}, metadata)


def test_pr_auc_trapezoid_interpolates_where_average_precision_steps():
    from sklearn.metrics import average_precision_score

    from benchmarks.run import pr_auc_trapezoid

    y, scores = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    # (recall, precision): (1, 1/2), (1, 2/3), (1/2, 1/2), (1/2, 1), (0, 1)
    assert pr_auc_trapezoid(y, scores) == pytest.approx(0.5 * (2 / 3 + 1 / 2) / 2 + 0.5)
    assert average_precision_score(y, scores) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_compare_accepts_seed_noise_and_flags_real_differences():
    reference = _rows()
    ok, report = _report.compare(reference.copy(), reference)
    assert ok and "| yes |" in report
    shifted = reference.copy()
    shifted["f1"] += 0.1
    ok, report = _report.compare(shifted, reference)
    assert not ok and "| f1 | 0.1000 | 0.0200 | NO |" in report
    # The seed noise is per task (0.01 here), not the spread between digits (0.19).
    noisy = reference.copy()
    noisy["roc_auc"] += 0.03
    assert _report.compare(noisy, reference)[0]
    noisy["roc_auc"] += 0.05
    assert not _report.compare(noisy, reference)[0]


def test_compare_flags_new_failures_and_missing_runs():
    reference = _rows()
    failing = reference.copy()
    failing.loc[0, ["roc_auc", "error"]] = [np.nan, "RuntimeError: boom"]
    ok, report = _report.compare(failing, reference)
    assert not ok and "failed now" in report
    ok, report = _report.compare(reference[reference["seed"] == 0], reference)
    assert not ok and "2 reference runs are missing" in report


def test_paper_figures_appear_next_to_our_method():
    rows = _rows().assign(dataset="kddcup99", task="kddcup99", method="IsolationForest",
                          family="peer")  # fmt: skip
    table = _report.dataset_table(_report.aggregate(rows), "kddcup99")
    assert "0.9320 (IsolationForest (defaults, reference run))" in table
    assert "-0.532" in table  # F1 0.4 against 0.932
    assert "*ALAD, as reported*" in table and "*OC-SVM, as reported*" in table
    unscaled = _report.dataset_table(_report.aggregate(rows.assign(dataset="kddcup99-unscaled")),
                                     "kddcup99-unscaled")  # fmt: skip
    assert "reference run" not in unscaled  # that run used scaled features


def test_budget_families_cover_every_data_set():
    from benchmarks._methods import DEFAULT_BUDGET_FAMILIES
    from benchmarks._tasks import DATASETS

    for dataset in DATASETS:
        for profile in ("quick", "paper"):
            for method in BUDGETS[profile]:
                # Families run with the methods' defaults need no entry.
                if family(dataset) not in DEFAULT_BUDGET_FAMILIES:
                    assert family(dataset) in BUDGETS[profile][method]


def test_adbench_runs_every_method_with_its_defaults():
    from benchmarks._methods import budget

    assert family("adbench") == "adbench"
    for method in ("GANomaly", "EGBAD", "ALAD", "AnoGAN", "FAnoGAN"):
        if "adbench" not in BUDGETS["quick"][method]:
            assert budget("quick", method, "adbench") == {}


def test_runner_end_to_end_on_digits(tmp_path, capsys, monkeypatch):
    args = ["--datasets", "digits", "--max-tasks", "1", "--seeds", "0", "--methods", "GANomaly",
            "IsolationForest", "--out", str(tmp_path)]  # fmt: skip
    titles, plot_task = [], _report.plot_task
    monkeypatch.setattr(
        _report, "plot_task", lambda *a, **k: titles.append(a[3]) or plot_task(*a, **k)
    )
    main(args)
    # The figure names its task (digits has ten), though only one ran.
    assert titles == ["digits digit 0"]
    results = pd.read_csv(tmp_path / "results.csv")
    assert list(results["method"]) == ["GANomaly", "IsolationForest"]
    assert results["error"].isna().all()
    assert np.all(results["roc_auc"] > 0.95)
    summary = (tmp_path / "summary.md").read_text()
    assert "## digits" in summary and "| GANomaly | package |" in summary
    assert (tmp_path / "figures" / "digits_roc.png").stat().st_size > 0
    assert (tmp_path / "figures" / "digits_hist.png").stat().st_size > 0
    # A second run reproduces the first exactly (seeded, CPU).
    main([*args, "--out", str(tmp_path / "again"), "--no-plots", "--compare",
          str(tmp_path / "results.csv")])  # fmt: skip
    assert "| digits | GANomaly | roc_auc | 0.0000 |" in capsys.readouterr().out


def test_update_replaces_only_the_methods_run_again(tmp_path):
    base = ["--datasets", "digits", "--max-tasks", "1", "--seeds", "0", "--out", str(tmp_path),
            "--no-plots"]  # fmt: skip
    main([*base, "--methods", "GANomaly", "IsolationForest"])
    first = pd.read_csv(tmp_path / "results.csv")
    main([*base, "--methods", "IsolationForest", "LocalOutlierFactor", "--update"])
    results = pd.read_csv(tmp_path / "results.csv")
    assert list(results["method"]) == ["GANomaly", "IsolationForest", "LocalOutlierFactor"]
    assert results["roc_auc"].iloc[0] == first["roc_auc"].iloc[0]  # kept, not refitted
    summary = (tmp_path / "summary.md").read_text()
    assert "; then python -m benchmarks" in summary and "| LocalOutlierFactor | peer |" in summary


def test_tasks_split_a_run_and_update_keeps_the_other_tasks(tmp_path):
    base = ["--datasets", "digits", "--seeds", "0", "--out", str(tmp_path), "--no-plots",
            "--methods", "IsolationForest", "LocalOutlierFactor"]  # fmt: skip
    main([*base, "--tasks", "0", "1"])
    main([*base, "--tasks", "2", "--update"])
    main([*base, "--tasks", "1", "--methods", "IsolationForest", "--update"])
    results = pd.read_csv(tmp_path / "results.csv")
    runs = list(zip(results["task"], results["method"], strict=True))
    assert sorted(runs) == sorted(
        (f"digit {d}", m) for d in range(3) for m in ("IsolationForest", "LocalOutlierFactor")
    )
    with pytest.raises(SystemExit, match="tasks 0 to 9"):
        main([*base, "--tasks", "10"])


def test_update_with_other_seeds_adds_them(tmp_path):
    base = ["--datasets", "digits", "--max-tasks", "1", "--out", str(tmp_path), "--no-plots",
            "--methods", "IsolationForest"]  # fmt: skip
    main([*base, "--seeds", "0"])
    first = pd.read_csv(tmp_path / "results.csv")
    main([*base, "--seeds", "1", "2", "--update"])
    results = pd.read_csv(tmp_path / "results.csv")
    assert sorted(results["seed"]) == [0, 1, 2]
    assert results.loc[results["seed"] == 0, "roc_auc"].iloc[0] == first["roc_auc"].iloc[0]
    main([*base, "--seeds", "1", "--update"])  # seed 1 replaced, not doubled
    assert sorted(pd.read_csv(tmp_path / "results.csv")["seed"]) == [0, 1, 2]


def _count_runs(monkeypatch):
    """Make ``benchmarks.run.run_one`` record the (method, seed) of each call."""
    from benchmarks import run

    calls, real = [], run.run_one

    def counting(task, method, profile, seed, device):
        calls.append((method, seed))
        return real(task, method, profile, seed, device)

    monkeypatch.setattr(run, "run_one", counting)
    return calls


def test_resume_runs_only_what_an_interrupted_run_left(tmp_path, monkeypatch, capsys):
    args = ["--datasets", "digits", "--tasks", "0", "--seeds", "0", "1", "--methods",
            "IsolationForest", "LocalOutlierFactor", "--out", str(tmp_path)]  # fmt: skip
    main(args)
    complete = pd.read_csv(tmp_path / "results.csv")
    progress = (tmp_path / "progress.jsonl").read_text().splitlines()
    assert len(progress) == 4  # a line per (method, seed) run, written as it finished
    # Interrupted in the third run: two runs on disk, the third cut mid-line.
    (tmp_path / "progress.jsonl").write_text("\n".join(progress[:2] + [progress[2][:40]]))
    (tmp_path / "results.json").unlink()
    calls = _count_runs(monkeypatch)
    # --report-only runs nothing and reports the finished runs, naming the rest.
    main([*args, "--resume", "--report-only", "--no-plots"])
    assert calls == []
    summary = (tmp_path / "summary.md").read_text()
    assert "not run yet (2, the run is unfinished): IsolationForest seed 1, " in summary
    assert len(pd.read_csv(tmp_path / "results.csv")) == 2
    main([*args, "--resume"])
    assert calls == [("IsolationForest", 1), ("LocalOutlierFactor", 1)]
    out = capsys.readouterr().out
    assert out.count("done in an earlier sitting") == 4 and "line 3 is incomplete" in out
    resumed = pd.read_csv(tmp_path / "results.csv")
    assert resumed[["method", "seed"]].equals(complete[["method", "seed"]])  # same order
    np.testing.assert_array_equal(resumed["roc_auc"], complete["roc_auc"])
    summary = (tmp_path / "summary.md").read_text()
    assert "--resume" not in summary and "| LocalOutlierFactor | peer |" in summary
    assert "minutes in all, over 2 sittings." in summary
    import json

    metadata = json.loads((tmp_path / "results.json").read_text())["metadata"]
    assert metadata["sittings"] == 2
    # The figures draw both methods, one of them from the first sitting's scores.
    assert sorted(p.name for p in (tmp_path / "scores" / "digits").iterdir()) == [
        "IsolationForest.npy", "LocalOutlierFactor.npy"
    ]  # fmt: skip
    assert (tmp_path / "figures" / "digits_roc.png").stat().st_size > 0
    # Complete: a further resume runs nothing; a run without --resume starts anew.
    calls.clear()
    main([*args, "--resume", "--no-plots"])
    assert calls == []
    main([*args, "--no-plots", "--methods", "IsolationForest"])
    assert len((tmp_path / "progress.jsonl").read_text().splitlines()) == 2


def test_a_narrower_resumed_sitting_keeps_the_earlier_runs_in_the_report(
    tmp_path, monkeypatch, capsys
):
    import dataclasses
    import json

    from benchmarks import run
    from benchmarks._tasks import digits_tasks

    # A second data set with a note of its own (digits has none).
    def noted(profile, data_dir):
        return [dataclasses.replace(t, dataset="noted", notes=["a data set note"])
                for t in digits_tasks(profile, data_dir)[:1]]  # fmt: skip

    monkeypatch.setitem(run.DATASETS, "noted", (noted, run.DATASETS["digits"][1]))
    base = ["--tasks", "0", "--methods", "IsolationForest", "--out", str(tmp_path),
            "--no-plots", "--resume"]  # fmt: skip
    main([*base, "--datasets", "digits", "noted", "--seeds", "0"])
    first = pd.read_csv(tmp_path / "results.csv")
    # A later sitting runs one more seed of one data set only.
    calls = _count_runs(monkeypatch)
    main([*base, "--datasets", "digits", "--seeds", "1", "--methods", "LocalOutlierFactor"])
    assert calls == [("LocalOutlierFactor", 1)]
    assert "2 runs of earlier sittings outside this selection" in capsys.readouterr().out
    results = pd.read_csv(tmp_path / "results.csv")
    assert list(zip(results["dataset"], results["method"], results["seed"], strict=True)) == [
        ("digits", "IsolationForest", 0), ("noted", "IsolationForest", 0),
        ("digits", "LocalOutlierFactor", 1),
    ]  # fmt: skip
    np.testing.assert_array_equal(results["roc_auc"][:2], first["roc_auc"])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["notes"]["noted"] == ["a data set note"]
    assert "outside that selection, from progress.jsonl" in saved["metadata"]["command"]
    summary = (tmp_path / "summary.md").read_text()
    assert "## noted" in summary and "- a data set note" in summary
    # The whole selection again: nothing runs, nothing is outside it.
    main([*base, "--datasets", "digits", "noted", "--seeds", "0", "1", "--methods",
          "IsolationForest", "LocalOutlierFactor", "--report-only"])  # fmt: skip
    assert calls == [("LocalOutlierFactor", 1)]
    assert "outside" not in json.loads((tmp_path / "results.json").read_text())["metadata"][
        "command"]  # fmt: skip
    assert len(pd.read_csv(tmp_path / "results.csv")) == 3


def test_report_only_groups_the_missing_runs_of_a_family_of_tasks(tmp_path, monkeypatch):
    base = ["--datasets", "digits", "--methods", "IsolationForest", "LocalOutlierFactor",
            "--out", str(tmp_path), "--no-plots", "--resume"]  # fmt: skip
    main([*base, "--tasks", "0", "1", "2", "--seeds", "0"])
    main([*base, "--tasks", "0", "--seeds", "1", "--methods", "IsolationForest"])
    calls = _count_runs(monkeypatch)
    main([*base, "--tasks", "0", "1", "2", "--seeds", "0", "1", "2", "--report-only"])
    assert calls == []
    notes = [n for n in (tmp_path / "summary.md").read_text().splitlines() if "not run yet" in n]
    # 2 + 3 + 6 missing runs, named per seed and per set of missing tasks.
    assert notes == [
        "- not run yet (11, the run is unfinished): LocalOutlierFactor seed 1 (all 3 tasks); "
        "IsolationForest seed 1 (digit 1, digit 2); IsolationForest, LocalOutlierFactor seed 2 "
        "(all 3 tasks)"
    ]


def test_resume_reruns_failed_runs_and_refuses_other_settings(tmp_path, monkeypatch):
    from benchmarks.run import Progress

    progress = Progress(tmp_path, "quick", False, resume=False)
    key = ("digits", "digit 0", "IsolationForest", 0)
    progress.record(key, [{"method": "IsolationForest", "error": "MemoryError: "}], 1.0)
    progress.record(("digits", "digit 0", "OneClassSVM", 0), [{"error": None}], 2.0)
    again = Progress(tmp_path, "quick", False, resume=True)
    assert again.finished(key) is None  # failed: run again
    assert again.finished(("digits", "digit 0", "OneClassSVM", 0)) == [{"error": None}]
    assert again.minutes() == pytest.approx(3.0 / 60)
    with pytest.raises(SystemExit, match="same --profile and --defaults"):
        Progress(tmp_path, "full", False, resume=True)
    with pytest.raises(SystemExit, match="same --profile and --defaults"):
        Progress(tmp_path, "quick", True, resume=True)
    with pytest.raises(SystemExit, match="add --resume"):
        main(["--datasets", "digits", "--report-only", "--out", str(tmp_path)])


def test_resume_reruns_a_run_whose_settings_changed(tmp_path, monkeypatch, capsys):
    from benchmarks import _methods, run

    args = ["--datasets", "digits", "--tasks", "0", "--seeds", "0", "--methods",
            "IsolationForest", "--out", str(tmp_path), "--no-plots"]  # fmt: skip
    main(args)
    first = pd.read_csv(tmp_path / "results.csv")
    assert list(first["config"]) == ["defaults"]
    calls = _count_runs(monkeypatch)
    main([*args, "--resume"])
    assert calls == []  # same settings: skipped
    # The method's settings change between sittings: its recorded run is stale.
    _, family = run.METHODS["IsolationForest"]
    changed = _methods._sklearn(IsolationForest, n_estimators=50)
    monkeypatch.setitem(run.METHODS, "IsolationForest", (changed, family))
    main([*args, "--resume"])
    assert calls == [("IsolationForest", 0)]
    assert "were defaults, now n_estimators=50); run again" in capsys.readouterr().out
    assert list(pd.read_csv(tmp_path / "results.csv")["config"]) == ["n_estimators=50"]


def test_rerun_replaces_the_selected_runs_and_keeps_the_others(tmp_path, monkeypatch, capsys):
    import json

    args = ["--datasets", "digits", "--tasks", "0", "--seeds", "0", "--out", str(tmp_path),
            "--no-plots", "--resume"]  # fmt: skip
    main([*args, "--methods", "IsolationForest", "LocalOutlierFactor"])
    first = pd.read_csv(tmp_path / "results.csv").set_index("method")["roc_auc"]
    from benchmarks import run

    calls, real = [], run.run_one

    def tagged(task, method, profile, seed, device):
        # The rerun's rows carry a mark, so the records kept can be told apart.
        calls.append((method, seed))
        return [({**row, "roc_auc": -1.0}, scores)
                for row, scores in real(task, method, profile, seed, device)]  # fmt: skip

    monkeypatch.setattr(run, "run_one", tagged)
    # Same settings, so --resume alone would skip it: --rerun runs it again.
    main([*args, "--methods", "IsolationForest", "--rerun"])
    assert calls == [("IsolationForest", 0)]
    assert "1 runs of earlier sittings outside this selection" in capsys.readouterr().out
    lines = [json.loads(line) for line in (tmp_path / "progress.jsonl").read_text().splitlines()]
    assert [line["key"][2] for line in lines] == [
        "IsolationForest", "LocalOutlierFactor", "IsolationForest"
    ]  # fmt: skip
    assert lines[2]["rows"][0]["roc_auc"] == -1.0  # appended; replaces the first when read
    for sitting in ("the rerun", "a later resume"):
        results = pd.read_csv(tmp_path / "results.csv").set_index("method")["roc_auc"]
        assert results.to_dict() == {
            "IsolationForest": -1.0, "LocalOutlierFactor": first["LocalOutlierFactor"]
        }, sitting  # fmt: skip
        calls.clear()
        main([*args, "--methods", "IsolationForest", "LocalOutlierFactor"])
        assert calls == []  # nothing left to run: the rerun's record is kept
    for extra in (["--report-only"], []):
        bare = [a for a in args if a != "--resume"] if not extra else args
        with pytest.raises(SystemExit, match="--rerun replaces runs of a --resume run"):
            main([*bare, *extra, "--methods", "IsolationForest", "--rerun"])


def test_full_profile_runs_the_papers_tables_with_cpu_budgets():
    from benchmarks import _tasks
    from benchmarks._methods import SKIPPED, TRAIN_CAPS, budget
    from sklearn_ganad.presets import paper_params

    # MNIST with one digit anomalous: EGBAD's and GANomaly's protocol.
    assert _tasks.DEFAULT_DATASETS["full"] == [
        "kddcup99", "kddcup99-unscaled", "arrhythmia", "mnist-one-anomalous"
    ]  # fmt: skip
    for name in [*_tasks.DEFAULT_DATASETS["full"], "mnist"]:
        assert _tasks.DATASETS[name][1]["full"] == (0, 1, 2)
    for method in ("GANomaly", "EGBAD", "ALAD", "AnoGAN", "FAnoGAN"):
        for dataset in ("kddcup99", "kddcup99-unscaled", "arrhythmia"):
            params = budget("full", method, dataset)
            # The protocols' data as the papers fed it (arrhythmia's min-max
            # scale standardized for the methods measured to gain from it),
            # and a CPU budget, not 1e-5.
            standardized = dataset == "arrhythmia" and method in ("EGBAD", "ALAD", "AnoGAN")
            expected = "standard" if standardized else None
            if (method, dataset) == ("ALAD", "kddcup99-unscaled"):
                expected = "minmax"  # the raw features, scaled by the detector (below)
            if method == "AnoGAN" and dataset.startswith("kddcup99"):
                expected = "standard"  # the detector's defaults for tables (below)
            assert params["preprocessing"] == expected
            if (method, dataset) == ("ALAD", "arrhythmia"):
                continue  # the paper's own budget fits (below)
            assert params["max_epochs"] <= 100 and params.get("lr", 1e-3) >= 1e-4
    # ALAD's arrhythmia budget is the authors' (8,000 steps of 226 rows), standardized.
    paper = paper_params("ALAD", "arrhythmia")
    del paper["score_method"]  # every score is run
    assert budget("full", "ALAD", "arrhythmia") == {
        **paper,
        "preprocessing": "standard",
        "feature_clip": None,
    }
    # Scaled KDDCUP99 lies in [0, 1]: ALAD's generator ends in a sigmoid, and
    # the epoch of lowest held-out "fm" is kept (the authors' criterion).
    scaled_alad = budget("full", "ALAD", "kddcup99")
    assert scaled_alad["output_activation"] == "sigmoid"
    assert scaled_alad["validation_fraction"] == 0.1 and scaled_alad["restore_best_weights"]
    # Unscaled, the same recipe on the raw features, which ALAD min-max scales itself.
    assert budget("full", "ALAD", "kddcup99-unscaled") == {
        **scaled_alad,
        "preprocessing": "minmax",
        "feature_clip": None,
    }
    # AnoGAN: the paper's 500 search steps; the scaled rows standardized and
    # clipped by the detector as its defaults do, with the default linear output.
    anogan = budget("full", "AnoGAN", "kddcup99")
    assert anogan["n_search_iter"] == budget("full", "AnoGAN", "kddcup99-unscaled")[
        "n_search_iter"] == 500  # fmt: skip
    assert anogan["feature_clip"] == AnoGAN().feature_clip == "auto"
    assert "output_activation" not in anogan
    # Unscaled, the same budget on the raw features, which AnoGAN standardizes itself.
    assert budget("full", "AnoGAN", "kddcup99-unscaled") == anogan
    assert budget("full", "GANomaly", "mnist-one-anomalous")["max_epochs"] == 15
    assert budget("full", "EGBAD", "mnist-one-anomalous") == {}  # its defaults
    # AnoGAN's search on f-AnoGAN's WGAN-GP: f-AnoGAN's GAN stage of the full
    # profile, searched and scaled as AnoGAN's budget, the same both ways.
    wgan_gp = budget("full", "AnoGAN-WGAN-GP", "kddcup99")
    assert budget("full", "AnoGAN-WGAN-GP", "kddcup99-unscaled") == wgan_gp
    fanogan = budget("full", "FAnoGAN", "kddcup99")
    assert wgan_gp["gan_loss"] == "wgan-gp" and wgan_gp["ema_decay"] is None
    assert wgan_gp["max_epochs"] == fanogan["max_epochs"] and wgan_gp["lr"] == fanogan["lr"]
    for name in ("n_search_iter", "preprocessing", "feature_clip"):
        assert wgan_gp[name] == anogan[name]
    assert "n_search_candidates" not in wgan_gp  # the default start codes
    assert TRAIN_CAPS["full"]["LocalOutlierFactor"] == 50_000
    # The variant runs on KDDCUP99 only: left out of the others, with a reason.
    added = SKIPPED["full"].keys() - SKIPPED["quick"].keys()
    assert added == {("arrhythmia", "AnoGAN-WGAN-GP"), ("mnist-one-anomalous", "AnoGAN-WGAN-GP")}
    assert all(SKIPPED["full"][key] for key in added)
    assert {k: v for k, v in SKIPPED["full"].items() if k not in added} == SKIPPED["quick"]


def test_full_profile_uses_every_kddcup99_row(monkeypatch):
    from sklearn.utils import Bunch

    from benchmarks import _tasks

    data = Bunch(
        X_train=np.zeros((30_000, 3)), X_test=np.zeros((60_000, 3)),
        y_test=np.zeros(60_000), threshold_percentile=80.0,
    )  # fmt: skip
    monkeypatch.setattr(_tasks, "load_kddcup99_from", lambda data_dir, scale: data)
    (full,) = _tasks.kddcup99_tasks("full", None)
    (quick,) = _tasks.kddcup99_tasks("quick", None)
    assert (len(full.X_train), len(full.X_test)) == (30_000, 60_000)
    assert (len(quick.X_train), len(quick.X_test)) == (20_000, 50_000)


def test_dataset_budgets_override_their_family():
    from benchmarks._methods import budget

    assert budget("quick", "AnoGAN", "kddcup99")["output_activation"] == "sigmoid"
    assert "output_activation" not in budget("quick", "AnoGAN", "kddcup99-unscaled")
    assert budget("quick", "FAnoGAN", "kddcup99-unscaled") == budget("quick", "FAnoGAN", "kddcup99")


def test_search_benchmark_times_the_same_search(monkeypatch):
    from benchmarks import bench_search

    monkeypatch.setattr(bench_search, "_pyod_rows_per_second", lambda *args: 1.0)
    result = bench_search.measure("small", n_rows=32, loop_rows=2, steps=3, repeats=1)
    assert result["batched_rows_per_s"] > 0 and result["per_sample_rows_per_s"] > 0
    # The loop runs the batched search's computation row by row.
    assert result["max_score_difference_batched_vs_loop"] < 1e-4
    # Linear layers of one search step on a row: G 2-20-10-10 and D's trunk
    # 10-20-10-5, each run forward and backward to its input.
    macs = 2 * 20 + 20 * 10 + 10 * 10 + 10 * 20 + 20 * 10 + 10 * 5
    assert result["search_flop_per_row_and_step"] == 2 * 2 * macs
    assert result["matmul_floor_rows_per_s"] > 0
    floor = result["matmul_floor_rows_per_s"]
    assert result["share_of_floor"] == result["batched_rows_per_s"] / floor


@pytest.mark.parametrize("profile", ["quick", "paper"])
@pytest.mark.parametrize("dataset", ["kddcup99", "arrhythmia", "mnist", "digits"])
def test_anogan_wgan_gp_budget_is_fanogans_gan_with_anogans_search(profile, dataset):
    from benchmarks._methods import budget

    variant = budget(profile, "AnoGAN-WGAN-GP", dataset)
    fanogan = budget(profile, "FAnoGAN", dataset)
    assert variant["gan_loss"] == "wgan-gp" and variant["ema_decay"] is None
    for name, value in fanogan.items():
        if not name.startswith("encoder_"):
            assert variant[name] == value
    assert not any(name.startswith("encoder_") for name in variant)
    steps = budget(profile, "AnoGAN", dataset).get("n_search_iter", 500)
    assert variant["n_search_iter"] == steps
    # f-AnoGAN's defaults where its budget is silent, so both GANs train alike.
    defaults = FAnoGAN().get_params()
    for name in ("lr", "batch_size", "betas", "negative_slope"):
        assert variant[name] == fanogan.get(name, defaults[name])


@pytest.mark.parametrize("profile", ["quick", "paper"])
def test_the_adbench_suite_runs_every_method_with_its_defaults(profile):
    from benchmarks._methods import BUDGETS, SKIPPED, budget

    for method in ("GANomaly", "EGBAD", "ALAD", "AnoGAN", "FAnoGAN"):
        assert budget(profile, method, "adbench") == {}
    # The hand-budgeted variant is not a detector's defaults: left out.
    assert ("adbench", "AnoGAN-WGAN-GP") in SKIPPED[profile]
    assert "adbench" not in BUDGETS[profile]["AnoGAN-WGAN-GP"]


def test_paper_profile_budgets_are_the_presets():
    from benchmarks._methods import budget
    from sklearn_ganad.presets import paper_params

    for method in ("GANomaly", "EGBAD", "ALAD", "AnoGAN", "FAnoGAN"):
        for dataset in ("kddcup99", "kddcup99-unscaled", "arrhythmia", "mnist", "digits"):
            assert budget("paper", method, dataset) == paper_params(method, dataset)


def test_quick_budgets_feed_the_protocols_scaled_data_unchanged():
    from benchmarks._methods import BUDGETS

    for method, budgets in BUDGETS["quick"].items():
        for params in budgets.values():
            assert params["preprocessing"] is None, method


# -- the adbench family: suite aggregates, tasks, peers and figures ---------------------


def _suite_rows():
    """Three methods on four tables; IsolationForest is the reference."""
    auc = {
        "IsolationForest": [0.90, 0.80, 0.75, 0.60],
        "GANomaly": [0.95, 0.80, 0.40, 0.70],
        "LocalOutlierFactor": [0.85, 0.90, 0.75, np.nan],  # failed on table d
    }
    rows = []
    for method, values in auc.items():
        for task, value in zip("abcd", values, strict=True):
            for seed, shift in ((0, -0.01), (1, 0.01)):  # seeds average to the value
                failed = np.isnan(value)
                rows.append(dict(
                    dataset="adbench", task=task, method=method, seed=seed,
                    family="package" if method == "GANomaly" else "peer",
                    roc_auc=np.nan if failed else value + shift,
                    average_precision=np.nan if failed else value / 2,
                    fit_seconds=np.nan if failed else {"GANomaly": 10.0}.get(method, 1.0 + seed),
                    n_train_available=100, n_test=50,
                    error="RuntimeError: boom" if failed else None,
                ))  # fmt: skip
    return pd.DataFrame(rows)


def test_suite_summary_ranks_wins_and_means():
    summary = _report.suite_summary(_suite_rows())
    assert list(summary.index) == ["GANomaly", "IsolationForest", "LocalOutlierFactor"]
    ganomaly, forest, lof = (summary.loc[m] for m in summary.index)
    # Ranks per table: a: G 1, IF 2, LOF 3; b: LOF 1, G and IF 2.5; c: IF and LOF 1.5,
    # G 3; d: G 1, IF 2, LOF 3 (it failed there: last).
    assert ganomaly["mean_rank"] == pytest.approx((1 + 2.5 + 3 + 1) / 4)
    assert forest["mean_rank"] == pytest.approx((2 + 2.5 + 1.5 + 2) / 4)
    assert lof["mean_rank"] == pytest.approx((3 + 1 + 1.5 + 3) / 4)
    assert ganomaly["roc_auc_mean"] == pytest.approx((0.95 + 0.80 + 0.40 + 0.70) / 4)
    assert ganomaly["roc_auc_median"] == pytest.approx(0.75)
    assert ganomaly["ap_mean"] == pytest.approx((0.95 + 0.80 + 0.40 + 0.70) / 8)
    assert lof["roc_auc_mean"] == pytest.approx((0.85 + 0.90 + 0.75) / 3)
    assert (ganomaly["wins"], ganomaly["ties"], ganomaly["losses"]) == (2, 1, 1)
    assert (lof["wins"], lof["ties"], lof["losses"]) == (1, 1, 1)
    assert np.isnan(forest["wins"]) and np.isnan(forest["failures"])
    # Below 0.5 where IsolationForest is above 0.7: GANomaly on table c.
    assert ganomaly["failures"] == 1 and lof["failures"] == 0
    assert ganomaly["fit_seconds"] == 10.0 and forest["fit_seconds"] == 1.5
    assert lof["n_tasks"] == 3 and lof["n_failed"] == 2 and ganomaly["n_failed"] == 0
    assert ganomaly["family"] == "package" and forest["family"] == "peer"
    # Without the reference the comparisons are left empty.
    alone = _report.suite_summary(_suite_rows(), reference="OneClassSVM")
    assert alone["wins"].isna().all()


def test_suite_report_tables():
    rows = _suite_rows()
    table = _report.suite_summary_table(rows)
    assert "| GANomaly | package | 4 of 4 |" in table.splitlines()[2]
    assert "| 0.750 | 0.356 | 0.375 | 1.88 | 2 / 1 / 1 | 1 | 10.0 |" in table
    assert "| IsolationForest | peer | 4 of 4 |" in table and "| — | — |" in table
    assert "3 of 4 (2 runs failed)" in table
    per_table = _report.suite_metric_table(rows, "roc_auc", ["GANomaly", "IsolationForest"])
    lines = per_table.splitlines()
    assert lines[0] == "| table | train / test rows | GANomaly | IsolationForest |"
    assert lines[2] == "| a | 100 / 50 | **0.950** | 0.900 |"
    assert lines[3] == "| b | 100 / 50 | **0.800** | **0.800** |"
    report = _report.markdown_report(
        rows.assign(precision=0.5, recall=0.5, f1=0.5, score_rows_per_second=1.0,
                    peak_memory_mb=1.0),
        {"adbench": ["a note"]},
        dict(profile="quick", command="x", machine="m", torch="t", sklearn="s", pyod="p",
             device="cpu", total_minutes=1.0),
    )  # fmt: skip
    assert "Over the 4 tables" in report and "Average precision per table" in report
    assert "ROC AUC per task:" not in report  # the per-table tables replace it


@pytest.mark.parametrize("n", [1, 2, 10, 12, 20, 21, 24])
def test_curve_styles_are_distinct(n):
    styles = _report.curve_styles(n)
    assert len(styles) == n
    pairs = {(style["color"], style["linestyle"]) for style in styles}
    assert len(pairs) == n
    # Up to 20 curves every colour differs too (12 curves used to share 10 colours).
    if n <= 20:
        assert len({style["color"] for style in styles}) == n


@pytest.fixture
def adbench_data(tmp_path):
    """A data folder with two small ADBench-like tables on very different scales."""
    rng = np.random.RandomState(0)
    folder = tmp_path / "adbench"
    folder.mkdir()
    for number, name, n in ((1, "tiny", 150), (2, "Wide", 400)):
        normal = rng.normal(size=(n, 3)) * [1.0, 1000.0, 0.001]
        anomalies = rng.normal(size=(n // 10, 3)) * [1.0, 1000.0, 0.001] + [4.0, 0.0, 0.0]
        X = np.vstack([normal, anomalies])
        y = np.r_[np.zeros(n), np.ones(n // 10)].astype(int)
        np.savez(folder / f"{number}_{name}.npz", X=X, y=y)
    return tmp_path


def test_adbench_tasks(adbench_data, monkeypatch):
    from benchmarks import _tasks

    tasks = _tasks.adbench_tasks("quick", adbench_data)
    assert [task.name for task in tasks] == ["tiny", "Wide"]
    assert all(task.dataset == "adbench" and task.kind == "table" for task in tasks)
    assert all(not task.scaled for task in tasks)
    assert len(tasks[0].X_train) == 90 and tasks[0].y_test.sum() == 15
    assert not any("capped" in note for note in tasks[1].notes)
    monkeypatch.setitem(_tasks.ADBENCH_MAX_ROWS, "quick", 200)
    capped = _tasks.adbench_tasks("quick", adbench_data)[1]
    assert "quick: Wide capped at 200 of 440 rows (stratified by the label, seed 0)" in (
        capped.notes
    )
    assert len(capped.X_train) + len(capped.X_test) == 200
    with pytest.raises(FileNotFoundError, match="adbench"):
        _tasks.adbench_tasks("quick", adbench_data / "nowhere")
    with pytest.raises(FileNotFoundError, match="no data folder"):
        _tasks.adbench_tasks("quick", None)
    # The existing families keep their flags.
    assert _tasks.DATASETS["adbench"][1] == {"quick": (0,), "paper": (0, 1, 2), "full": (0, 1, 2)}
    assert all("adbench" not in names for names in _tasks.DEFAULT_DATASETS.values())


def test_peers_scale_raw_tables_only(adbench_data):
    from sklearn.pipeline import Pipeline

    from benchmarks._methods import METHODS
    from benchmarks._tasks import adbench_tasks

    task = adbench_tasks("quick", adbench_data)[0]
    for method in ("LocalOutlierFactor", "OneClassSVM"):
        wrapped = METHODS[method][0](task, "quick", 0, "cpu")
        assert isinstance(wrapped.detector, Pipeline)
        assert wrapped.config.startswith("StandardScaler, then")
    forest = METHODS["IsolationForest"][0](task, "quick", 0, "cpu")
    assert not isinstance(forest.detector, Pipeline)
    # Scaled tables, and kddcup99-unscaled (its peers see the raw features), keep them bare.
    for flags in (dict(scaled=True), dict(scaled=False, raw_for_peers=True)):
        other = task.__class__(**{**task.__dict__, **flags})
        assert not isinstance(METHODS["LocalOutlierFactor"][0](other, "quick", 0, "cpu").detector,
                              Pipeline)  # fmt: skip
    # The scaler is what makes LOF work across columns a million times apart.
    wrapped = METHODS["LocalOutlierFactor"][0](task, "quick", 0, "cpu").fit(task.X_train, 0)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(task.y_test, wrapped.anomaly_score(task.X_test)) > 0.9


def test_runner_on_adbench(adbench_data, tmp_path):
    out = tmp_path / "out"
    main(["--datasets", "adbench", "--methods", "IsolationForest", "LocalOutlierFactor",
          "--data-dir", str(adbench_data), "--out", str(out)])  # fmt: skip
    results = pd.read_csv(out / "results.csv")
    assert results["error"].isna().all() and len(results) == 4
    assert set(results["task"]) == {"tiny", "Wide"}
    summary = (out / "summary.md").read_text()
    assert "## adbench" in summary and "Over the 2 tables" in summary
    assert "| table | train / test rows | " in summary
    assert "wins / ties / losses vs IsolationForest" in summary
    assert (out / "figures" / "adbench_roc.png").stat().st_size > 0


def test_runner_explains_a_missing_adbench_folder(tmp_path):
    with pytest.raises(SystemExit, match="adbench"):
        main(["--datasets", "adbench", "--methods", "IsolationForest", "--data-dir",
              str(tmp_path), "--out", str(tmp_path / "out"), "--no-plots"])  # fmt: skip


def test_defaults_kddcup99_runs_a_detector_as_a_user_would(monkeypatch):
    from sklearn.utils import Bunch

    from benchmarks import defaults_kddcup99

    rng = np.random.RandomState(0)
    data = Bunch(
        X_train=rng.normal(size=(300, 4)),
        X_test=np.vstack([rng.normal(size=(80, 4)), rng.normal(6.0, 1.0, size=(20, 4))]),
        y_test=np.r_[np.zeros(80), np.ones(20)],
        threshold_percentile=80.0,
    )
    monkeypatch.setitem(defaults_kddcup99.SETTINGS, "tiny", (200, {"max_epochs": 2}))
    result = defaults_kddcup99.run("GANomaly", "tiny", data, seed=0, test_rows=None)
    assert (result["n_train"], result["n_test"], result["max_epochs_"]) == (200, 100, 2)
    assert result["lr_"] == 2e-4 and 0.0 <= result["roc_auc"] <= 1.0
    forest = defaults_kddcup99.run("IsolationForest", "tiny", data, seed=0, test_rows=50)
    assert forest["n_test"] == 50 and forest["roc_auc"] > 0.9


def test_defaults_flag_runs_the_package_methods_without_budgets(monkeypatch):
    from benchmarks._methods import DEFAULTS_ONLY, METHODS
    from benchmarks._tasks import Task

    rng = np.random.RandomState(0)
    task = Task("kddcup99", "kddcup99", rng.rand(20, 3), rng.rand(10, 3), np.r_[[0] * 8, 1, 1],
                80.0, "table")  # fmt: skip
    budgeted = METHODS["EGBAD"][0](task, "quick", 0, "cpu").detector.get_params()
    assert budgeted["max_epochs"] == 20 and budgeted["preprocessing"] is None
    monkeypatch.setitem(DEFAULTS_ONLY, "enabled", True)
    wrapped = METHODS["EGBAD"][0](task, "quick", 0, "cpu")
    params = wrapped.detector.get_params()
    assert (params["max_epochs"], params["lr"], params["preprocessing"]) == ("auto",) * 3
    assert wrapped.config == "defaults"
    with pytest.raises(ValueError, match="budgeted variant"):
        METHODS["AnoGAN-WGAN-GP"][0](task, "quick", 0, "cpu")


def test_fit_time_prints_one_line_per_method(capsys, monkeypatch):
    from benchmarks import fit_time
    from sklearn_ganad import GANomaly

    monkeypatch.setitem(fit_time.DETECTORS, "GANomaly", lambda **kw: GANomaly(max_epochs=1, **kw))
    fit_time.main(["--rows", "50", "--features", "3", "--methods", "GANomaly"])
    line = capsys.readouterr().out.strip()
    assert line.startswith("GANomaly: fit") and "50 x 3 (1 epochs, about 1 steps" in line


def test_partial_fit_benchmark_trains_both_ways_and_summarizes():
    from argparse import Namespace

    from benchmarks import bench_partial_fit

    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    results = []
    for mode in ("fit", "chunks"):
        detector, seconds = bench_partial_fit.train(
            "GANomaly", mode, X, seed=0, passes=2, n_chunks=4
        )
        # Both see every row twice: 2 epochs, or 2 passes of 4 calls.
        assert len(detector.net_.history) == (2 if mode == "fit" else 8)
        assert detector.n_samples_seen_ == (200 if mode == "fit" else 400)
        results.append(dict(method="GANomaly", mode=mode, roc_auc=0.9, f1=0.5, seconds=seconds))
    args = Namespace(argv=["--passes", "2"], train_rows=200, test_rows=100, passes=2, chunks=4,
                     seeds=[0])  # fmt: skip
    summary = bench_partial_fit.summarize(results, ["GANomaly"], args)
    assert "| GANomaly | 0.900 ± 0.000 | 0.900 ± 0.000 | +0.000 |" in summary
    assert "chunks of 1/4 of the rows" in summary


def test_csv_scoring_benchmark_scores_every_row(tmp_path, capsys):
    from benchmarks import bench_score_csv

    bench_score_csv.main(
        ["--gigabytes", "0.002", "--block-rows", "500", "--chunksize", "700", "--threads", "1",
         "--workdir", str(tmp_path)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "x 121 in" in out and "scored 2,500 of 2,500 rows" in out
    assert "peak allocated memory (RssAnon)" in out


def test_bench_gpu_runs_on_the_cpu_and_says_so(capsys):
    from benchmarks import bench_gpu

    args = ["--device", "cpu", "--n-samples", "256", "--methods", "GANomaly",
            "--batch-sizes", "64", "--precisions", "32", "--processes", "0"]  # fmt: skip
    rows = bench_gpu.main(args)
    assert len(rows) == 1 and rows[0]["batch_size"] == 64
    assert all(rows[0][key] > 0 for key in rows[0] if key.endswith("rows_per_second"))
    out = capsys.readouterr().out
    assert "| GANomaly | 32 | 64 |" in out
    if not torch.cuda.is_available():
        assert "No GPU found" in out


def test_bench_onnx_scores_both_ways(capsys):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from benchmarks import bench_onnx

    results = bench_onnx.main(["--methods", "GANomaly", "--rows", "3000", "--features", "12"])
    figures = results["GANomaly"]
    assert figures["onnxruntime_rows_per_second"] > 0 and figures["speedup"] > 0
    assert figures["max_relative_difference"] < 1e-5
    assert "GANomaly  score_samples" in capsys.readouterr().out


def test_bench_explain_corrupts_what_it_says():
    from benchmarks import bench_explain

    train, test, columns = bench_explain.corrupted_table(shift=6.0)
    original = bench_explain.corrupted_table(shift=0.0)[1]
    changed = test != original
    # Exactly one column per test row, the one named, by 6 training sd.
    assert np.array_equal(changed.sum(axis=1), np.ones(len(test)))
    assert np.array_equal(changed.argmax(axis=1), columns)
    shifts = np.abs(test - original)[np.arange(len(test)), columns]
    np.testing.assert_allclose(shifts, 6.0 * train.std(axis=0)[columns], rtol=1e-4)
    train, images, masks = bench_explain.patched_digits()
    assert masks.sum(axis=(1, 2)).tolist() == [9] * len(images)
    assert np.all(images[:, 0][masks] == 1.0)


def test_coupled_variants_train_three_gans_with_the_budget_or_the_defaults(monkeypatch):
    from benchmarks._methods import DEFAULT_METHODS, DEFAULTS_ONLY, METHODS
    from benchmarks._tasks import Task

    rng = np.random.RandomState(0)
    task = Task("kddcup99", "kddcup99", rng.rand(20, 3), rng.rand(10, 3), np.r_[[0] * 8, 1, 1],
                80.0, "table")  # fmt: skip
    assert "GANomaly-c3" not in DEFAULT_METHODS  # opt-in: three GANs' cost
    budgeted = METHODS["GANomaly-c3"][0](task, "quick", 0, "cpu")
    params = budgeted.detector.get_params()
    assert params["ensemble_size"] == 3 and params["max_epochs"] != "auto"
    assert "ensemble_size=3" in budgeted.config
    monkeypatch.setitem(DEFAULTS_ONLY, "enabled", True)
    wrapped = METHODS["EGBAD-c3"][0](task, "quick", 0, "cpu")
    params = wrapped.detector.get_params()
    assert (params["ensemble_size"], params["max_epochs"], params["lr"]) == (3, "auto", "auto")
    assert wrapped.config == "ensemble_size=3"


def _toy_table_task(seed, *, n_train, n_features, shift):
    """A KDDCUP99-shaped task: normal rows, and 20 of 100 test rows shifted by ``shift``."""
    from benchmarks._tasks import Task

    rng = np.random.RandomState(seed)
    X_test = np.vstack([
        rng.normal(size=(80, n_features)), rng.normal(shift, 1.0, size=(20, n_features))
    ])  # fmt: skip
    X_train = rng.normal(size=(n_train, n_features))
    return Task(
        "kddcup99", "kddcup99", X_train, X_test, np.r_[np.zeros(80), np.ones(20)], 80.0, "table"
    )


@pytest.mark.parametrize("method", ["EGBAD", "ALAD"])
def test_epoch_trace_scores_every_epoch_as_fit_would(method):
    from skorch.callbacks import Callback

    from benchmarks._methods import use_score
    from benchmarks.epoch_trace import METHODS, epoch_scores, trace

    task = _toy_table_task(0, n_train=400, n_features=5, shift=4.0)

    class CountEpochs(Callback):
        def initialize(self):
            self.epochs_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs_ += 1

    detector = METHODS[method](
        max_epochs=3, batch_size=32, ema_decay=0.9, validation_fraction=0.2,
        restore_best_weights=True, random_state=0, callbacks=[("count", CountEpochs())],
    )  # fmt: skip
    records, final = trace(detector, task, ("fm", "ce_real"))
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert all(0.0 <= r[name] <= 1.0 for r in records for name in ("fm", "ce_real"))
    # The epoch fit keeps is the one of lowest valid_loss, and the trace scored it as fit does.
    kept = min(records, key=lambda r: r["valid_loss"])
    assert final == {name: kept[name] for name in ("fm", "ce_real")}
    detector.set_params(score_method="fm")
    use_score(detector, detector.net_.module_, "fm")
    traced = epoch_scores(detector, detector.net_.module_, task.X_test, ["fm"])["fm"]
    np.testing.assert_allclose(traced, -detector.score_samples(task.X_test), rtol=1e-4, atol=1e-5)
    # The callbacks the detector had still run, beside the trace.
    assert [name for name, _ in detector.callbacks] == ["count", "epoch_trace"]
    assert dict(detector.net_.callbacks_)["count"].epochs_ == 3


def _epoch_trace_lines(monkeypatch, capsys, task, args):
    """The JSON lines ``epoch_trace`` prints for ``args`` on ``task`` (quick
    profile, no weight average, nothing held out unless ``args`` say so)."""
    import json

    from benchmarks import epoch_trace

    monkeypatch.setattr(epoch_trace, "kddcup99_tasks", lambda profile, data_dir, scale: [task])
    defaults = ["--profile", "quick", "--ema-decay", "none", "--validation-fraction", "0"]
    epoch_trace.main([*defaults, *args])
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_epoch_trace_command_prints_each_epoch_and_the_last_kept(monkeypatch, capsys):
    task = _toy_table_task(1, n_train=300, n_features=4, shift=5.0)
    header, *epochs, summary = _epoch_trace_lines(monkeypatch, capsys, task, [
        "--method", "ALAD", "--epochs", "2", "--preprocessing", "standard",
    ])  # fmt: skip
    assert header["params"]["max_epochs"] == 2 and header["params"]["ema_decay"] is None
    assert header["params"]["preprocessing"] == "standard"
    assert header["params"]["feature_clip"] is None
    assert header["params"]["validation_fraction"] is None
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all("valid_loss" not in e for e in epochs)  # nothing held out
    # Without held-out rows fit keeps the last epoch; the best is over all of them.
    variants = ("fm", "l1", "l2", "logits", "ce_real")
    assert summary["after_fit"] == {v: epochs[-1][v] for v in variants}
    assert summary["best_epoch"] == {v: max(e[v] for e in epochs) for v in variants}


def test_epoch_trace_feature_clip_reaches_the_detector(monkeypatch, capsys):
    from benchmarks import epoch_trace

    task = _toy_table_task(1, n_train=300, n_features=4, shift=5.0)
    fitted = {}
    trace = epoch_trace.trace

    def keep_detector(detector, task, score_methods, out=None):
        fitted["detector"] = detector
        return trace(detector, task, score_methods, out)

    monkeypatch.setattr(epoch_trace, "trace", keep_detector)
    args = ["--method", "EGBAD", "--epochs", "1", "--preprocessing", "standard"]
    for clip, bound in (("none", None), ("auto", 10.0), ("0.5", 0.5)):
        header, *_ = _epoch_trace_lines(monkeypatch, capsys, task, [*args, "--feature-clip", clip])
        assert header["params"]["preprocessing"] == "standard"
        assert header["params"]["feature_clip"] == {"none": None, "auto": "auto"}.get(clip, 0.5)
        detector = fitted.pop("detector")
        assert detector.feature_clip_ == bound
        # The rows the trace scores (epoch_scores validates them this way):
        # standardized, then clipped.
        X_seen = detector._validate_X(task.X_test, reset=False)
        assert bool(np.abs(X_seen).max() <= 0.5) is (clip == "0.5")
    for bad in ("0", "-1", "wide"):
        with pytest.raises(SystemExit):
            epoch_trace.main(["--feature-clip", bad])
        assert "'auto', 'none' or a positive number" in capsys.readouterr().err


def test_epoch_trace_reconstruction_weight_reaches_egbad_and_scores_by_one_term(
    monkeypatch, capsys
):
    from benchmarks import epoch_trace
    from sklearn_ganad import EGBAD

    task = _toy_table_task(1, n_train=300, n_features=4, shift=1.0)
    header, epoch, _ = _epoch_trace_lines(monkeypatch, capsys, task, [
        "--method", "EGBAD", "--epochs", "1", "--reconstruction-weight", "1",
    ])  # fmt: skip
    assert header["params"]["reconstruction_weight"] == 1.0 and epoch["epoch"] == 1
    with pytest.raises(SystemExit):
        epoch_trace.main(["--method", "ALAD", "--reconstruction-weight", "1"])
    assert "--reconstruction-weight is EGBAD's" in capsys.readouterr().err

    # What the trace scores with: weight 1 leaves the residual alone in every
    # score; the default weighs in the discriminator's term, which differs by score.
    variants = ("fm", "ce", "ce_real")
    for weight, same in ((1.0, True), ("auto", False)):
        detector = EGBAD(max_epochs=1, reconstruction_weight=weight, random_state=0)
        detector.fit(task.X_train)
        scores = epoch_trace.epoch_scores(detector, detector.net_.module_, task.X_test, variants)
        assert np.allclose(scores["fm"], scores["ce"]) is same
        assert np.allclose(scores["fm"], scores["ce_real"]) is same


def test_anogan_coverage_measures_on_the_scale_the_networks_see(monkeypatch, capsys):
    from benchmarks import anogan_coverage

    task = _toy_table_task(0, n_train=300, n_features=4, shift=4.0)
    task.X_train[:] = task.X_train * 50.0 + 1_000.0  # far from the standardized scale
    task.X_test[:] = task.X_test * 50.0 + 1_000.0
    monkeypatch.setattr(anogan_coverage, "kddcup99_tasks", lambda profile, data_dir, scale: [task])
    medians = {}
    for preprocessing in ("none", "standard"):
        anogan_coverage.main([
            "--preprocessing", preprocessing, "--output-activation", "linear", "--epochs", "1",
            "--search-steps", "2",
        ])  # fmt: skip
        out = capsys.readouterr().out
        assert f"'preprocessing': {None if preprocessing == 'none' else repr(preprocessing)}" in out
        assert "search steps   2: ROC AUC" in out
        line = next(t for t in out.splitlines() if t.startswith("distance from a training row"))
        medians[preprocessing] = float(line.split("median ")[1].split(",")[0])
    # Standardized, the rows and the generated ones are on one scale: units, not
    # the raw thousand a generator of one epoch cannot reach.
    assert medians["standard"] < 10 < medians["none"]
    # --ema-decay reaches the detector: 'none' scores with the last weights.
    anogan_coverage.main([
        "--epochs", "1", "--search-steps", "2", "--output-activation", "linear",
        "--ema-decay", "none",
    ])  # fmt: skip
    assert "'ema_decay': None" in capsys.readouterr().out
    # --profile full: the full profile's rows and budget, and every test row
    # (more than the quick profile's 10,000); no search over the training rows.
    large = dataclasses.replace(
        task, X_test=np.tile(task.X_test, (101, 1)), y_test=np.tile(task.y_test, 101)
    )
    profiles, searched_at_fit = [], []

    class Recorded(AnoGAN):
        def fit(self, X, y=None):
            searched_at_fit.append(self.n_search_iter)
            return super().fit(X, y)

    monkeypatch.setattr(anogan_coverage, "AnoGAN", Recorded)
    monkeypatch.setattr(
        anogan_coverage,
        "kddcup99_tasks",
        lambda profile, data_dir, scale: profiles.append(profile) or [large],
    )
    anogan_coverage.main([
        "--profile", "full", "--method", "AnoGAN-WGAN-GP", "--search-steps", "2",
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert profiles == ["full"] and "test rows: 10,100" in out and searched_at_fit == [0]
    assert "'gan_loss': 'wgan-gp'" in out and "'feature_clip': 'auto'" in out
    assert "'lr': 0.0005" in out and "search steps   2: ROC AUC" in out


def test_cosine_schedule_counts_the_batches_a_table_fit_trains():
    from benchmarks._methods import cosine_schedule
    from sklearn_ganad import EGBAD

    def steps(detector, n_rows):
        return cosine_schedule(detector, n_rows).kwargs["T_max"]

    # 10% held out: 1,001 - ceil(100.1) = 900 rows, 18 batches of 50, 2 epochs.
    assert steps(EGBAD(max_epochs=2, validation_fraction=0.1), 1_001) == 36
    # Nothing held out: 1,001 rows are 20 batches, the last row joining the 20th.
    assert steps(EGBAD(max_epochs=2, validation_fraction=None), 1_001) == 40
    # EGBAD's "auto" holds 10% out on the full KDDCUP99; AnoGAN's holds none.
    assert steps(EGBAD(max_epochs=2), 198_361) == 2 * 3_571
    assert steps(AnoGAN(max_epochs=1), 198_361) == 3_968
    with pytest.raises(ValueError, match="needs max_epochs set"):
        cosine_schedule(EGBAD(), 1_001)
    # Fitted with it, every player's rate ends at the schedule's 0.
    X = np.random.RandomState(0).normal(size=(1_001, 4)).astype(np.float32)
    detector = EGBAD(max_epochs=2, validation_fraction=None, random_state=0)
    detector.set_params(callbacks=[("lr_schedule", cosine_schedule(detector, len(X)))])
    net = detector.fit(X).net_
    for name in net._optimizers:
        assert getattr(net, name + "_").param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_ema_decay_arg_reads_a_decay_or_none():
    import argparse

    from benchmarks._methods import ema_decay_arg

    assert ema_decay_arg("None") is None and ema_decay_arg("0.999") == 0.999
    for bad in ("1", "-0.1"):
        with pytest.raises(argparse.ArgumentTypeError, match="must lie in"):
            ema_decay_arg(bad)
    with pytest.raises(ValueError):
        ema_decay_arg("fast")
