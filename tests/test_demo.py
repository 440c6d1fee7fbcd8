"""The README's main job, run small."""

from sklearn_ganad import demo


def test_run_demo_returns_one_row_per_dataset_and_detector():
    # Half the epochs; ROC AUC (digit 0, breast cancer) measured before feature_clip
    # began clipping the breast-cancer table: GANomaly 1.000 and
    # 0.926, EGBAD 0.983 and 0.897 (its best epoch, the tables' default; 0.961 with
    # the last), ALAD 0.999 and 0.940, AnoGAN 0.974 and 0.955, f-AnoGAN 0.997 and 0.969.
    rows = demo.run_demo(digits=[0], epochs_scale=0.5)
    detectors = ["GANomaly", "EGBAD", "ALAD", "AnoGAN", "f-AnoGAN", "IsolationForest",
                 "LocalOutlierFactor"]  # fmt: skip
    assert [(r["dataset"].split()[0], r["detector"]) for r in rows] == [
        (dataset, detector) for dataset in ("digits", "breast-cancer") for detector in detectors
    ]
    for row in rows:
        assert 0.85 < row["roc_auc"] <= 1 and 0.9 < row["average_precision"] <= 1
        assert row["fit_seconds"] > 0 and row["score_rows_per_second"] > 0
    table = demo.format_table(rows)
    assert table.count("\n") == len(rows) + 1 and "| ROC AUC |" in table


def test_main_prints_the_table(capsys):
    demo.main(["--digits", "1", "--epochs-scale", "0.05"])
    out = capsys.readouterr().out
    assert out.startswith("| data set | detector |") and "GANomaly" in out


def test_progress_bar_counts_the_fits_on_stderr(capsys, monkeypatch):
    def fake_evaluate(make_detector, tasks, advance):
        for _ in tasks:
            advance()
        return dict(roc_auc=1.0, average_precision=1.0, fit_seconds=1.0, score_rows_per_second=1)

    monkeypatch.setattr(demo, "_evaluate", fake_evaluate)
    demo.run_demo(digits=[1, 2], progress=True)
    err = capsys.readouterr().err
    # 2 digits x 7 detectors + breast cancer x 7.
    assert "demo" in err and "21/21" in err and "on breast-cancer" in err
    demo.run_demo(digits=[1, 2])
    assert capsys.readouterr().err == ""
