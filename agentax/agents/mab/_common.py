"""Pieces shared by the bandit agents: their usual spaces and tie-breaking argmax."""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
from chex import Array, PRNGKey

REWARD_SPACE = gym.spaces.Box(-jnp.inf, jnp.inf, (1,), float)


class BanditSpaces(NamedTuple):
    """The observation spaces of an agent's ``update`` and ``sample``."""

    update: gym.spaces.Dict
    sample: gym.spaces.Dict


def bandit_spaces(n_arms: int) -> BanditSpaces:
    """Spaces of a bandit that learns from ``(action, reward)`` and samples from its state alone."""
    return BanditSpaces(
        update=gym.spaces.Dict({"action": gym.spaces.Discrete(n_arms), "reward": REWARD_SPACE}),
        sample=gym.spaces.Dict({}),
    )


def argmax_with_ties(values: Array, noise: Array) -> Array:
    """Index of a maximum of ``values``; among ties, the one with the largest ``noise``.

    With ``noise`` uniform on [0, 1) this breaks ties uniformly at random.
    """
    return jnp.argmax(jnp.where(values == jnp.max(values), noise, -1.0))


def argmax_random_tie(key: PRNGKey, values: Array) -> Array:
    """Index of a maximum of ``values``, uniformly at random among ties."""
    return argmax_with_ties(values, jax.random.uniform(key, values.shape))
