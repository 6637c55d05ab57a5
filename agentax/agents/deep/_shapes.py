"""Validation of what the deep agents are built with: shapes and action bounds (network outputs:
:func:`agentax.agents.deep.check_network_output`)."""

from __future__ import annotations

import numbers

import numpy as np
from chex import Numeric, Shape

from agentax.agents._checks import check_shape


def as_shape(name: str, shape: Shape | int) -> tuple[int, ...]:
    """``shape`` as a tuple of positive ints (an int ``n`` is ``(n,)``, as in reinforced-lib)."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    return check_shape(name, shape, minimum=1)


def action_bounds(min_action: Numeric, max_action: Numeric, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The bounds as float32 arrays of ``shape``; ``ValueError`` unless ``min_action < max_action``."""
    try:
        low = np.broadcast_to(np.asarray(min_action, np.float32), shape)
        high = np.broadcast_to(np.asarray(max_action, np.float32), shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"min_action and max_action must be numbers or arrays of shape {shape}, got {min_action!r}, {max_action!r}"
        ) from None
    if np.any(np.isnan(low)) or np.any(np.isnan(high)) or not np.all(low < high):
        raise ValueError(f"min_action must be below max_action everywhere, got {min_action!r} and {max_action!r}")
    return low, high
