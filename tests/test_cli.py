"""The ``sklearn-ganad`` command line, run in-process through ``main``."""

import copyreg
import hashlib
import io
import pickle
import pickletools
import shutil
import signal
import subprocess
import sys
import time
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import sklearn_ganad
from sklearn_ganad import FAnoGAN, GANomaly, TrainingInterruptedWarning, demo
from sklearn_ganad.cli import main
from sklearn_ganad.persistence import (
    ModelFileError,
    _header_digest,
    _HeaderUnpickler,
    load_model,
    read_model_header,
    save_model,
)

FEATURES = [f"x{i}" for i in range(5)]


def params(**values):
    """``--param NAME=VALUE`` for each keyword, VALUE as written."""
    return [arg for name, value in values.items() for arg in ("--param", f"{name}={value}")]


# Tiny networks and two epochs, on the CPU.
FAST = [
    *params(max_epochs=2, hidden_layer_sizes="(8,)", batch_size=32, latent_dim=2, device="cpu"),
    *["--random-state", "0"],
]
_BIGAN = dict(generator_layer_sizes="(8,)", discriminator_layer_sizes="(8,)")
FAST_BY_METHOD = {
    "GANomaly": [],
    "EGBAD": params(**_BIGAN),
    "ALAD": params(**_BIGAN, cycle_layer_sizes="(8,)", latent_cycle_layer_sizes="(4,)"),
    "AnoGAN": params(n_search_iter=3, n_search_candidates=4),
    "FAnoGAN": params(encoder_epochs=1),
}


@pytest.fixture(scope="module")
def table():
    """200 Gaussian rows of five features, a string id and a 0/1 ground-truth label."""
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.normal(size=(200, 5)), columns=FEATURES)
    frame.insert(0, "id", [f"row{i:03d}" for i in range(200)])
    frame["label"] = (rng.uniform(size=200) < 0.05).astype(int)
    return frame


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, table):
    folder = tmp_path_factory.mktemp("data")
    table.to_csv(folder / "train.csv", index=False)
    table.to_parquet(folder / "train.parquet", index=False)
    table.drop(columns="label").to_csv(folder / "unlabelled.tsv", sep="\t", index=False)
    return folder


@pytest.fixture(scope="module")
def model_path(data_dir):
    """A GANomaly model fitted on train.csv's five features."""
    path = data_dir / "model.ganad"
    assert main(fit_argv(data_dir / "train.csv", path, "--exclude", "label")) == 0
    return path


def fit_argv(data, model, *options, progress=False):
    """``fit DATA -o MODEL`` with the fast settings, then ``options`` (which may override them)."""
    argv = ["fit", data, "-o", model, *FAST, *options]
    return [str(arg) for arg in argv + ([] if progress else ["--no-progress"])]


def run(capsys, *argv):
    """``main(argv)`` with its exit status, stdout and stderr."""
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_user_error(capsys, argv, *fragments):
    status, out, err = run(capsys, *argv)
    assert status == 2, err
    assert err.startswith("sklearn-ganad: error: ") or "\nsklearn-ganad: error: " in err, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


# -- fit and score -------------------------------------------------------------


@pytest.mark.parametrize("method", list(FAST_BY_METHOD))
def test_fit_then_score_every_method(method, data_dir, table, tmp_path, capsys):
    model = tmp_path / "model.ganad"
    options = ["--method", method.lower(), "--exclude", "label", *FAST_BY_METHOD[method]]
    status, out, _ = run(capsys, *fit_argv(data_dir / "train.csv", model, *options))
    assert status == 0
    assert f"method:    {method} (scaling: standard)" in out
    assert "rows:      200" in out and "features:  5 (x0, x1, x2, x3, x4)" in out
    assert "20 of 200 training rows (10.0%; contamination 0.1)" in out

    header = read_model_header(model)
    assert header["method"] == method and header["feature_names"] == FEATURES
    assert header["sklearn_ganad_version"] == sklearn_ganad.__version__
    fitted = load_model(model)
    assert isinstance(fitted, Pipeline) and type(fitted[-1]).__name__ == method
    assert fitted[-1].callbacks is None  # the progress bar is not a saved parameter
    assert f"offset_:   {fitted[-1].offset_:.6g}" in out
    # EGBAD keeps its best epoch on tables by default, and says which.
    best_epoch = fitted[-1].best_epoch_
    if method == "EGBAD":
        kept = f"weights of epoch {best_epoch} kept (lowest valid_loss on 10% of the rows held"
        assert best_epoch in (1, 2) and kept in out
    else:
        assert best_epoch is None and "kept (lowest valid_loss" not in out

    scored = tmp_path / "scored.csv"
    status, out, _ = run(
        capsys, "score", model, data_dir / "train.csv", "-o", scored, "--label-column", "predicted"
    )
    assert status == 0 and "scored 200 rows" in out and f"wrote {scored}" in out
    output = pd.read_csv(scored)
    assert list(output.columns) == [*table.columns, "score", "predicted"]
    pd.testing.assert_frame_equal(output[table.columns], table)  # the rows, in order
    np.testing.assert_allclose(output["score"], fitted.score_samples(table[FEATURES]), rtol=1e-12)
    np.testing.assert_array_equal(output["predicted"], fitted.predict(table[FEATURES]))
    assert (output["predicted"] == -1).mean() == pytest.approx(0.1, abs=0.02)


def test_parquet_round_trip_with_default_column_names(
    model_path, data_dir, table, tmp_path, capsys
):
    unlabelled = table.drop(columns="label")
    unlabelled.to_parquet(tmp_path / "new.parquet", index=False)
    status, _, _ = run(
        capsys, "score", model_path, tmp_path / "new.parquet", "-o", tmp_path / "scored.pq"
    )
    assert status == 0
    output = pd.read_parquet(tmp_path / "scored.pq")
    assert list(output.columns) == [*unlabelled.columns, "score", "label"]
    pd.testing.assert_frame_equal(output[unlabelled.columns], unlabelled)
    fitted = load_model(model_path)
    np.testing.assert_array_equal(output["score"], fitted.score_samples(unlabelled[FEATURES]))
    np.testing.assert_array_equal(output["label"], fitted.predict(unlabelled[FEATURES]))
    # The same scores from a TSV, and into a compressed CSV.
    scored = tmp_path / "scored.csv.gz"
    assert run(capsys, "score", model_path, data_dir / "unlabelled.tsv", "-o", scored)[0] == 0
    from_tsv = pd.read_csv(scored)  # compression inferred from the name
    assert scored.read_bytes()[:2] == b"\x1f\x8b"  # gzip's magic number
    np.testing.assert_allclose(from_tsv["score"], output["score"], rtol=1e-12)


def test_only_scores_and_stdout(model_path, data_dir, tmp_path, capsys):
    status, out, err = run(
        capsys, "score", model_path, data_dir / "train.parquet", "-o", "-", "--only-scores"
    )
    assert status == 0
    assert out.startswith("score,label\n") and out.count("\n") == 201
    assert "scored 200 rows with GANomaly" in err and "wrote stdout" in err  # not in the CSV
    only = tmp_path / "only.csv"
    run(capsys, "score", model_path, data_dir / "train.csv", "-o", only, "--only-scores")
    written = pd.read_csv(only)
    from_stdout = pd.read_csv(pd.io.common.StringIO(out))
    pd.testing.assert_frame_equal(written, from_stdout)
    assert list(written.columns) == ["score", "label"] and set(written["label"]) == {-1, 1}


def test_feature_selection_scaling_and_parameters(data_dir, tmp_path, capsys):
    train = data_dir / "train.csv"
    # By default every numeric column is a feature, the 0/1 label too; the id is not.
    status, out, _ = run(capsys, *fit_argv(train, tmp_path / "all.ganad"))
    assert status == 0 and "features:  6 (x0, x1, x2, x3, x4, label)" in out
    assert read_model_header(tmp_path / "all.ganad")["feature_names"] == [*FEATURES, "label"]

    options = "--columns x3 x0 --contamination 0.2 --scale minmax".split()
    options += ["--param", "hidden_layer_sizes=(16, 8)"]  # the last assignment wins
    status, out, _ = run(capsys, *fit_argv(train, tmp_path / "two.ganad", *options))
    assert status == 0 and "40 of 200 training rows (20.0%; contamination 0.2)" in out
    model = load_model(tmp_path / "two.ganad")
    assert read_model_header(tmp_path / "two.ganad")["feature_names"] == ["x3", "x0"]
    assert list(model.feature_names_in_) == ["x3", "x0"]
    assert isinstance(model.named_steps["scaler"], MinMaxScaler)
    detector = model.named_steps["detector"]
    assert detector.hidden_layer_sizes == (16, 8) and detector.contamination == 0.2
    assert detector.device == "cpu" and detector.max_epochs == 2 and detector.random_state == 0

    options = "--scale none --exclude label".split()
    status, _, _ = run(capsys, *fit_argv(train, tmp_path / "bare.ganad", *options))
    assert status == 0 and isinstance(load_model(tmp_path / "bare.ganad"), GANomaly)


def test_progress_bar_on_stderr_unless_disabled(data_dir, tmp_path, capsys):
    train = data_dir / "train.csv"
    argv = fit_argv(train, tmp_path / "a.ganad", "--exclude", "label", progress=True)
    status, out, err = run(capsys, *argv)
    assert status == 0
    assert "GANomaly" in err and "2/2" in err and "epoch" in err and "loss=" in err
    assert "epoch" not in out
    # f-AnoGAN trains twice: one bar per stage, each with its own number of epochs.
    options = "--method FAnoGAN --exclude label --param encoder_epochs=3".split()
    status, _, err = run(capsys, *fit_argv(train, tmp_path / "f.ganad", *options, progress=True))
    assert status == 0
    assert "FAnoGAN GAN: 100%" in err and "2/2" in err
    assert "FAnoGAN encoder: 100%" in err and "3/3" in err
    assert isinstance(load_model(tmp_path / "f.ganad")[-1], FAnoGAN)

    status, _, err = run(capsys, *fit_argv(train, tmp_path / "b.ganad", "--exclude", "label"))
    assert status == 0 and "epoch" not in err and "%" not in err


# -- errors --------------------------------------------------------------------


# -- large tables: chunks ------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".csv.gz", ".tsv.zip"])
def test_scoring_by_chunks_writes_what_one_chunk_writes(model_path, data_dir, tmp_path, suffix):
    source = data_dir / ("train.parquet" if suffix == ".parquet" else "train.csv")
    whole, chunked = tmp_path / f"whole{suffix}", tmp_path / f"chunked{suffix}"
    rename = ["--label-column", "predicted"]
    assert main(["score", str(model_path), str(source), "-o", str(whole), *rename]) == 0
    # 200 rows by 7: 29 chunks, the last of 4 rows.
    argv = ["score", str(model_path), str(source), "-o", str(chunked), "--chunksize", "7"]
    assert main([*argv, *rename]) == 0
    if suffix == ".csv":
        # The same text but for float64 rounding of the scores (on some CPUs
        # a row's float64 products depend on the batch's size, by 1e-16).
        written, expected = pd.read_csv(chunked), pd.read_csv(whole)
        assert chunked.read_text().splitlines()[0] == whole.read_text().splitlines()[0]
        pd.testing.assert_frame_equal(written, expected, check_exact=False, rtol=1e-12)
        assert written["predicted"].tolist() == expected["predicted"].tolist()
    elif suffix == ".parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(chunked), pd.read_parquet(whole))
    else:
        sep = "\t" if ".tsv" in suffix else ","
        written = pd.read_csv(chunked, sep=sep)
        pd.testing.assert_frame_equal(written, pd.read_csv(whole, sep=sep))
        assert len(written) == 200 and "predicted" in written
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([whole.name, chunked.name])
    assert (chunked.stat().st_mode & 0o777) == (whole.stat().st_mode & 0o777)


def test_a_bad_row_in_a_later_chunk_leaves_no_output(model_path, table, tmp_path, capsys):
    frame = table.copy()
    frame.loc[150, "x2"] = np.nan
    source = tmp_path / "bad.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "scored.csv"
    assert_user_error(
        capsys,
        ["score", model_path, source, "-o", out, "--chunksize", "50", "--only-scores"],
        "missing values (NaN) in feature column(s) 'x2' (1), first in data row 151",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]  # no partial table
    # An existing OUT is left as it was.
    out.write_text("before")
    assert_user_error(
        capsys,
        ["score", model_path, source, "-o", out, "--chunksize", "50", "--only-scores", "--force"],
        "NaN",
    )
    assert out.read_text() == "before"


@pytest.mark.parametrize("method", ["GANomaly", "FAnoGAN"])
def test_fit_by_chunks_trains_one_epoch_per_pass(method, data_dir, tmp_path, capsys):
    model = tmp_path / "model.ganad"
    options = [
        "--method",
        method,
        "--exclude",
        "label",
        "--chunksize",
        "66",
        *FAST_BY_METHOD[method],
    ]
    status, out, err = run(capsys, *fit_argv(data_dir / "train.csv", model, *options))
    assert status == 0, err
    assert f"method:    {method} (scaling: standard, by chunks of 66 rows)" in out
    assert "rows:      200" in out and "passes:    2" in out  # max_epochs=2
    fitted = load_model(model)
    assert type(fitted).__name__ == method  # the detector, scaling inside it
    assert fitted.preprocessing_ == "standard" and fitted.n_samples_seen_ == 400
    # 200 rows by 66: chunks of 66, 66, 66 and 2; one epoch each, two passes.
    calls = 8 * (2 if method == "FAnoGAN" else 1)
    assert len(fitted.net_.history) == calls
    scored = tmp_path / "scored.csv"
    argv = ["score", str(model), str(data_dir / "train.csv"), "-o", str(scored), "--only-scores"]
    assert main(argv) == 0
    assert pd.read_csv(scored)["label"].isin([-1, 1]).all()


def test_fit_by_chunks_merges_a_last_chunk_of_one_row(data_dir, tmp_path, capsys):
    model = tmp_path / "model.ganad"
    options = ["--exclude", "label", "--chunksize", "199", "--scale", "none"]
    status, out, err = run(capsys, *fit_argv(data_dir / "train.csv", model, *options))
    assert status == 0, err
    fitted = load_model(model)
    assert fitted.preprocessing_ is None
    assert len(fitted.net_.history) == 2  # one chunk of 200 rows per pass


def test_chunksize_must_be_positive(model_path, data_dir, tmp_path, capsys):
    status, _, err = run(capsys, "score", model_path, data_dir / "train.csv", "-o", "-",
                         "--chunksize", "0")  # fmt: skip
    assert status == 2 and "expected a positive integer, got '0'" in err


def test_data_errors(data_dir, table, tmp_path, capsys):
    model = tmp_path / "m.ganad"
    fit = ["fit", "-o", model, "--no-progress", *FAST]  # then DATA and options
    assert_user_error(capsys, [*fit, tmp_path / "nope.csv"], "data file", "nope.csv", "not found")
    (tmp_path / "data.txt").write_text("a,b\n1,2\n")
    assert_user_error(
        capsys, [*fit, tmp_path / "data.txt"], "cannot tell the format", ".csv, .tsv", ".parquet"
    )
    train = data_dir / "train.csv"
    err = assert_user_error(
        capsys,
        [*fit, train, "--columns", "x0", "nope"],
        "--columns names column(s) missing from the data: 'nope'",
    )
    assert "id (str)" in err and "x0 (float64)" in err and "label (int64)" in err
    assert_user_error(
        capsys,
        [*fit, train, "--exclude", "labels"],
        "--exclude names column(s) missing from the data: 'labels'",
    )
    assert_user_error(
        capsys, [*fit, train, "--columns", "x0", "id"], "column 'id' has dtype str, not a number"
    )

    with_nan = table.copy()
    with_nan.loc[[3, 50, 99], "x1"] = np.nan
    with_nan.loc[7, "x4"] = np.nan
    with_nan.to_csv(tmp_path / "nan.csv", index=False)
    assert_user_error(
        capsys,
        [*fit, tmp_path / "nan.csv"],
        "missing values (NaN) in feature column(s) 'x1' (3), 'x4' (1)",
    )
    # NaN in a column that is not a feature is fine.
    assert run(capsys, *fit, tmp_path / "nan.csv", "--columns", "x0", "x2")[0] == 0

    table.iloc[:0].to_csv(tmp_path / "header_only.csv", index=False)
    assert_user_error(
        capsys, [*fit, tmp_path / "header_only.csv", "--force"], "header_only.csv' has no rows"
    )
    (tmp_path / "blank.csv").write_text("")
    assert_user_error(capsys, [*fit, tmp_path / "blank.csv", "--force"], "is empty")
    table[["id"]].to_csv(tmp_path / "ids.csv", index=False)
    assert_user_error(
        capsys, [*fit, tmp_path / "ids.csv", "--force"], "no numeric feature column", "id (str)"
    )


def test_parameter_errors_come_before_reading_the_data(tmp_path, capsys):
    missing_data = tmp_path / "absent.csv"  # never read: the parameters fail first
    err = assert_user_error(
        capsys,
        ["fit", missing_data, "-o", tmp_path / "m.ganad", "--param", "max_epoch=3"],
        "unknown parameter 'max_epoch' for GANomaly (did you mean "
        "'max_epochs'?); valid parameters: ",
    )
    assert "hidden_layer_sizes" in err and "latent_dim" in err and "absent" not in err
    assert_user_error(
        capsys,
        ["fit", missing_data, "-o", "m", "--method", "AnoGAN", "--param", "encoder_epochs=3"],
        "unknown parameter 'encoder_epochs' for AnoGAN",
    )
    assert_user_error(
        capsys,
        ["fit", missing_data, "-o", "m", "--param", "max_epochs"],
        "argument --param: expected NAME=VALUE, got 'max_epochs'",
    )
    assert_user_error(
        capsys,
        ["fit", missing_data, "-o", "m", "--contamination", "0.2", "--param", "contamination=0.1"],
        "set contamination with --contamination or with --param, not both",
    )
    assert_user_error(
        capsys,
        ["fit", missing_data, "-o", "m", "--method", "BiGAN"],
        "unknown method 'BiGAN'; choose from ALAD, AnoGAN, EGBAD, FAnoGAN, GANomaly",
    )


def test_invalid_parameter_values_are_user_errors(data_dir, tmp_path, capsys):
    assert_user_error(
        capsys,
        fit_argv(data_dir / "train.csv", tmp_path / "m.ganad", "--param", "lr=-1"),
        "fitting GANomaly failed:",
        "'lr' parameter",
    )
    assert not (tmp_path / "m.ganad").exists()


def test_overwrite_needs_force(model_path, data_dir, tmp_path, capsys):
    model = tmp_path / "m.ganad"
    model.write_bytes(b"precious")
    fit = fit_argv(data_dir / "train.csv", model, "--exclude", "label")
    assert_user_error(capsys, fit, f"MODEL '{model}' exists; pass --force to overwrite it.")
    assert model.read_bytes() == b"precious"
    assert run(capsys, *fit, "--force")[0] == 0
    assert read_model_header(model)["method"] == "GANomaly"

    out = tmp_path / "scored.csv"
    out.write_text("precious")
    score = ["score", model_path, data_dir / "train.parquet", "-o", out, "--only-scores"]
    assert_user_error(capsys, score, f"OUT '{out}' exists; pass --force to overwrite it.")
    assert out.read_text() == "precious"
    assert run(capsys, *score, "--force")[0] == 0 and len(pd.read_csv(out)) == 200


def test_score_errors(model_path, data_dir, table, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert_user_error(
        capsys,
        ["score", tmp_path / "absent.ganad", data_dir / "train.csv", "-o", out],
        "model file",
        "absent.ganad",
        "not found",
    )
    assert_user_error(
        capsys,
        ["score", model_path, data_dir / "train.csv", "-o", tmp_path / "out.xlsx"],
        "cannot tell the format of OUT",
    )
    table.drop(columns=["x1", "x3"]).to_csv(tmp_path / "partial.csv", index=False)
    assert_user_error(
        capsys,
        ["score", model_path, tmp_path / "partial.csv", "-o", out],
        "the data lacks the model's feature column(s) 'x1', 'x3'",
        "fitted on: x0, x1, x2, x3, x4",
    )
    assert_user_error(
        capsys,
        ["score", model_path, data_dir / "train.csv", "-o", out],
        "the data already has column(s) 'label'",
        "--label-column",
    )
    with_nan = table.copy()
    with_nan.loc[0, "x2"] = np.nan
    with_nan.to_csv(tmp_path / "nan.csv", index=False)
    assert_user_error(
        capsys, ["score", model_path, tmp_path / "nan.csv", "-o", out, "--only-scores"], "'x2' (1)"
    )
    assert not out.exists()


def with_header(path, target, *, redigest=True, drop=(), **changes):
    """Copy a model file with some header entries changed (the estimator's bytes as they are).

    With ``redigest`` the header's own digest is recomputed, as a genuine
    file written with those entries would have it.
    """
    with open(path, "rb") as file:
        header = pickle.load(file)
        rest = file.read()
    header = {key: value for key, value in {**header, **changes}.items() if key not in drop}
    if redigest:
        header["header_sha256"] = _header_digest(header)
    with open(target, "wb") as file:
        pickle.dump(header, file)
        file.write(rest)
    return target


def with_payload(path, target, payload):
    """A model file whose estimator is ``payload``, with correct digests."""
    header = read_model_header(path)
    buffer = io.BytesIO()
    joblib.dump(payload, buffer)
    data = buffer.getvalue()
    header.update(payload_bytes=len(data), payload_sha256=hashlib.sha256(data).hexdigest())
    header["header_sha256"] = _header_digest(header)
    with open(target, "wb") as file:
        pickle.dump(header, file)
        file.write(data)
    return target


def test_model_file_checks(model_path, data_dir, tmp_path, capsys):
    score = ["score", "MODEL", data_dir / "train.csv", "-o", tmp_path / "out.csv", "--only-scores"]

    def score_with(model):
        return [model if arg == "MODEL" else arg for arg in score]

    old = with_header(model_path, tmp_path / "old.ganad", sklearn_ganad_version="0.0.1")
    expected = (
        f"model written by sklearn-ganad 0.0.1, this is {sklearn_ganad.__version__}; "
        "refit it, or install sklearn-ganad==0.0.1"
    )
    assert_user_error(capsys, score_with(old), expected)
    with pytest.raises(ModelFileError, match="refit it, or install sklearn-ganad==0.0.1"):
        load_model(old)
    assert read_model_header(old)["sklearn_ganad_version"] == "0.0.1"  # the header still reads

    newer = with_header(model_path, tmp_path / "newer.ganad", format_version=3)
    assert_user_error(capsys, score_with(newer), "format version 3", "reads format version 2")

    not_models = {
        "table.ganad": (data_dir / "train.csv").read_bytes(),
        "empty.ganad": b"",
        "wrong_dict.ganad": pickle.dumps({"format": "something else"}),
    }
    for name, content in not_models.items():
        (tmp_path / name).write_bytes(content)
        assert_user_error(capsys, score_with(tmp_path / name), "is not a sklearn-ganad model file")
    # A plain joblib file is refused from its first bytes, without unpickling the estimator.
    joblib.dump(load_model(model_path), tmp_path / "plain.joblib")
    err = assert_user_error(capsys, score_with(tmp_path / "plain.joblib"), "is not a sklearn-ganad")
    assert "holds plain data only, found the opcode" in err

    truncated = tmp_path / "truncated.ganad"
    truncated.write_bytes(model_path.read_bytes()[:-600])
    assert_user_error(capsys, score_with(truncated), "is corrupted or truncated", "bytes where")


def test_a_changed_byte_anywhere_is_refused_before_unpickling(model_path, tmp_path, monkeypatch):
    """Every offset (of a stride through the file) flipped: a one-line ModelFileError, no load."""
    original = model_path.read_bytes()
    unpickled = []
    monkeypatch.setattr(
        sklearn_ganad.persistence.joblib, "load", lambda *a, **k: unpickled.append(1) or 1 / 0
    )
    stride = max(1, len(original) // 300)
    offsets = [*range(0, len(original), stride), len(original) - 1]
    for offset in offsets:
        changed = bytearray(original)
        changed[offset] ^= 0x20
        target = tmp_path / "changed.ganad"
        target.write_bytes(bytes(changed))
        with pytest.raises(ModelFileError) as error:
            load_model(target)
        message = str(error.value)
        assert "\n" not in message and str(target) in message, (offset, message)
    assert unpickled == []  # nothing was unpickled for any of them
    assert len(offsets) > 250


def test_malformed_headers_are_one_line_errors(model_path, data_dir, tmp_path, capsys):
    score = ["score", None, data_dir / "train.csv", "-o", tmp_path / "out.csv", "--only-scores"]
    cases = {
        "no_names": (dict(drop=("feature_names",)), "it lacks feature_names"),
        "names_str": (dict(feature_names="x0,x1"), "feature_names is a str, not a list"),
        "names_int": (dict(feature_names=[0, 1]), "feature_names is not a list of strings"),
        "bad_size": (dict(payload_bytes="12"), "payload_bytes is a str, not a int"),
        "bool_size": (dict(payload_bytes=True), "payload_bytes is a bool"),
        "edited": (dict(method="EGBAD", redigest=False), "its header does not match the digest"),
    }
    for name, (changes, fragment) in cases.items():
        target = with_header(model_path, tmp_path / f"{name}.ganad", **changes)
        score[1] = target
        err = assert_user_error(capsys, score, fragment)
        assert err.count("\n") == 1, err
        with pytest.raises(ModelFileError, match=fragment):
            load_model(target)

    for payload in ({"not": "a detector"}, StandardScaler().fit([[0.0], [1.0]])):
        target = with_payload(model_path, tmp_path / "other.ganad", payload)
        score[1] = target
        err = assert_user_error(capsys, score, f"holds a {type(payload).__name__}, not a")
        assert err.count("\n") == 1


class _Marker:
    """A class a header must never import."""


def _header_with_opcodes(model_path, target, header_bytes):
    """A model file whose header is ``header_bytes``, followed by the real estimator."""
    with open(model_path, "rb") as file:
        pickle.load(file)
        rest = file.read()
    target.write_bytes(header_bytes + rest)
    return target


def test_header_reader_refuses_pickled_code(model_path, tmp_path):
    """Every way a pickle can import or call something is refused before loading."""
    calls = []
    header = read_model_header(model_path)

    class Reduces:
        def __reduce__(self):
            return (calls.append, ("reduced",))

    class PersistentPickler(pickle.Pickler):
        def persistent_id(self, obj):
            return "an-id" if obj == "x0" else None

    persistent = io.BytesIO()
    PersistentPickler(persistent, protocol=2).dump(header)
    stack_global = pickle.dumps({**header, "method": _Marker}, protocol=4)
    old_global = pickle.dumps({**header, "method": _Marker}, protocol=0)
    # An extension code registered and already cached by copyreg: the unpickler
    # would take it from the cache without calling find_class.
    copyreg.add_extension(__name__, "_Marker", 0x7A)
    try:
        pickle.loads(pickle.dumps(_Marker, protocol=2))  # fills copyreg's cache
        extension = pickle.dumps({**header, "method": _Marker}, protocol=2)
        assert pickletools.optimize(extension).count(b"\x82\x7a") == 1  # EXT1 0x7A
        cases = {
            # __reduce__ pickles its callable with GLOBAL, refused first ...
            "reducer": (pickle.dumps({**header, "method": Reduces()}, protocol=2), "GLOBAL"),
            # ... and a REDUCE on its own (of a string: it would fail if run) is refused too.
            "reduce": (b"\x80\x02X\x01\x00\x00\x00a)R.", "REDUCE"),
            "global": (stack_global, "STACK_GLOBAL"),
            "old_global": (old_global, "GLOBAL"),
            "persistent_id": (persistent.getvalue(), "BINPERSID"),
            "extension": (extension, "EXT1"),
        }
        for name, (header_bytes, opcode) in cases.items():
            target = _header_with_opcodes(model_path, tmp_path / f"{name}.ganad", header_bytes)
            for reader in (read_model_header, load_model):
                with pytest.raises(ModelFileError, match=f"found the opcode {opcode}"):
                    reader(target)
    finally:
        copyreg.remove_extension(__name__, "_Marker", 0x7A)
    assert calls == []
    # The restricted unpickler is a second line of defence behind the opcode check.
    with pytest.raises(pickle.UnpicklingError, match="holds no objects"):
        _HeaderUnpickler(io.BytesIO(pickle.dumps(_Marker))).load()
    with pytest.raises(pickle.UnpicklingError, match="no persistent references"):
        _HeaderUnpickler(io.BytesIO(persistent.getvalue())).load()


def test_save_and_load_from_python(table, tmp_path):
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        StandardScaler(),
        GANomaly(max_epochs=1, hidden_layer_sizes=(8,), latent_dim=2, random_state=0, device="cpu"),
    )
    model.fit(table[FEATURES])
    header = save_model(tmp_path / "m.ganad", model, feature_names=FEATURES, method="GANomaly")
    assert read_model_header(tmp_path / "m.ganad") == header
    assert header["format"] == "sklearn-ganad-model" and header["format_version"] == 2
    assert {"sklearn_version", "torch_version", "created"} <= set(header)
    assert header["payload_bytes"] + len(pickle.dumps(header, protocol=4)) == (
        (tmp_path / "m.ganad").stat().st_size
    )
    loaded = load_model(tmp_path / "m.ganad")
    np.testing.assert_array_equal(
        loaded.score_samples(table[FEATURES]), model.score_samples(table[FEATURES])
    )
    with pytest.raises(ValueError, match="differ from the model's feature_names_in_"):
        save_model(tmp_path / "bad.ganad", model, feature_names=FEATURES[::-1], method="GANomaly")
    assert not (tmp_path / "bad.ganad").exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "m.ganad"
    ]  # no temporary file left behind
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.ganad")


def test_parquet_without_pyarrow(model_path, data_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    hint = "install pyarrow (pip install sklearn-ganad[parquet])"
    assert_user_error(
        capsys,
        ["fit", data_dir / "train.parquet", "-o", tmp_path / "m.ganad"],
        "DATA",
        "is a Parquet file: " + hint,
    )
    assert_user_error(
        capsys,
        ["score", model_path, data_dir / "train.csv", "-o", tmp_path / "o.parquet"],
        hint,
    )
    assert not (tmp_path / "m.ganad").exists()


# -- help, version, demo ---------------------------------------------------------


@pytest.mark.parametrize(
    "command, options",
    [
        ([], ["--version", "fit", "score", "demo"]),
        (
            ["fit"],
            "--method --columns --exclude --contamination --random-state --param --scale "
            "--no-progress --keep-interrupted --force ALAD,AnoGAN,EGBAD,FAnoGAN,GANomaly".split(),
        ),
        (["score"], ["--only-scores", "--force", "--score-column", "--label-column", "'-'"]),
        (["demo"], ["--digits", "--seed", "--epochs-scale"]),
    ],
)
def test_help(command, options, capsys):
    status, out, _ = run(capsys, *command, "--help")
    assert status == 0 and out.startswith(f"usage: {' '.join(['sklearn-ganad', *command])}")
    for option in options:
        assert option in out


def test_version_and_usage_errors(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out == f"sklearn-ganad {sklearn_ganad.__version__}\n"
    status, _, err = run(capsys)
    assert status == 2 and "sklearn-ganad: error: the following arguments are required" in err
    status, _, err = run(capsys, "fit", "data.csv")
    assert status == 2 and "sklearn-ganad: error: " in err and "-o/--output" in err


def test_demo_passes_its_options_to_the_demo(monkeypatch, capsys):
    calls = []

    def fake_run_demo(**kwargs):
        calls.append(kwargs)
        row = dict(roc_auc=0.9, average_precision=0.8, fit_seconds=1.0, score_rows_per_second=10)
        return [{"dataset": "digits", "detector": "GANomaly", **row}]

    monkeypatch.setattr(demo, "run_demo", fake_run_demo)
    status, out, _ = run(
        capsys, "demo", "--digits", "0", "3", "--seed", "5", "--epochs-scale", "0.05"
    )
    assert status == 0
    # No progress bar: stderr is not a terminal here.
    assert calls == [{"digits": [0, 3], "seed": 5, "epochs_scale": 0.05, "progress": False}]
    assert out.startswith("| data set | detector | ROC AUC |") and "| digits | GANomaly |" in out
    run(capsys, "demo")
    assert calls[-1] == {
        "digits": list(range(10)),
        "seed": 0,
        "epochs_scale": 1.0,
        "progress": False,
    }
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    run(capsys, "demo")
    assert calls[-1]["progress"] is True
    run(capsys, "demo", "--no-progress")
    assert calls[-1]["progress"] is False


def test_console_script_and_module(tmp_path):
    version = f"sklearn-ganad {sklearn_ganad.__version__}"
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_ganad.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and result.stdout.strip() == version
    script = shutil.which("sklearn-ganad")
    command = [script] if script else [sys.executable, "-m", "sklearn_ganad.cli"]
    result = subprocess.run(
        [*command, "score", "absent.ganad", "data.csv", "-o", "out.csv"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("sklearn-ganad: error: model file")


def test_ctrl_c_during_fit_exits_130_without_a_model(data_dir, tmp_path, capsys, monkeypatch):
    train_step = sklearn_ganad.GANNet.train_step
    steps = []

    def interrupted_step(net, batch, **kwargs):
        steps.append(1)
        if len(steps) == 9:  # the 2nd batch of epoch 2 (7 batches of 32 per epoch)
            raise KeyboardInterrupt
        return train_step(net, batch, **kwargs)

    monkeypatch.setattr(sklearn_ganad.GANNet, "train_step", interrupted_step)
    model = tmp_path / "model.ganad"
    argv = fit_argv(data_dir / "train.csv", model, "--exclude", "label", *params(max_epochs=5))
    status, out, err = run(capsys, *argv)
    assert status == 130 and out == ""
    assert err.strip() == (
        "sklearn-ganad: interrupted in training epoch 2; no model written "
        "(--keep-interrupted writes what was trained)"
    )
    assert not model.exists() and list(tmp_path.iterdir()) == []

    steps.clear()
    with pytest.warns(TrainingInterruptedWarning, match="epoch 2 of 5"):
        status, out, err = run(capsys, *argv, "--keep-interrupted")
    assert status == 130 and f"model:     {model}" in out
    assert "training was interrupted (epoch 2); the model holds what was trained" in err
    fitted = load_model(model)[-1]
    assert len(fitted.net_.history) == 2 and fitted.net_.history[-1, "interrupted"]


def test_values_too_large_for_float32_name_their_column(data_dir, table, tmp_path, capsys):
    huge = table.copy()
    huge.loc[3, "x1"] = 1e300
    huge.to_csv(tmp_path / "huge.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warnings on the way
        err = assert_user_error(
            capsys,
            fit_argv(tmp_path / "huge.csv", tmp_path / "m.ganad", "--exclude", "label"),
            "value too large for float32",
            "in feature column(s) 'x1' (1)",
        )
    assert err.count("\n") == 1 and not (tmp_path / "m.ganad").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_a_real_sigint_during_fit_exits_130_and_writes_nothing(data_dir, tmp_path):
    """The program in its own process, interrupted by a signal once its progress bar shows."""
    model = tmp_path / "model.ganad"
    argv = fit_argv(data_dir / "train.csv", model, "--exclude", "label", progress=True)
    argv = [arg if arg != "max_epochs=2" else "max_epochs=100000" for arg in argv]
    process = subprocess.Popen(
        [sys.executable, "-m", "sklearn_ganad.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        # SIGINT as in a terminal, even when the tests run in a background
        # job, which inherits it ignored (Python then installs no handler).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = b""
    deadline = time.monotonic() + 120
    # The bar's first render: training has started.
    while b"epoch" not in seen and time.monotonic() < deadline:
        chunk = process.stderr.read1(4096)
        if not chunk:
            break
        seen += chunk
    assert b"epoch" in seen, seen
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    err = (seen + err).decode()
    assert process.returncode == 130, err
    assert "sklearn-ganad: interrupted in training epoch" in err and "Traceback" not in err
    assert out == b"" and not model.exists() and list(tmp_path.iterdir()) == []
