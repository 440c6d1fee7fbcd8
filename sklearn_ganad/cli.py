"""The ``sklearn-ganad`` command line: fit a detector on a table, score a table, run the demo.

::

    sklearn-ganad fit train.csv -o model.ganad --method EGBAD --exclude label
    sklearn-ganad score model.ganad new.parquet -o scored.parquet
    sklearn-ganad demo --digits 0 --epochs-scale 0.25

Tables are CSV (``.csv``, ``.tsv``, optionally compressed, e.g. ``.csv.gz``)
or Parquet (``.parquet``, ``.pq``; needs pyarrow). Model files are those of
:mod:`sklearn_ganad.persistence` (:func:`~sklearn_ganad.persistence.save_model`
and :func:`~sklearn_ganad.persistence.load_model` read and write the same
format from Python); the progress bar is
:class:`sklearn_ganad.callbacks.EpochProgressBar`.

User errors print one line starting with ``sklearn-ganad: error:`` on stderr
and exit with status 2. ``python -m sklearn_ganad.cli`` runs the same program.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from . import __version__, demo
from .callbacks import EpochProgressBar
from .exceptions import TrainingInterruptedWarning

# The model-file functions live in sklearn_ganad.persistence; importable from
# here too, where they were first documented.
from .persistence import (  # noqa: F401
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    ModelFileError,
    _final_estimator,
    _read_model_file,
    load_model,
    read_model_header,
    save_model,
)
from .utils import all_detectors
from .utils._validation import FLOAT32_MAX, count_beyond_float32

__all__ = ["CLIError", "build_parser", "main"]

PROG = "sklearn-ganad"


def _methods() -> dict:
    """The detectors the command line can fit, by name: the registry's, read at each call."""
    return dict(all_detectors())


_SCALERS = {"none": None, "standard": StandardScaler, "minmax": MinMaxScaler}
_TABLE_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
# Compressions pandas infers from the file name; CSV and TSV only.
_COMPRESSION_SUFFIXES = {".gz", ".bz2", ".zip", ".xz", ".zst", ".tar"}
_STDOUT = "-"
_PARQUET_HINT = "install pyarrow (pip install sklearn-ganad[parquet])"


class CLIError(Exception):
    """A user error of the command line: reported in one line, exit status 2."""


def _training_stages(method: str, detector) -> list[tuple[str, None]]:
    """Label of each training call that ``detector.fit`` makes, as the detector declares them.

    The epochs are read from the net as each call starts ("auto" resolves in fit).
    """
    return [(f"{method} {stage}".strip(), None) for stage in detector._training_stages]


# -- tables --------------------------------------------------------------------


def _table_format(path: str, role: str) -> str:
    """``"csv"``, ``"tsv"`` or ``"parquet"`` from a file name, or a CLIError."""
    suffixes = [suffix.lower() for suffix in Path(path).suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    table_format = _TABLE_SUFFIXES.get(suffixes[-1]) if suffixes else None
    if table_format == "parquet" and Path(path).suffixes[-1].lower() in _COMPRESSION_SUFFIXES:
        table_format = None  # Parquet compresses inside the file
    if table_format is None:
        raise CLIError(
            f"cannot tell the format of {role} {path!r} from its extension; use .csv, .tsv "
            "(optionally compressed, e.g. .csv.gz), .parquet or .pq."
        )
    if table_format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise CLIError(f"{role} {path!r} is a Parquet file: {_PARQUET_HINT}.") from None
    return table_format


def _read_table(path: str) -> pd.DataFrame:
    """Read a CSV, TSV or Parquet table; every failure is a CLIError."""
    table_format = _table_format(path, "DATA")
    if not Path(path).is_file():
        raise CLIError(f"data file {path!r} not found.")
    try:
        frame = (
            pd.read_parquet(path, engine="pyarrow")
            if table_format == "parquet"
            else pd.read_csv(path, sep="\t" if table_format == "tsv" else ",")
        )
    except pd.errors.EmptyDataError:
        raise CLIError(f"data file {path!r} is empty.") from None
    except Exception as exc:
        raise CLIError(f"cannot read {path!r} as {table_format.upper()}: {exc}") from None
    if len(frame) == 0:
        raise CLIError(f"data file {path!r} has no rows.")
    frame.columns = [str(name) for name in frame.columns]  # feature names are strings
    return frame


def _write_table(frame: pd.DataFrame, path: str) -> None:
    """Write a table by its extension, or CSV to stdout for ``-``."""
    if path == _STDOUT:
        frame.to_csv(sys.stdout, index=False)
        return
    table_format = _table_format(path, "OUT")
    try:
        if table_format == "parquet":
            frame.to_parquet(path, engine="pyarrow", index=False)
        else:
            frame.to_csv(path, sep="\t" if table_format == "tsv" else ",", index=False)
    except OSError as exc:
        raise CLIError(f"cannot write {path!r}: {exc.strerror or exc}") from None


def _is_numeric(series: pd.Series) -> bool:
    dtype = series.dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)


def _describe_columns(frame: pd.DataFrame) -> str:
    return ", ".join(f"{name} ({frame[name].dtype})" for name in frame.columns)


def _check_columns_exist(frame: pd.DataFrame, columns, option: str) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise CLIError(
            f"{option} names column(s) missing from the data: {', '.join(map(repr, missing))}; "
            f"the data has: {_describe_columns(frame)}."
        )


def _select_feature_columns(frame: pd.DataFrame, columns=None, exclude=()) -> list[str]:
    """The feature columns: ``columns`` as given, else every numeric one not excluded.

    Parameters
    ----------
    frame : DataFrame
    columns : list of str or None
        Exactly these columns, in this order; each must be numeric.
    exclude : list of str
        Columns left out of the default selection.

    Returns
    -------
    feature_names : list of str
    """
    if columns is not None:
        if len(set(columns)) != len(columns):
            repeated = sorted({name for name in columns if columns.count(name) > 1})
            raise CLIError(f"--columns repeats {', '.join(map(repr, repeated))}.")
        _check_columns_exist(frame, columns, "--columns")
        for name in columns:
            if not _is_numeric(frame[name]):
                raise CLIError(
                    f"column {name!r} has dtype {frame[name].dtype}, not a number; "
                    "features must be numeric."
                )
        return list(columns)
    _check_columns_exist(frame, exclude, "--exclude")
    excluded = set(exclude)
    features = [name for name in frame.columns if name not in excluded and _is_numeric(frame[name])]
    if not features:
        raise CLIError(
            f"the data has no numeric feature column; its columns: {_describe_columns(frame)}."
        )
    return features


def _feature_matrix(frame: pd.DataFrame, feature_names: list[str]) -> pd.DataFrame:
    """The features as float64, after checking each is finite."""
    if len(frame) == 0:
        raise CLIError("the data has no rows.")
    features = frame[feature_names]
    try:
        features = features.astype("float64")
    except (TypeError, ValueError) as exc:
        raise CLIError(f"the features cannot be read as numbers: {exc}") from None
    n_missing = features.isna().sum()
    if n_missing.any():
        counts = ", ".join(f"{name!r} ({count})" for name, count in n_missing.items() if count)
        raise CLIError(
            f"missing values (NaN) in feature column(s) {counts}; drop or impute them, or "
            "leave these columns out (--columns/--exclude)."
        )
    values = features.to_numpy()
    n_infinite = pd.Series(np.isinf(values).sum(axis=0), index=features.columns)
    if n_infinite.any():
        counts = ", ".join(f"{name!r} ({count})" for name, count in n_infinite.items() if count)
        raise CLIError(f"infinite values in feature column(s) {counts}.")
    # Checked here, before a scaler squares them: 1e300 overflows float64 there.
    n_too_large = pd.Series(count_beyond_float32(values), index=features.columns)
    if n_too_large.any():
        counts = ", ".join(f"{name!r} ({count})" for name, count in n_too_large.items() if count)
        raise CLIError(
            f"value too large for float32 (|x| > {FLOAT32_MAX:.3g}) in feature column(s) {counts}; "
            "the networks compute in float32: rescale these columns (e.g. a log transform)."
        )
    return features


def _check_can_write(path: str, force: bool, role: str) -> None:
    """Refuse to overwrite without ``--force``; the folder must exist."""
    if path == _STDOUT:
        return
    target = Path(path)
    if target.is_dir():
        raise CLIError(f"{role} {path!r} is a folder.")
    if target.exists() and not force:
        raise CLIError(f"{role} {path!r} exists; pass --force to overwrite it.")
    if not target.resolve().parent.is_dir():
        raise CLIError(f"the folder of {role} {path!r} does not exist.")


# -- fit -----------------------------------------------------------------------


def _method_name(text: str) -> str:
    """The canonical method name, ignoring case and dashes (``f-anogan`` is FAnoGAN)."""
    key = text.replace("-", "").replace("_", "").lower()
    for name in _methods():
        if name.lower() == key:
            return name
    raise argparse.ArgumentTypeError(
        f"unknown method {text!r}; choose from {', '.join(_methods())} (any case)."
    )


def _parameter_assignment(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` with VALUE a Python literal, else the raw string."""
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}.")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return name, value


def _build_detector(method: str, assignments, *, contamination, random_state):
    """The unfitted detector with the command line's parameters, checked by name."""
    detector = _methods()[method]()
    valid = sorted(name for name in detector.get_params() if name != "callbacks")
    params = {}
    for name, value in assignments:
        if name not in valid:
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise CLIError(
                f"unknown parameter {name!r} for {method}{hint}; valid parameters: "
                f"{', '.join(valid)}."
            )
        params[name] = value  # the last of repeated assignments wins
    for name, value, option in [
        ("contamination", contamination, "--contamination"),
        ("random_state", random_state, "--random-state"),
    ]:
        if value is None:
            continue
        if name in params:
            raise CLIError(f"set {name} with {option} or with --param, not both.")
        params[name] = value
    return detector.set_params(**params)


def _name_list(names, limit=8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def _fit_command(args) -> int:
    method = args.method
    detector = _build_detector(
        method, args.param, contamination=args.contamination, random_state=args.random_state
    )
    _check_can_write(args.output, args.force, "MODEL")
    if args.output == _STDOUT:
        raise CLIError("MODEL cannot be '-'; give a file name.")
    frame = _read_table(args.data)
    feature_names = _select_feature_columns(frame, args.columns, args.exclude or ())
    features = _feature_matrix(frame, feature_names)
    if len(features) < 2:
        raise CLIError(f"fitting needs at least 2 rows; the data has {len(features)}.")

    user_callbacks = detector.callbacks
    if not args.no_progress:
        progress = EpochProgressBar(_training_stages(method, detector))
        detector.set_params(callbacks=[*(user_callbacks or []), ("epoch_progress", progress)])
    scaler = _SCALERS[args.scale]
    model = detector if scaler is None else Pipeline([("scaler", scaler()), ("detector", detector)])
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            if not args.keep_interrupted:
                # Raised out of the training loop: no scoring, no model file.
                warnings.simplefilter("error", TrainingInterruptedWarning)
            labels = model.fit_predict(features)
    except ValueError as exc:  # parameter validation and the detectors' data checks
        raise CLIError(f"fitting {method} failed: {exc}") from None
    except TrainingInterruptedWarning:
        epochs = len(detector.net_.history)
        print(
            f"{PROG}: interrupted in training epoch {epochs}; no model written (--keep-"
            "interrupted writes what was trained)",
            file=sys.stderr,
        )
        return 130
    seconds = time.perf_counter() - start
    # The saved detector keeps the parameters given, not the command line's progress bar.
    detector.set_params(callbacks=user_callbacks)
    interrupted = bool(getattr(detector.net_, "interrupted_", False))

    save_model(args.output, model, feature_names=feature_names, method=method)
    n_flagged = int(np.sum(labels == -1))
    print(f"method:    {method} (scaling: {args.scale})")
    print(f"rows:      {len(features)}")
    print(f"features:  {len(feature_names)} ({_name_list(feature_names)})")
    print(f"fit time:  {seconds:.2f} s")
    print(f"offset_:   {detector.offset_:.6g}")
    print(
        f"flagged:   {n_flagged} of {len(features)} training rows "
        f"({n_flagged / len(features):.1%}; contamination {detector.contamination:g})"
    )
    print(f"model:     {args.output}")
    if interrupted:
        print(
            f"{PROG}: training was interrupted (epoch {len(detector.net_.history)}); the model "
            "holds what was trained",
            file=sys.stderr,
        )
        return 130
    return 0


# -- score ---------------------------------------------------------------------


def _score_command(args) -> int:
    if args.score_column == args.label_column:
        raise CLIError("--score-column and --label-column must differ.")
    _check_can_write(args.output, args.force, "OUT")
    if args.output != _STDOUT:
        _table_format(args.output, "OUT")
    if not Path(args.model).is_file():
        raise CLIError(f"model file {args.model!r} not found.")
    header, model = _read_model_file(args.model)
    frame = _read_table(args.data)
    feature_names = list(header["feature_names"])
    missing = [name for name in feature_names if name not in frame.columns]
    if missing:
        raise CLIError(
            f"the data lacks the model's feature column(s) {', '.join(map(repr, missing))}; "
            f"the model was fitted on: {', '.join(feature_names)}."
        )
    if not args.only_scores:
        taken = [name for name in (args.score_column, args.label_column) if name in frame.columns]
        if taken:
            raise CLIError(
                f"the data already has column(s) {', '.join(map(repr, taken))}; name the "
                "output columns with --score-column/--label-column, or use --only-scores."
            )
    for name in feature_names:
        if not _is_numeric(frame[name]):
            raise CLIError(
                f"column {name!r} has dtype {frame[name].dtype}, not a number; "
                "features must be numeric."
            )
    features = _feature_matrix(frame, feature_names)

    try:
        scores = np.asarray(model.score_samples(features), dtype=np.float64)
        offset = getattr(_final_estimator(model), "offset_", None)
        if offset is None:
            labels = np.asarray(model.predict(features), dtype=int)
        else:
            # predict's own rule (decision_function < 0 is an outlier), without scoring twice.
            labels = np.where(scores - offset < 0, -1, 1)
    except ValueError as exc:
        raise CLIError(f"scoring failed: {exc}") from None

    if args.only_scores:
        output = pd.DataFrame({args.score_column: scores, args.label_column: labels})
    else:
        output = frame.copy()
        output[args.score_column] = scores
        output[args.label_column] = labels
    _write_table(output, args.output)

    n_flagged = int(np.sum(labels == -1))
    destination = "stdout" if args.output == _STDOUT else args.output
    print(
        f"scored {len(frame)} rows with {header.get('method', 'the model')}: {n_flagged} "
        f"({n_flagged / len(frame):.1%}) flagged as outliers; wrote {destination}",
        file=sys.stderr if args.output == _STDOUT else sys.stdout,
    )
    return 0


# -- demo ----------------------------------------------------------------------


def _demo_command(args) -> int:
    demo._run(args)
    return 0


# -- parser and entry point ------------------------------------------------------


class _ArgumentParser(argparse.ArgumentParser):
    """argparse with the program's one error prefix for every subcommand."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``sklearn-ganad`` command line.

    Returns
    -------
    parser : argparse.ArgumentParser
        Its parsed namespaces carry the subcommand's function as ``run``.
    """
    parser = _ArgumentParser(
        prog=PROG,
        description="Fit GAN anomaly detectors on tables and score tables with them.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    fit = commands.add_parser(
        "fit",
        help="fit a detector on a CSV or Parquet table and save it",
        description="Fit a detector on the numeric columns of a table (taken to be mostly "
        "normal rows) and write a model file for 'sklearn-ganad score'.",
    )
    fit.add_argument("data", metavar="DATA", help="training table: .csv, .tsv, .parquet or .pq")
    fit.add_argument("-o", "--output", metavar="MODEL", required=True, help="model file to write")
    fit.add_argument(
        "--method",
        type=_method_name,
        default="GANomaly",
        metavar="{" + ",".join(_methods()) + "}",
        help="the detector, any case (default: GANomaly)",
    )
    selection = fit.add_mutually_exclusive_group()
    selection.add_argument(
        "--columns",
        nargs="+",
        metavar="COLUMN",
        help="the feature columns (default: every numeric column)",
    )
    selection.add_argument(
        "--exclude", nargs="+", metavar="COLUMN", help="numeric columns to leave out (ids, labels)"
    )
    fit.add_argument(
        "--contamination",
        type=float,
        metavar="F",
        help="share of training rows taken as outliers, in (0, 0.5] (default: the method's, 0.1)",
    )
    fit.add_argument("--random-state", type=int, metavar="N", help="seed, for repeatable fits")
    fit.add_argument(
        "--param",
        action="append",
        type=_parameter_assignment,
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of the detector, e.g. max_epochs=20 or hidden_layer_sizes='(64,32)'; "
        "VALUE is a Python literal or else a string; repeat for more",
    )
    fit.add_argument(
        "--scale",
        choices=list(_SCALERS),
        default="standard",
        help="scaler fitted before the detector, in one Pipeline (default: standard)",
    )
    fit.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    fit.add_argument(
        "--keep-interrupted",
        action="store_true",
        help="on Ctrl-C during training, still write MODEL from what was trained (the exit "
        "status is 130 either way; without this flag no model is written)",
    )
    fit.add_argument("--force", action="store_true", help="overwrite MODEL if it exists")
    fit.set_defaults(run=_fit_command)

    score = commands.add_parser(
        "score",
        help="score a table with a saved model",
        description="Score the rows of a table with a model written by 'sklearn-ganad fit' and "
        "write the table with a score column (score_samples: higher is more normal) and a label "
        "column (+1 inlier, -1 outlier).",
    )
    score.add_argument("model", metavar="MODEL", help="model file written by 'sklearn-ganad fit'")
    score.add_argument("data", metavar="DATA", help="table to score: .csv, .tsv, .parquet or .pq")
    score.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        required=True,
        help="table to write (.csv, .tsv, .parquet or .pq), or '-' for CSV on stdout",
    )
    score.add_argument(
        "--only-scores", action="store_true", help="write only the score and label columns"
    )
    score.add_argument(
        "--score-column",
        default="score",
        metavar="NAME",
        help="name of the score column (default: score)",
    )
    score.add_argument(
        "--label-column",
        default="label",
        metavar="NAME",
        help="name of the label column (default: label)",
    )
    score.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    score.set_defaults(run=_score_command)

    demo_parser = commands.add_parser(
        "demo",
        help="run the package's demo (python -m sklearn_ganad.demo)",
        description=demo.DESCRIPTION,
    )
    demo._add_arguments(demo_parser)
    demo_parser.set_defaults(run=_demo_command)
    return parser


def main(argv=None) -> int:
    """Run the ``sklearn-ganad`` command line.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments after the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 2 on a user error (reported on stderr as
        ``sklearn-ganad: error: ...``), 130 when interrupted, 1 when the
        reader of ``-o -`` closed the pipe.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return args.run(args)
    except (CLIError, ModelFileError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of ``-o -`` (e.g. ``head``) stopped reading: quit quietly,
        # with stdout sent to devnull so that Python's final flush cannot fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:  # a folder not writable, a disk full, ...
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # Through the package's module, so that what a fit pickles (the progress
    # callback) names sklearn_ganad.cli rather than __main__.
    from sklearn_ganad.cli import main as _main

    sys.exit(_main())
