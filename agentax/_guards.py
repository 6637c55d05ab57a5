"""Checks the facade's compiled step makes on what it is about to accept.

Values a caller gives are checked in Python before the step (:func:`agentax.spaces.converter`);
values an extension computes inside the step are traced, so they are checked there, against the
agent's own observation spaces, together with the state the update produced. The step reports one
integer per instance: ``-1`` when everything holds, else the index of the first problem in the
list ``update observations, sample observations, state leaves`` (see :func:`problem_names`), and
the facade refuses the whole call when any instance has one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from agentax.spaces import array_dtype, value_bounds

__all__ = ["observation_leaves", "within_bounds", "first_problem", "problem_names"]


def observation_leaves(
    space: gym.spaces.Space | None, values: Any, path: str = ""
) -> list[tuple[str, Any, Any]]:
    """``(name, leaf space, value)`` for every value in ``values`` that ``space`` describes.

    Dict and Tuple spaces are walked with the values (``"context"``, ``"obs.position"``,
    ``"pair[1]"``); names the space does not list, and ``space=None``, give nothing to check.
    """
    if space is None:
        return []
    if isinstance(space, gym.spaces.Dict):
        return [
            leaf
            for key, sub in space.spaces.items()
            if isinstance(values, Mapping) and key in values
            for leaf in observation_leaves(sub, values[key], f"{path}.{key}" if path else key)
        ]
    if isinstance(space, gym.spaces.Tuple):
        return [
            leaf
            for i, sub in enumerate(space.spaces)
            for leaf in observation_leaves(sub, values[i], f"{path}[{i}]")
        ]
    return [(path, space, values)]


def within_bounds(space: gym.spaces.Space, value: Any) -> jax.Array:
    """Whether every element of ``value`` lies in :func:`agentax.spaces.value_bounds` of ``space``.

    NaN and infinities are outside (the bounds are finite); works on traced values.
    """
    if array_dtype(space).kind == "b":
        return jnp.bool_(True)
    low, high = value_bounds(space)
    value = jnp.asarray(value)
    return jnp.all((value >= low.astype(value.dtype)) & (value <= high.astype(value.dtype)))


def first_problem(
    update_space: gym.spaces.Space | None,
    update_values: Mapping[str, Any],
    did_update: jax.Array,
    sample_space: gym.spaces.Space | None,
    sample_values: Mapping[str, Any],
    state_leaves: tuple,
) -> jax.Array:
    """Index of the first problem of one instance's step (``-1``: none), for use inside ``jit``.

    A problem is an observation the update used (when ``did_update``) or the sample used that lies
    outside the agent's bounds, or a floating state leaf the step made non-finite.
    """
    bad = [
        ~within_bounds(space, value) & did_update
        for _, space, value in observation_leaves(update_space, update_values)
    ]
    bad += [
        ~within_bounds(space, value)
        for _, space, value in observation_leaves(sample_space, sample_values)
    ]
    bad += [
        ~jnp.all(jnp.isfinite(leaf))
        for leaf in state_leaves
        if jnp.issubdtype(leaf.dtype, jnp.inexact)
    ]
    if not bad:
        return jnp.int32(-1)
    bad = jnp.stack(bad)
    return jnp.where(jnp.any(bad), jnp.argmax(bad), -1).astype(jnp.int32)


def problem_names(
    update_space: gym.spaces.Space | None,
    update_values: Mapping[str, Any],
    sample_space: gym.spaces.Space | None,
    sample_values: Mapping[str, Any],
    state: Any,
) -> list[tuple[str, str, Any, Any]]:
    """What each index :func:`first_problem` returns stands for, in its order.

    Returns:
      ``(kind, name, space, value)``: kind ``"update"`` or ``"sample"`` for an observation (with its
      leaf space and value), ``"state"`` for a state leaf (with ``None`` and the leaf).
    """
    names = [
        ("update", name, space, value)
        for name, space, value in observation_leaves(update_space, update_values)
    ]
    names += [
        ("sample", name, space, value)
        for name, space, value in observation_leaves(sample_space, sample_values)
    ]
    paths = jax.tree_util.tree_flatten_with_path(state)[0]
    names += [
        ("state", jax.tree_util.keystr(path).lstrip("."), None, leaf)
        for path, leaf in paths
        if np.issubdtype(np.asarray(leaf).dtype, np.inexact)
    ]
    return names
