"""Turning analysis numbers into JSON values: NaN and infinities become None, numpy scalars
become Python ones. Results are read by browsers and phones, whose JSON has no NaN."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def finite_or_none(value: float | np.floating[Any] | None) -> float | None:
    """``value`` as a Python float, or None when it is missing, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def json_safe(value: Any) -> Any:
    """A copy of ``value`` (nested dicts, lists, tuples, arrays, scalars) that
    ``json.dumps(..., allow_nan=False)`` accepts."""
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, np.ndarray):
        return [json_safe(item) for item in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return finite_or_none(value)
    return value
