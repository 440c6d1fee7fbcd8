"""Input checks shared by the estimators and the command line: shapes, widths, columns, ranges."""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np


def check_image_shape(image_shape) -> tuple[int, int, int]:
    """Return ``image_shape`` as a ``(C, H, W)`` tuple of positive ints.

    Parameters
    ----------
    image_shape : tuple of int
        ``(C, H, W)``, or ``(H, W)`` for one channel.

    Returns
    -------
    image_shape : tuple of int (C, H, W)

    Raises
    ------
    ValueError
        If it has not 2 or 3 positive integer entries.
    """
    values = tuple(image_shape)
    valid = len(values) in (2, 3) and all(
        isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in values
    )
    if not valid:
        raise ValueError(
            f"image_shape must be (C, H, W) or (H, W) with positive integers, got {image_shape!r}."
        )
    if len(values) == 2:
        values = (1, *values)
    return tuple(int(v) for v in values)


def check_image_shape_matches(image_shape: tuple, n_features: int) -> None:
    """Raise if ``image_shape`` does not hold exactly ``n_features`` values.

    Parameters
    ----------
    image_shape : tuple of int (C, H, W)
    n_features : int

    Raises
    ------
    ValueError
    """
    expected = math.prod(image_shape)
    if expected != n_features:
        raise ValueError(
            f"image_shape={image_shape} implies {expected} features, but X has {n_features}."
        )


def check_widths(name: str, widths) -> tuple[int, ...]:
    """Return ``widths`` as a tuple of positive ints, or raise naming ``name``.

    Parameters
    ----------
    name : str
        The parameter's name, for the error message.
    widths : sequence of int

    Returns
    -------
    widths : tuple of int
    """
    values = tuple(widths)
    if not all(isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"{name} must contain positive integers, got {widths!r}.")
    return tuple(int(v) for v in values)


def check_numeric_columns(X) -> None:
    """Refuse a DataFrame with a column that is not a number, naming the columns.

    Booleans, nullable integers and floats, and categoricals of numbers pass
    (scikit-learn converts them); strings, dates, durations and objects do
    not, and would otherwise fail deep inside pandas with a message about a
    value rather than a column.

    Parameters
    ----------
    X : object
        Anything; only a :class:`pandas.DataFrame` is checked.

    Raises
    ------
    ValueError
        If a column of ``X`` is not numeric.
    """
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        return
    bad = []
    for position in range(X.shape[1]):
        column = X.iloc[:, position]
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            dtype = dtype.categories.dtype
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            bad.append(f"{X.columns[position]!r} ({column.dtype})")
    if bad:
        shown = ", ".join(bad[:8]) + (f" and {len(bad) - 8} more" if len(bad) > 8 else "")
        raise ValueError(
            f"X has non-numeric column(s) {shown}; every feature must be a number: encode "
            "these columns (e.g. with a OneHotEncoder) or drop them."
        )


def check_not_ragged(X) -> None:
    """Refuse a nested sequence whose rows differ in length, before numpy does.

    Parameters
    ----------
    X : object
        Anything; only a list or tuple of sequences is checked.

    Raises
    ------
    ValueError
        If ``X`` is a list or tuple whose items have different lengths.
    """
    if not isinstance(X, list | tuple) or not X:
        return
    lengths = {
        len(row) if hasattr(row, "__len__") and not isinstance(row, str) else None for row in X
    }
    if len(lengths) > 1:
        described = sorted(n for n in lengths if n is not None)
        raise ValueError(
            f"X is ragged: its rows have different lengths ({', '.join(map(str, described))}"
            f"{', and scalars' if None in lengths else ''}); give one row per sample, all of "
            "the same length."
        )


#: The largest magnitude a float32 network can hold.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def count_beyond_float32(values) -> np.ndarray:
    """Per column, how many values of a 2-D array exceed float32's range.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_features)

    Returns
    -------
    counts : ndarray of shape (n_features,)
    """
    return beyond_float32(values).sum(axis=0)


def beyond_float32(values) -> np.ndarray:
    """Where the values of an array exceed float32's range (a boolean array of its shape).

    Parameters
    ----------
    values : ndarray

    Returns
    -------
    mask : ndarray of bool
    """
    return np.abs(values) > FLOAT32_MAX
