"""Input checks shared by the estimators: image shapes and network widths."""

from __future__ import annotations

import math
from numbers import Integral


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
