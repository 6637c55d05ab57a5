"""Hyperparameter validation shared by the agents' constructors.

Every check raises :class:`ValueError` that names the parameter, its value and what was expected,
at construction time and in Python, never as an ``assert`` that ``python -O`` would drop.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

__all__ = ["check_positive_int", "check_range", "check_shape", "check_module"]


def check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is a whole number ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_range(
    name: str,
    value: object,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a ``float`` if it lies in the interval from ``low`` to ``high``.

    ``low_open``/``high_open`` exclude the bound. NaN is always rejected.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if math.isnan(value) or too_low or too_high:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return value


def check_shape(name: str, value: object, minimum: int = 0) -> tuple[int, ...]:
    """Return ``value`` as a tuple of ``int`` if it is a sequence of whole numbers ``>= minimum``."""
    dims = list(value) if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str) else None
    if dims is None or not all(
        isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= minimum for d in dims
    ):
        raise ValueError(f"{name} must be a sequence of integers >= {minimum}, got {value!r}")
    return tuple(int(d) for d in dims)


def check_module(name: str, value: object) -> None:
    """Raise ``ValueError`` unless ``value`` is a :class:`flax.linen.Module` object (a network)."""
    from flax import linen as nn

    if not isinstance(value, nn.Module):
        raise ValueError(f"{name} must be a flax.linen.Module object (e.g. MyNetwork()), got {value!r}")
