"""The benchmark runner, run small, and its report and comparison helpers."""

import numpy as np
import pandas as pd
import pytest

from benchmarks import _report
from benchmarks._methods import BUDGETS, family
from benchmarks.run import main
from sklearn_ganad import FAnoGAN


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
    from benchmarks._tasks import DATASETS

    for dataset in DATASETS:
        for profile in ("quick", "paper"):
            for method in BUDGETS[profile]:
                assert family(dataset) in BUDGETS[profile][method]


def test_runner_end_to_end_on_digits(tmp_path, capsys):
    args = ["--datasets", "digits", "--max-tasks", "1", "--seeds", "0", "--methods", "GANomaly",
            "IsolationForest", "--out", str(tmp_path)]  # fmt: skip
    main(args)
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
