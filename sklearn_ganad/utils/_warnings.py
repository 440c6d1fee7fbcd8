"""Warnings that point at the user's code rather than at the library's."""

from __future__ import annotations

import os
import sys

import sklearn
import skorch

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INTERNAL_DIRS = tuple(
    os.path.dirname(os.path.abspath(module.__file__)) + os.sep for module in (skorch, sklearn)
) + (_PACKAGE_DIR + os.sep,)


def external_stacklevel() -> int:
    """The ``stacklevel`` for the caller's ``warnings.warn`` that names the first outside frame.

    Counts the frames, from the caller of this function outwards, that belong
    to sklearn_ganad, skorch or scikit-learn: a warning raised deep in a
    training loop is then reported at the user's ``fit`` call.
    """
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _INTERNAL_DIRS
    ):
        frame = frame.f_back
        level += 1
    return level
