"""Contiguous runs in boolean masks: the stretches that filters, metrics and feedback work on."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IndexArray = npt.NDArray[np.intp]


def true_runs(mask: npt.ArrayLike) -> tuple[IndexArray, IndexArray]:
    """Start (inclusive) and stop (exclusive) indices of every run of True in a 1-D mask."""
    padded = np.concatenate(([0], np.asarray(mask, dtype=bool).astype(np.int8), [0]))
    edges = np.diff(padded)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
