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
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
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
from .plotting import _fitted_detector
from .utils import all_detectors
from .utils._validation import FLOAT32_MAX, beyond_float32

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
    """Read a CSV, TSV or Parquet table whole; every failure is a CLIError."""
    return pd.concat(list(_read_chunks(path, None)), ignore_index=True)


def _read_chunks(path: str, chunksize: int | None) -> Iterator[pd.DataFrame]:
    """Yield a CSV, TSV or Parquet table ``chunksize`` rows at a time (None: whole).

    Only one chunk is in memory at a time. Every failure, also one met in a
    later chunk, is a CLIError; a table without rows is one too.
    """
    table_format = _table_format(path, "DATA")
    if not Path(path).is_file():
        raise CLIError(f"data file {path!r} not found.")
    n_rows = 0
    try:
        if table_format == "parquet":
            import pyarrow.parquet as pq

            table_file = pq.ParquetFile(path)
            batches = (
                table_file.iter_batches(batch_size=chunksize) if chunksize else [table_file.read()]
            )
            chunks = (batch.to_pandas() for batch in batches)
        else:
            sep = "\t" if table_format == "tsv" else ","
            chunks = (
                pd.read_csv(path, sep=sep, chunksize=chunksize)
                if chunksize
                else [pd.read_csv(path, sep=sep)]
            )
        for chunk in chunks:
            if len(chunk) == 0:
                continue
            n_rows += len(chunk)
            chunk.columns = [str(name) for name in chunk.columns]  # feature names are strings
            yield chunk
    except pd.errors.EmptyDataError:
        raise CLIError(f"data file {path!r} is empty.") from None
    except (CLIError, GeneratorExit):
        raise
    except Exception as exc:
        raise CLIError(f"cannot read {path!r} as {table_format.upper()}: {exc}") from None
    if n_rows == 0:
        raise CLIError(f"data file {path!r} has no rows.")


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


class _TableWriter:
    """Write a table chunk by chunk: CSV to stdout for ``-``, else a file by its extension.

    A file is written beside ``path`` under a temporary name and moved into
    place by :meth:`commit`, so that a run that fails half-way leaves no
    partial table (and does not touch an existing one). A compressed CSV or
    TSV (``.csv.gz``, ...) is compressed at the end, from the plain file
    written chunk by chunk, so memory does not grow with the table.
    """

    def __init__(self, path: str):
        self.path = path
        self.format = "csv" if path == _STDOUT else _table_format(path, "OUT")
        suffix = Path(path).suffix.lower()
        self.compression = suffix if suffix in _COMPRESSION_SUFFIXES else None
        self.started = False
        self.parquet_writer = None
        self.temporary = None if path == _STDOUT else _private_sibling(path)

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame`` (the first call writes the header)."""
        try:
            if self.path == _STDOUT:
                frame.to_csv(sys.stdout, index=False, header=not self.started)
            elif self.format == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                table = pa.Table.from_pandas(frame, preserve_index=False)
                if self.parquet_writer is None:
                    self.parquet_writer = pq.ParquetWriter(self.temporary, table.schema)
                self.parquet_writer.write_table(table)
            else:
                frame.to_csv(
                    self.temporary, sep="\t" if self.format == "tsv" else ",", index=False,
                    header=not self.started, mode="a" if self.started else "w",
                )  # fmt: skip
        except OSError as exc:
            raise CLIError(f"cannot write {self.path!r}: {exc.strerror or exc}") from None
        self.started = True

    def commit(self) -> None:
        """Move the written table into place (compressing it first if its name says so)."""
        if self.parquet_writer is not None:
            self.parquet_writer.close()
            self.parquet_writer = None
        if self.temporary is None:
            return
        if self.compression is not None:
            plain, self.temporary = self.temporary, _private_sibling(self.path)
            try:
                _compress(plain, self.temporary, self.compression, Path(self.path).stem)
            finally:
                Path(plain).unlink(missing_ok=True)
        os.replace(self.temporary, self.path)
        self.temporary = None

    def discard(self) -> None:
        """Remove what was written (a file; stdout cannot be taken back)."""
        if self.parquet_writer is not None:
            self.parquet_writer.close()
            self.parquet_writer = None
        if self.temporary is not None:
            Path(self.temporary).unlink(missing_ok=True)
            self.temporary = None


def _private_sibling(path: str) -> str:
    """A new empty file beside ``path``, with the mode a plain open would give it."""
    target = Path(path).resolve()
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    umask = os.umask(0)  # read it back: there is no getter
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)
    return name


def _compress(source: str, target: str, suffix: str, member: str) -> None:
    """Compress the file ``source`` into ``target`` as ``suffix`` says, in blocks."""
    import bz2
    import gzip
    import lzma
    import tarfile
    import zipfile

    if suffix == ".zip":
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(source, arcname=member)
        return
    if suffix == ".tar":
        with tarfile.open(target, "w") as archive:
            archive.add(source, arcname=member)
        return
    if suffix == ".zst":
        try:
            import zstandard
        except ImportError:
            raise CLIError("writing .zst needs the zstandard package") from None
        opener = zstandard.open
    else:
        opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix]
    with open(source, "rb") as plain, opener(target, "wb") as packed:
        shutil.copyfileobj(plain, packed, 1 << 20)


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


def _feature_matrix(
    frame: pd.DataFrame, feature_names: list[str], first_row: int = 0
) -> pd.DataFrame:
    """The features as float64, after checking each is finite.

    ``first_row`` is the table row of the frame's first row (for a chunk of a
    larger table): errors name the rows where they are.
    """
    if len(frame) == 0:
        raise CLIError("the data has no rows.")
    features = frame[feature_names]
    try:
        features = features.astype("float64")
    except (TypeError, ValueError) as exc:
        raise CLIError(f"the features cannot be read as numbers: {exc}") from None
    values = features.to_numpy()

    def where(bad: np.ndarray) -> str:
        """Counts per column and the first data row (1-based, as a spreadsheet counts)."""
        per_column = zip(feature_names, bad.sum(axis=0), strict=True)
        counts = ", ".join(f"{name!r} ({count})" for name, count in per_column if count)
        first = first_row + int(np.flatnonzero(bad.any(axis=1))[0]) + 1
        return f"{counts}, first in data row {first:,}"

    missing = np.isnan(values)
    if missing.any():
        raise CLIError(
            f"missing values (NaN) in feature column(s) {where(missing)}; drop or impute them, "
            "or leave these columns out (--columns/--exclude)."
        )
    infinite = np.isinf(values)
    if infinite.any():
        raise CLIError(f"infinite values in feature column(s) {where(infinite)}.")
    # Checked here, before a scaler squares them: 1e300 overflows float64 there.
    too_large = beyond_float32(values)
    if too_large.any():
        raise CLIError(
            f"value too large for float32 (|x| > {FLOAT32_MAX:.3g}) in feature column(s) "
            f"{where(too_large)}; the networks compute in float32: rescale these columns "
            "(e.g. a log transform)."
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}.")
    return value


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
    if args.chunksize is not None:
        return _fit_by_chunks(args, method, detector)
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
    return _report_fit(
        args, method, detector, feature_names, seconds,
        scaling=args.scale, n_rows=len(features), flagged=int(np.sum(labels == -1)),
        flagged_among=(len(features), ""),
        interrupted_at=f"epoch {len(detector.net_.history)}" if interrupted else None,
    )  # fmt: skip


def _report_fit(
    args, method, detector, feature_names, seconds, *, scaling, n_rows, flagged, flagged_among,
    extra_lines=(), interrupted_at=None,
) -> int:  # fmt: skip
    """Print fit's summary on stdout; return the exit status (130 if training was interrupted).

    ``flagged_among`` is ``(count, words)``: the training rows ``flagged``
    counts among, e.g. ``(6003, "a sample of ")``.
    """
    among, words = flagged_among
    print(f"method:    {method} (scaling: {scaling})")
    print(f"rows:      {n_rows}")
    print(f"features:  {len(feature_names)} ({_name_list(feature_names)})")
    for line in extra_lines:
        print(line)
    print(f"fit time:  {seconds:.2f} s")
    if getattr(detector, "best_epoch_", None) is not None:
        print(
            f"epochs:    {len(detector.net_.history)}; weights of epoch {detector.best_epoch_} "
            f"kept (lowest valid_loss on {detector.validation_fraction_:.0%} of the rows "
            "held out)"
        )
    print(f"offset_:   {detector.offset_:.6g}")
    print(
        f"flagged:   {flagged} of {words}{among} training rows "
        f"({flagged / among:.1%}; contamination {detector.contamination:g})"
    )
    print(f"model:     {args.output}")
    if interrupted_at is None:
        return 0
    print(
        f"{PROG}: training was interrupted ({interrupted_at}); the model holds what was trained",
        file=sys.stderr,
    )
    return 130


def _fit_by_chunks(args, method: str, detector) -> int:
    """``fit --chunksize``: ``partial_fit`` over the table's chunks, one pass per epoch.

    The first pass counts the rows; the passes are then the epochs ``fit``
    would train (``max_epochs``, with ``"auto"`` resolved for that count).
    The scaling is the detector's own (``preprocessing``), fitted on the first chunk:
    a Pipeline cannot train by chunks.
    """
    detector.set_params(preprocessing=None if args.scale == "none" else args.scale)
    feature_names, n_rows, passes, done = None, 0, None, 0
    progress = _RowProgress(enabled=not args.no_progress, verb="trained on")
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            if not args.keep_interrupted:
                warnings.simplefilter("error", TrainingInterruptedWarning)
            while passes is None or done < passes:
                seen = 0
                for frame in _at_least_two_rows(_read_chunks(args.data, args.chunksize)):
                    if feature_names is None:
                        feature_names = _select_feature_columns(
                            frame, args.columns, args.exclude or ()
                        )
                    elif missing := [n for n in feature_names if n not in frame.columns]:
                        raise CLIError(
                            f"a chunk of the data lacks column(s) {', '.join(map(repr, missing))}."
                        )
                    features = _feature_matrix(frame, feature_names, first_row=seen)
                    detector.partial_fit(features)
                    seen += len(features)
                    progress.update(seen, f"pass {done + 1}/{passes or '?'}")
                    if getattr(detector.net_, "interrupted_", False):
                        break
                if getattr(detector.net_, "interrupted_", False):
                    break
                done += 1
                if passes is None:
                    n_rows = seen
                    passes = detector._resolve_epochs(detector.max_epochs, n_rows)
    except ValueError as exc:
        raise CLIError(f"fitting {method} failed: {exc}") from None
    except TrainingInterruptedWarning:
        print(
            f"{PROG}: interrupted in training pass {done + 1}; no model written "
            "(--keep-interrupted writes what was trained)",
            file=sys.stderr,
        )
        return 130
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    interrupted = bool(getattr(detector.net_, "interrupted_", False))
    save_model(args.output, detector, feature_names=feature_names, method=method)
    # The rows offset_ was set on (a uniform sample of every pass's rows).
    sample = pd.DataFrame(detector._threshold_rows_, columns=feature_names)
    return _report_fit(
        args, method, detector, feature_names, seconds,
        scaling=f"{args.scale}, by chunks of {args.chunksize:,} rows", n_rows=n_rows,
        flagged=int(np.sum(detector.predict(sample) == -1)),
        flagged_among=(len(sample), "a sample of "), extra_lines=[f"passes:    {done}"],
        interrupted_at=f"pass {done + 1}" if interrupted else None,
    )  # fmt: skip


def _at_least_two_rows(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The chunks, with one of a single row merged into the one before (partial_fit needs 2)."""
    previous = None
    for chunk in chunks:
        if previous is not None and len(chunk) < 2:
            previous = pd.concat([previous, chunk], ignore_index=True)
            continue
        if previous is not None:
            yield previous
        previous = chunk
    if previous is not None:
        yield previous


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
    feature_names = list(header["feature_names"])
    offset = getattr(_final_estimator(model), "offset_", None)
    chunks = _read_chunks(args.data, args.chunksize)
    writer = None
    n_rows = n_flagged = 0
    progress = _RowProgress(enabled=not args.no_progress)
    try:
        for frame in chunks:
            if writer is None:  # the first chunk: check the columns once
                _check_score_columns(frame, feature_names, args)
                writer = _TableWriter(args.output)
            features = _feature_matrix(frame, feature_names, first_row=n_rows)
            try:
                scores = np.asarray(model.score_samples(features), dtype=np.float64)
                if offset is None:
                    labels = np.asarray(model.predict(features), dtype=int)
                else:
                    # predict's rule (decision_function < 0 is an outlier), without scoring twice.
                    labels = np.where(scores - offset < 0, -1, 1)
                explanations = (
                    list(_explanation_columns(model, features, feature_names, args.explain))
                    if args.explain
                    else []
                )
            except ValueError as exc:
                raise CLIError(f"scoring failed: {exc}") from None
            if args.only_scores:
                output = pd.DataFrame({args.score_column: scores, args.label_column: labels})
            else:
                output = frame
                output[args.score_column] = scores
                output[args.label_column] = labels
            for name, column in explanations:
                output[name] = column
            writer.write(output)
            n_rows += len(frame)
            n_flagged += int(np.sum(labels == -1))
            progress.update(n_rows)
        writer.commit()
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    finally:
        chunks.close()
        progress.close()

    destination = "stdout" if args.output == _STDOUT else args.output
    print(
        f"scored {n_rows} rows with {header.get('method', 'the model')}: {n_flagged} "
        f"({n_flagged / n_rows:.1%}) flagged as outliers; wrote {destination}",
        file=sys.stderr if args.output == _STDOUT else sys.stdout,
    )
    return 0


def _check_score_columns(frame: pd.DataFrame, feature_names: list[str], args) -> None:
    """The table has the model's features, as numbers, and no column the output would add."""
    explanation_names = _explanation_names(args.explain or 0)
    named = [name for name in (args.score_column, args.label_column) if name in explanation_names]
    if named:
        raise CLIError(
            f"--score-column/--label-column {', '.join(map(repr, named))} would be overwritten "
            "by --explain's columns; choose other names."
        )
    missing = [name for name in feature_names if name not in frame.columns]
    if missing:
        raise CLIError(
            f"the data lacks the model's feature column(s) {', '.join(map(repr, missing))}; "
            f"the model was fitted on: {', '.join(feature_names)}."
        )
    if args.explain and args.explain > len(feature_names):
        raise CLIError(
            f"--explain {args.explain} asks for more features than the model has "
            f"({len(feature_names)})."
        )
    if not args.only_scores:
        taken = [name for name in (args.score_column, args.label_column) if name in frame.columns]
        if taken:
            raise CLIError(
                f"the data already has column(s) {', '.join(map(repr, taken))}; name the "
                "output columns with --score-column/--label-column, or use --only-scores."
            )
        taken = [name for name in explanation_names if name in frame.columns]
        if taken:
            raise CLIError(
                f"the data already has column(s) {', '.join(map(repr, taken))}, which --explain "
                "adds; rename them in the data, or use --only-scores."
            )
    for name in feature_names:
        if not _is_numeric(frame[name]):
            raise CLIError(
                f"column {name!r} has dtype {frame[name].dtype}, not a number; "
                "features must be numeric."
            )


def _explanation_names(k: int) -> list[str]:
    """The columns ``--explain k`` adds, in order."""
    return [f"explain_{kind}_{rank}" for rank in range(1, k + 1)
            for kind in ("feature", "contribution")]  # fmt: skip


def _explanation_columns(model, features, feature_names, k: int):
    """Yield ``(column name, values)``: each row's k largest feature contributions."""
    transform, detector = _fitted_detector(model, "--explain")
    contributions = np.asarray(detector.feature_contributions(transform(features)))
    # The k largest per row, largest first; ties keep the features' order.
    top = np.argsort(-contributions, axis=1, kind="stable")[:, :k]
    names = np.asarray(feature_names, dtype=object)
    for rank in range(k):
        yield f"explain_feature_{rank + 1}", names[top[:, rank]]
        yield (
            f"explain_contribution_{rank + 1}",
            np.take_along_axis(contributions, top[:, rank : rank + 1], axis=1)[:, 0],
        )


class _RowProgress:
    """Rows done so far, on one stderr line; quiet when stderr is not a terminal."""

    def __init__(self, enabled: bool, verb: str = "scored"):
        self.enabled = enabled and sys.stderr.isatty()
        self.verb = verb
        self.shown = False

    def update(self, n_rows: int, note: str = "") -> None:
        if self.enabled:
            note = f" ({note})" if note else ""
            print(f"\r{self.verb} {n_rows:,} rows{note}", end="", file=sys.stderr, flush=True)
            self.shown = True

    def close(self) -> None:
        if self.shown:
            print(file=sys.stderr)


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
    fit.add_argument(
        "--chunksize",
        type=_positive_int,
        metavar="N",
        help="train by chunks of N rows (partial_fit), for tables larger than memory: as many "
        "passes over the file as fit would train epochs; the scaling (--scale) is then the "
        "detector's own, updated by chunk",
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
    score.add_argument(
        "--explain",
        type=_positive_int,
        metavar="K",
        help="add, per row, the K features that contribute most to its anomaly score: columns "
        "explain_feature_1..K (names) and explain_contribution_1..K (each one's part of the "
        "score; see feature_contributions). Costs a second pass over each chunk (for a score "
        "with a discriminator or latent term, 16 more: integrated gradients)",
    )
    score.add_argument(
        "--chunksize",
        type=_positive_int,
        default=100_000,
        metavar="N",
        help="read, score and write N rows at a time, so that memory does not grow with the "
        "table (default: 100000)",
    )
    score.add_argument(
        "--no-progress", action="store_true", help="no count of scored rows on stderr"
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
