"""Model files: a fitted detector (or pipeline) with a checked header, for Python and the CLI.

A model file holds a small header (format, versions, method, feature names,
SHA-256 digests), pickled on its own as plain data, and then the fitted
estimator written by joblib. :func:`save_model` writes it,
:func:`read_model_header` reads the header without unpickling the estimator,
and :func:`load_model` checks the header and the estimator's digest before
unpickling it. ``sklearn-ganad fit`` and ``score`` use the same functions.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import pickletools
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import joblib
import sklearn
import torch
from sklearn.pipeline import Pipeline

from ._version import __version__

__all__ = [
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "ModelFileError",
    "save_model",
    "read_model_header",
    "load_model",
]

#: The ``format`` entry of every model file's header.
MODEL_FORMAT = "sklearn-ganad-model"
#: The layout version of the model files this module writes and reads.
MODEL_FORMAT_VERSION = 2


class ModelFileError(ValueError):
    """A file that is not a model file of this sklearn-ganad version.

    Raised by :func:`read_model_header` and :func:`load_model` for a file
    that is not a sklearn-ganad model file, or one written in another
    format or by another version of sklearn-ganad.
    """


def _final_estimator(model):
    # Not split_fitted_detector: a header is read from any model, fitted or not.
    return model.steps[-1][1] if isinstance(model, Pipeline) else model


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
