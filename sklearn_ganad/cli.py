"""The ``sklearn-ganad`` command line: fit a detector on a table, score a table, run the demo.

::

    sklearn-ganad fit train.csv -o model.ganad --method EGBAD --exclude label
    sklearn-ganad score model.ganad new.parquet -o scored.parquet
    sklearn-ganad demo --digits 0 --epochs-scale 0.25

Tables are CSV (``.csv``, ``.tsv``, optionally compressed, e.g. ``.csv.gz``)
or Parquet (``.parquet``, ``.pq``; needs pyarrow). A model file holds a small
header (format, versions, method, feature names), pickled on its own, and
then the fitted estimator written by joblib; :func:`save_model` and
:func:`load_model` read and write the same format from Python.

User errors print one line starting with ``sklearn-ganad: error:`` on stderr
and exit with status 2. ``python -m sklearn_ganad.cli`` runs the same program.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import io
import json
import os
import pickle
import pickletools
import platform
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from skorch.callbacks import Callback
from tqdm import tqdm

from . import ALAD, EGBAD, AnoGAN, FAnoGAN, GANomaly, __version__, demo
from ._net import epoch_losses
from .exceptions import TrainingInterruptedWarning

__all__ = [
    "CLIError",
    "ModelFileError",
    "EpochProgressBar",
    "save_model",
    "read_model_header",
    "load_model",
    "build_parser",
    "main",
]

PROG = "sklearn-ganad"

#: The detectors the command line can fit, by their canonical names.
METHODS = {"GANomaly": GANomaly, "EGBAD": EGBAD, "ALAD": ALAD, "AnoGAN": AnoGAN, "FAnoGAN": FAnoGAN}

#: The ``format`` entry of every model file's header.
MODEL_FORMAT = "sklearn-ganad-model"
#: The layout version of the model files this module writes and reads.
MODEL_FORMAT_VERSION = 2

_SCALERS = {"none": None, "standard": StandardScaler, "minmax": MinMaxScaler}
_TABLE_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
# Compressions pandas infers from the file name; CSV and TSV only.
_COMPRESSION_SUFFIXES = {".gz", ".bz2", ".zip", ".xz", ".zst", ".tar"}
_STDOUT = "-"
_PARQUET_HINT = "install pyarrow (pip install sklearn-ganad[parquet])"


class CLIError(Exception):
    """A user error of the command line: reported in one line, exit status 2."""


class ModelFileError(ValueError):
    """A file that is not a model file of this sklearn-ganad version.

    Raised by :func:`read_model_header` and :func:`load_model` for a file
    that is not a sklearn-ganad model file, or one written in another
    format or by another version of sklearn-ganad.
    """


# -- progress ------------------------------------------------------------------


class EpochProgressBar(Callback):
    """skorch callback: one tqdm bar per training call, advanced once per epoch.

    The bar is written to ``sys.stderr`` (looked up when training starts) and
    shows the last epoch's losses as its postfix.

    Parameters
    ----------
    stages : list of (str, int or None) or None, default=None
        Label and number of epochs of each successive training call of the
        net (f-AnoGAN, for one, trains its GAN with ``fit`` and then its
        encoder with ``partial_fit``); ``None`` epochs are read from the net
        when the call starts (``GANNet.planned_epochs_``), which is how
        ``max_epochs="auto"`` is shown. Calls beyond the list, or every call
        when ``None``, are labelled ``"training"``.
    """

    def __init__(self, stages=None):
        self.stages = stages

    def initialize(self):
        """Reset the count of training calls; skorch calls it before ``fit``.

        Returns
        -------
        self : EpochProgressBar
        """
        self.n_training_calls_ = 0
        self.bar_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Open the bar of this training call.

        Parameters
        ----------
        net : skorch.NeuralNet
        X, y : Ignored
        **kwargs : dict
            Ignored.
        """
        stages = list(self.stages or [])
        call = getattr(self, "n_training_calls_", 0)
        label, epochs = stages[call] if call < len(stages) else ("training", None)
        if epochs is None:
            epochs = getattr(net, "planned_epochs_", net.max_epochs)
        self.n_training_calls_ = call + 1
        self.bar_ = tqdm(
            total=epochs, desc=label, unit="epoch", file=sys.stderr, leave=True, disable=False
        )

    def on_epoch_end(self, net, **kwargs):
        """Advance the bar by one epoch and show the epoch's losses.

        Parameters
        ----------
        net : skorch.NeuralNet
        **kwargs : dict
            Ignored.
        """
        if getattr(self, "bar_", None) is None:
            return
        self.bar_.set_postfix(_short_losses(net.history[-1]), refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Close the bar.

        Parameters
        ----------
        net : skorch.NeuralNet
        X, y : Ignored
        **kwargs : dict
            Ignored.
        """
        if getattr(self, "bar_", None) is not None:
            self.bar_.close()
        self.bar_ = None

    def __getstate__(self):
        # A bar holds a stream; a pickled (saved) net keeps none.
        state = dict(self.__dict__)
        state["bar_"] = None
        return state


def _short_losses(epoch: dict) -> dict:
    """The losses of one epoch of skorch's history, with short names, formatted."""
    losses = {}
    for key, value in epoch_losses(epoch).items():
        name = "loss" if key == "train_loss" else key.removeprefix("train_loss_")
        losses[name] = f"{value:.4g}"
    return losses


def _training_stages(method: str, detector) -> list[tuple[str, int]]:
    """Label and epochs of each training call that ``detector.fit`` makes."""
    # The epochs are read from the net as each call starts ("auto" resolves in fit).
    if isinstance(detector, FAnoGAN):
        return [(f"{method} GAN", None), (f"{method} encoder", None)]
    return [(method, None)]


# -- model files ---------------------------------------------------------------


class _HeaderUnpickler(pickle.Unpickler):
    """Reads plain data only: a header never needs a class, so none is imported."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"a model header holds no objects, found {module}.{name}")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("a model header holds no persistent references")


#: The only pickle opcodes a header may hold: plain dicts, lists, strings and
#: numbers. Anything that imports or calls (GLOBAL, STACK_GLOBAL, REDUCE,
#: BUILD, INST, OBJ, NEWOBJ, PERSID, EXT1/2/4, ...) is refused before loading:
#: extension codes already cached by copyreg would not reach ``find_class``.
_HEADER_OPCODES = frozenset(
    """PROTO FRAME STOP MARK POP POP_MARK DUP MEMOIZE PUT BINPUT LONG_BINPUT GET BINGET
    LONG_BINGET NONE NEWTRUE NEWFALSE INT BININT BININT1 BININT2 LONG LONG1 LONG4 FLOAT
    BINFLOAT UNICODE SHORT_BINUNICODE BINUNICODE BINUNICODE8 EMPTY_DICT DICT SETITEM
    SETITEMS EMPTY_LIST LIST APPEND APPENDS EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3""".split()
)
#: A header is a few hundred bytes; one that does not end within this many is not one.
_HEADER_MAX_BYTES = 1 << 20
#: The header's entries and their types; ``feature_names`` is a list of str.
_HEADER_FIELDS = {
    "format": str,
    "format_version": int,
    "sklearn_ganad_version": str,
    "sklearn_version": str,
    "torch_version": str,
    "python_version": str,
    "method": str,
    "feature_names": list,
    "created": str,
    "payload_bytes": int,
    "payload_sha256": str,
    "header_sha256": str,
}
_DIGEST_CHUNK = 1 << 20


def _header_digest(header: dict) -> str:
    """SHA-256 of the header's entries (all but ``header_sha256``), as canonical JSON."""
    content = {key: value for key, value in header.items() if key != "header_sha256"}
    text = json.dumps(content, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _payload_digest(file) -> tuple[str, int]:
    """SHA-256 and length of what remains of an open file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    while chunk := file.read(_DIGEST_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def save_model(path, model, *, feature_names, method):
    """Write a fitted detector (or pipeline) to a sklearn-ganad model file.

    The file holds a pickled header dictionary followed by ``model`` written
    with :func:`joblib.dump`, so that :func:`read_model_header` (and the
    checks of :func:`load_model`) read the header without unpickling the
    estimator. The header records the SHA-256 digest and length of the
    estimator's bytes and a digest of its own entries, so that a file changed
    anywhere after it was written is refused before anything is unpickled.
    The file is written to a temporary name in the same folder and then
    renamed, so an interrupted write never leaves half a model.

    Parameters
    ----------
    path : str or os.PathLike
        The model file; an existing file is replaced.
    model : estimator
        A fitted outlier detector or a :class:`~sklearn.pipeline.Pipeline`
        ending in one, with ``score_samples``.
    feature_names : sequence of str
        The columns ``model`` was fitted on, in order; ``sklearn-ganad
        score`` selects them from the tables it scores.
    method : str
        The detector's name, e.g. ``"GANomaly"``; recorded for information.

    Returns
    -------
    header : dict
        The header written: ``format``, ``format_version``,
        ``sklearn_ganad_version``, ``sklearn_version``, ``torch_version``,
        ``python_version``, ``method``, ``feature_names``, ``created`` (UTC,
        ISO 8601), ``payload_bytes`` and ``payload_sha256`` (the estimator's
        bytes) and ``header_sha256`` (the other entries, as canonical JSON).

    Raises
    ------
    ValueError
        If ``feature_names`` are not strings, or differ from the model's
        ``feature_names_in_``.
    """
    feature_names = list(feature_names)
    if not all(isinstance(name, str) for name in feature_names):
        raise ValueError(f"feature_names must be strings, got {feature_names!r}.")
    fitted_names = getattr(model, "feature_names_in_", None)
    if fitted_names is not None and list(fitted_names) != feature_names:
        raise ValueError(
            f"feature_names {feature_names} differ from the model's feature_names_in_ "
            f"{list(fitted_names)}."
        )
    payload = io.BytesIO()
    joblib.dump(model, payload)
    payload = payload.getbuffer()
    header = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "sklearn_ganad_version": __version__,
        "sklearn_version": str(sklearn.__version__),
        "torch_version": str(torch.__version__),
        "python_version": platform.python_version(),
        "method": str(method),
        "feature_names": feature_names,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "payload_bytes": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    header["header_sha256"] = _header_digest(header)
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(descriptor, "wb") as file:
            pickle.dump(header, file, protocol=4)
            file.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return header


def _load_header_pickle(head: bytes) -> tuple[dict, int]:
    """Unpickle the header at the start of ``head``; return it and its length in bytes.

    Every opcode is checked before anything is loaded: a header is plain data.
    """
    end = None
    for opcode, _, position in pickletools.genops(head):
        if opcode.name not in _HEADER_OPCODES:
            raise pickle.UnpicklingError(
                f"a model header holds plain data only, found the opcode {opcode.name}"
            )
        if opcode.name == "STOP":
            end = position + 1
            break
    if end is None:  # pragma: no cover - genops raises first
        raise pickle.UnpicklingError("the header does not end")
    return _HeaderUnpickler(io.BytesIO(head[:end])).load(), end


def _check_header_fields(header: dict, path) -> None:
    """Every entry present with its type, then the header's own digest."""
    missing = [key for key in _HEADER_FIELDS if key not in header]
    if missing:
        raise ModelFileError(f"{path} has a malformed model header: it lacks {', '.join(missing)}.")
    for key, kind in _HEADER_FIELDS.items():
        value = header[key]
        # bool is an int to isinstance, never a valid count here.
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ModelFileError(
                f"{path} has a malformed model header: {key} is a {type(value).__name__}, "
                f"not a {kind.__name__}."
            )
    if not all(isinstance(name, str) for name in header["feature_names"]):
        raise ModelFileError(
            f"{path} has a malformed model header: feature_names is not a list of strings."
        )
    if header["header_sha256"] != _header_digest(header):
        raise ModelFileError(
            f"{path} is corrupted: its header does not match the digest written with it."
        )


def _read_header(file, path) -> dict:
    """Read and check the header at the start of an open model file.

    The file is left positioned at the first byte of the estimator.
    """
    start = file.tell()
    head = file.read(_HEADER_MAX_BYTES)
    try:
        header, length = _load_header_pickle(head)
    except Exception as exc:
        if len(head) == _HEADER_MAX_BYTES and "exhausted" in str(exc):
            exc = f"no header within its first {_HEADER_MAX_BYTES} bytes"
        raise ModelFileError(
            f"{path} is not a sklearn-ganad model file (its header cannot be read: {exc})."
        ) from None
    file.seek(start + length)
    if not isinstance(header, dict) or header.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{path} is not a sklearn-ganad model file.")
    format_version = header.get("format_version")
    if format_version != MODEL_FORMAT_VERSION:
        raise ModelFileError(
            f"{path} is a sklearn-ganad model file of format version {format_version}; "
            f"sklearn-ganad {__version__} reads format version {MODEL_FORMAT_VERSION}."
        )
    _check_header_fields(header, path)
    return header


def read_model_header(path) -> dict:
    """Return the header of a model file without unpickling the estimator.

    The header's entries are checked against the digest written with them;
    the estimator's bytes are checked by :func:`load_model`.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_model` (or ``sklearn-ganad fit``).

    Returns
    -------
    header : dict
        See :func:`save_model`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If ``path`` is not a sklearn-ganad model file, is of another format
        version, or has a malformed or changed header.
    """
    with open(path, "rb") as file:
        return _read_header(file, path)


def _is_package_detector(model) -> bool:
    from .base import BaseGANDetector

    return isinstance(_final_estimator(model), BaseGANDetector)


def _read_model_file(path) -> tuple[dict, object]:
    """Check the header, the estimator's digest, then the version; then unpickle."""
    with open(path, "rb") as file:
        header = _read_header(file, path)
        payload_start = file.tell()
        digest, size = _payload_digest(file)
        if size != header["payload_bytes"] or digest != header["payload_sha256"]:
            what = (
                f"the estimator has {size} bytes where the header says {header['payload_bytes']}"
                if size != header["payload_bytes"]
                else "the estimator's bytes do not match the SHA-256 digest in its header"
            )
            raise ModelFileError(
                f"{path} is corrupted or truncated: {what}; nothing was unpickled."
            )
        written_by = header["sklearn_ganad_version"]
        if written_by != __version__:
            raise ModelFileError(
                f"model written by sklearn-ganad {written_by}, this is {__version__}; "
                f"refit it, or install sklearn-ganad=={written_by}"
            )
        file.seek(payload_start)
        try:
            model = joblib.load(file)
        except Exception as exc:
            raise ModelFileError(
                f"{path} has a sklearn-ganad header but its estimator cannot be read "
                f"({type(exc).__name__}: {exc})."
            ) from None
    if not _is_package_detector(model):
        raise ModelFileError(
            f"{path} holds a {type(model).__name__}, not a sklearn-ganad detector (or a "
            "Pipeline ending in one)."
        )
    return header, model


def load_model(path):
    """Read a model file written by :func:`save_model` or ``sklearn-ganad fit``.

    The header is read first, without unpickling anything but plain data;
    the estimator is unpickled only when the file was written by this
    version of sklearn-ganad. Unpickling runs code: load only files you trust.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    model : estimator
        The fitted detector, or the :class:`~sklearn.pipeline.Pipeline`
        (steps ``"scaler"`` and ``"detector"``) that ``sklearn-ganad fit``
        writes unless ``--scale none``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If ``path`` is not a sklearn-ganad model file; is of another format
        version; has a malformed header; was changed or truncated after it
        was written (its digests do not match: checked before unpickling); was
        written by another version of sklearn-ganad; or holds something other
        than a sklearn-ganad detector or a Pipeline ending in one.
    """
    return _read_model_file(path)[1]


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
    limit = float(np.finfo(np.float32).max)
    n_too_large = pd.Series((np.abs(values) > limit).sum(axis=0), index=features.columns)
    if n_too_large.any():
        counts = ", ".join(f"{name!r} ({count})" for name, count in n_too_large.items() if count)
        raise CLIError(
            f"value too large for float32 (|x| > {limit:.3g}) in feature column(s) {counts}; "
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
    for name in METHODS:
        if name.lower() == key:
            return name
    raise argparse.ArgumentTypeError(
        f"unknown method {text!r}; choose from {', '.join(METHODS)} (any case)."
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
    detector = METHODS[method]()
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


def _final_estimator(model):
    return model.steps[-1][1] if isinstance(model, Pipeline) else model


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
        metavar="{" + ",".join(METHODS) + "}",
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
