"""Pieces shared by the bandit agents: their usual spaces and tie-breaking argmax."""

from __future__ import annotations

import gymnasium as gym
import jax
import jax.numpy as jnp
from chex import Array, PRNGKey

from agentax.agents.base import BaseAgent

REWARD_SPACE = gym.spaces.Box(-jnp.inf, jnp.inf, (1,), float)


class RewardBandit(BaseAgent):
    """A bandit over ``n_arms`` arms that learns from ``(action, reward)`` and samples from its state.

    Gives the spaces such agents share; subclasses set ``self.n_arms`` in their constructor.
    """

    n_arms: int

    @property
    def update_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({"action": gym.spaces.Discrete(self.n_arms), "reward": REWARD_SPACE})

    @property
    def sample_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({})

    @property
    def action_space(self) -> gym.spaces.Discrete:
        return gym.spaces.Discrete(self.n_arms)


def argmax_with_ties(values: Array, noise: Array) -> Array:
    """Index of a maximum of ``values``; among ties, the one with the largest ``noise``.

    With ``noise`` uniform on [0, 1) this breaks ties uniformly at random.
    """
    return jnp.argmax(jnp.where(values == jnp.max(values), noise, -1.0))


def argmax_random_tie(key: PRNGKey, values: Array) -> Array:
    """Index of a maximum of ``values``, uniformly at random among ties."""
    return argmax_with_ties(values, jax.random.uniform(key, values.shape))
