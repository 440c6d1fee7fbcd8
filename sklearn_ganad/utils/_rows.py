"""Rows of a memory-mapped array, scaled as they are read: data larger than memory."""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator

import numpy as np

# Rows per block when a memory-mapped array is read through (validation,
# scaler fitting, min and max): a few MB for tables of a hundred features.
BLOCK_ROWS = 1 << 16


def is_memory_mapped(X) -> bool:
    """Whether ``X`` is (a view of) a memory-mapped array, such as ``np.load(mmap_mode="r")``.

    Parameters
    ----------
    X : object

    Returns
    -------
    mapped : bool
    """
    while isinstance(X, np.ndarray):
        if isinstance(X, np.memmap):
            return True
        X = X.base
    return isinstance(X, mmap.mmap)


class ScaledRows:
    """A 2-D float32 array read on demand: the rows asked for, scaled then.

    The net's batch iterator and its chunked scoring only ever ask for a
    block of rows, so training and scoring on a memory-mapped array keep one
    batch (or one scoring chunk) in memory rather than the whole array, and
    the scaling is applied to that block alone (element-wise, so the result
    equals scaling the whole array).

    Parameters
    ----------
    array : ndarray of shape (n_samples, n_features), float32
        Typically a memory-mapped array; it is never copied whole.
    transform : callable or None
        Applied to each block read (a fitted scaler's ``transform``).
    """

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, array: np.ndarray, transform: Callable | None = None):
        self.array = array
        self.transform = transform

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_samples, n_features)``."""
        return self.array.shape

    def __len__(self) -> int:
        return self.array.shape[0]

    def __getitem__(self, index) -> np.ndarray:
        """The rows ``index`` (a slice or integer array), scaled, as a new float32 array."""
        if isinstance(index, tuple):
            raise TypeError("ScaledRows are indexed by rows only.")
        if not isinstance(index, slice):
            # Read in file order (a sequential read), then restore the order asked for.
            index = np.asarray(index)
            order = np.argsort(index, kind="stable")
            rows = np.empty((len(index), self.shape[1]), dtype=np.float32)
            rows[order] = self.array[index[order]]
        else:
            rows = np.array(self.array[index], dtype=np.float32)
        if self.transform is not None:
            rows = np.asarray(self.transform(rows), dtype=np.float32)
        return np.require(rows, dtype=np.float32, requirements=["C", "W"])

    def blocks(self, size: int | None = None) -> Iterator[np.ndarray]:
        """Yield the scaled rows in order, ``size`` (default ``BLOCK_ROWS``) at a time."""
        size = size or BLOCK_ROWS
        for start in range(0, len(self), size):
            yield self[start : start + size]


def iter_blocks(X, size: int | None = None) -> Iterator[np.ndarray]:
    """Yield the rows of ``X`` (an array or :class:`ScaledRows`) ``size`` at a time."""
    size = size or BLOCK_ROWS
    if isinstance(X, ScaledRows):
        yield from X.blocks(size)
    else:
        for start in range(0, len(X), size):
            yield X[start : start + size]
