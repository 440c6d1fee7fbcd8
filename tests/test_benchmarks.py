"""The benchmark runner, run small, and its report and comparison helpers."""

import numpy as np
import pandas as pd
import pytest

from benchmarks import _report
from benchmarks._methods import BUDGETS, family
from benchmarks.run import main


def _rows():
    rows = []
    for seed, auc in [(0, 0.90), (1, 0.94)]:
        for task in ("digit 0", "digit 1"):
            rows.append(dict(
                dataset="digits", task=task, method="GANomaly", family="package", seed=seed,
                roc_auc=auc, average_precision=0.5, precision=0.4, recall=0.4, f1=0.4,
                fit_seconds=1.0, score_rows_per_second=100.0, peak_memory_mb=5.0, error=None,
            ))  # fmt: skip
    return pd.DataFrame(rows)


def test_aggregate_averages_tasks_then_spreads_over_seeds():
    summary = _report.aggregate(_rows())
    assert len(summary) == 1
    row = summary.iloc[0]
    assert row["roc_auc"] == pytest.approx(0.92) and row["roc_auc_std"] == pytest.approx(0.02)
    assert row["n_seeds"] == 2


def test_compare_accepts_seed_noise_and_flags_real_differences():
    reference = _rows()
    ok, report = _report.compare(reference.copy(), reference)
    assert ok and "| yes |" in report
    shifted = reference.copy()
    shifted["f1"] += 0.1
    ok, report = _report.compare(shifted, reference)
    assert not ok and "| f1 | 0.1000 | 0.0200 | NO |" in report
    noisy = reference.copy()
    noisy["roc_auc"] += 0.05  # within 3 x the seed spread of 0.02
    assert _report.compare(noisy, reference)[0]


def test_paper_figures_appear_next_to_their_peer():
    rows = _rows().assign(dataset="kddcup99", task="kddcup99", method="OneClassSVM", family="peer")
    table = _report.dataset_table(_report.aggregate(rows), "kddcup99")
    assert "0.7954 (OC-SVM)" in table and "-0.395" in table
    assert "*ALAD, as reported*" in table


def test_budget_families_cover_every_data_set():
    from benchmarks._tasks import DATASETS

    for dataset in DATASETS:
        assert family(dataset) in BUDGETS["quick"] and family(dataset) in BUDGETS["paper"]


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
