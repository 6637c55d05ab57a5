"""Validation of what the deep agents are built with: shapes and action bounds (network outputs:
:func:`agentax.agents.deep.check_network_output`)."""

from __future__ import annotations

import numpy as np
from chex import Numeric


def action_bounds(
    min_action: Numeric, max_action: Numeric, shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The bounds as float32 arrays of ``shape``; ``ValueError`` unless ``min_action < max_action``."""
    try:
        low = np.broadcast_to(np.asarray(min_action, np.float32), shape)
        high = np.broadcast_to(np.asarray(max_action, np.float32), shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"min_action and max_action must be numbers or arrays of shape {shape}, got {min_action!r}, {max_action!r}"
        ) from None
    if np.any(np.isnan(low)) or np.any(np.isnan(high)) or not np.all(low < high):
        raise ValueError(
            f"min_action must be below max_action everywhere, got {min_action!r} and {max_action!r}"
        )
    return low, high
