"""Validation of what the deep agents are built with: shapes, action bounds, network outputs."""

from __future__ import annotations


import jax
import numpy as np
from chex import Array, Numeric
from flax import linen as nn

from agentax._validation import check_module
from agentax.errors import NetworkOutputError
from agentax.utils import forward, init


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


def check_outputs(name: str, network: nn.Module, inputs: tuple[Array, ...], valid, expected: str) -> None:
    """Raise :class:`NetworkOutputError` unless ``valid(shapes)`` holds for the shapes of what
    ``network`` returns for ``inputs`` (worked out without computing anything)."""
    check_module(name, network)

    def output(key):
        params, state = init(network, key, *inputs)
        return forward(network, params, state, key, *inputs)[0]

    shapes = jax.tree.map(lambda leaf: leaf.shape, jax.eval_shape(output, jax.random.PRNGKey(0)))
    if not valid(shapes):
        input_shapes = tuple(x.shape for x in inputs)
        raise NetworkOutputError(name, shapes, input_shapes[0] if len(inputs) == 1 else input_shapes, expected)
