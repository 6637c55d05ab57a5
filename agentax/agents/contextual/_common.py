"""What the contextual bandits share: the spaces of their observations."""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import jax.numpy as jnp

from agentax.agents._arms import REWARD_SPACE
from agentax.agents.base import BaseAgent

__all__ = ["ContextualBandit", "ContextualSpaces", "contextual_spaces"]


class ContextualSpaces(NamedTuple):
    """The observation spaces of a contextual bandit's ``update`` and ``sample``."""

    update: gym.spaces.Dict
    sample: gym.spaces.Dict


def contextual_spaces(n_arms: int, n_features: int) -> ContextualSpaces:
    """Spaces of a bandit with one feature vector per arm.

    * ``sample(context)``: ``context`` has shape ``(n_arms, n_features)``, row ``a`` describing
      arm ``a`` now;
    * ``update(action, reward, action_context)``: the arm played, its reward, and
      ``action_context`` of shape ``(n_features,)``: the row of ``context`` of that arm when it was
      chosen. It has its own name so that one facade call can carry the previous step's
      ``action_context`` and ``reward`` together with the next step's ``context``.
    """
    features = gym.spaces.Box(-jnp.inf, jnp.inf, (n_features,), float)
    return ContextualSpaces(
        update=gym.spaces.Dict(
            {
                "action": gym.spaces.Discrete(n_arms),
                "reward": REWARD_SPACE,
                "action_context": features,
            }
        ),
        sample=gym.spaces.Dict(
            {"context": gym.spaces.Box(-jnp.inf, jnp.inf, (n_arms, n_features), float)}
        ),
    )


class ContextualBandit(BaseAgent):
    """A bandit with ``n_arms`` arms of ``n_features`` features each: the spaces of
    :func:`contextual_spaces` and one discrete action."""

    n_arms: int
    n_features: int

    @property
    def update_observation_space(self) -> gym.spaces.Dict:
        return contextual_spaces(self.n_arms, self.n_features).update

    @property
    def sample_observation_space(self) -> gym.spaces.Dict:
        return contextual_spaces(self.n_arms, self.n_features).sample

    @property
    def action_space(self) -> gym.spaces.Discrete:
        return gym.spaces.Discrete(self.n_arms)
