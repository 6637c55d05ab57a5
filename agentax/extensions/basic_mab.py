"""The extension every bandit agent can run on: it needs to know only the number of arms."""

from __future__ import annotations

import gymnasium as gym
import jax.numpy as jnp

from agentax._validation import check_positive_int
from agentax.extensions.base import BaseExt, observation, parameter

__all__ = ["BasicMab"]

_REWARD = gym.spaces.Box(-jnp.inf, jnp.inf, (1,), float)
_COUNT = gym.spaces.Box(0, jnp.inf, (1,), int)


class BasicMab(BaseExt):
    """Drives any multi-armed bandit from the reward alone: ``rl.sample(reward=r)``.

    Supplies the parameter ``n_arms`` and computes, from the reward of the last action:

    * ``n_successful = 1 if r > 0 else 0`` and ``n_failed = 1 - n_successful`` (a positive reward
      is one Bernoulli success), for Thompson sampling;
    * ``delta_time = 1`` (each call is one time unit), for agents that decay with time;
    * ``context = ones(n_arms)`` (every arm's success is worth the same), for agents that weigh
      arms by a context.

    Args:
      n_arms: the number of arms.

    Attributes:
      n: the number of arms (reinforced-lib's name for it; ``n_arms`` is the parameter method).
    """

    observation_space = gym.spaces.Dict({"reward": _REWARD})
    positional_names = ("reward",)  # rl.sample(r) is rl.sample(reward=r)

    def __init__(self, n_arms: int) -> None:
        super().__init__()
        self.n = check_positive_int("n_arms", n_arms)

    @parameter(parameter_type=gym.spaces.Box(1, jnp.inf, (1,), int))
    def n_arms(self) -> int:
        return self.n

    @observation(observation_type=_COUNT)
    def n_successful(self, reward):
        return jnp.where(reward > 0, 1, 0)

    @observation(observation_type=_COUNT)
    def n_failed(self, reward):
        return jnp.where(reward > 0, 0, 1)

    @observation(observation_type=gym.spaces.Box(0.0, jnp.inf, (1,), float))
    def delta_time(self):
        return jnp.float32(1.0)

    @observation(observation_type=lambda ext: gym.spaces.Box(-jnp.inf, jnp.inf, (ext.n,), float))
    def context(self):
        return jnp.ones(self.n)
