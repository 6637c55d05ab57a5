"""Base classes of the multi-armed bandits: a bandit learning from rewards, a bandit wrapping another."""

from __future__ import annotations

import gymnasium as gym

from agentax.agents._arms import REWARD_SPACE
from agentax.agents.base import BaseAgent

__all__ = ["RewardBandit", "WrapperBandit"]


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


class WrapperBandit(BaseAgent):
    """A bandit around another one (``self.agent``), taking the observations and giving the actions it does.

    Subclasses set ``self.agent`` in their constructor.
    """

    agent: BaseAgent

    @property
    def update_observation_space(self) -> gym.spaces.Space | None:
        return self.agent.update_observation_space

    @property
    def sample_observation_space(self) -> gym.spaces.Space | None:
        return self.agent.sample_observation_space

    @property
    def action_space(self) -> gym.spaces.Discrete:
        return self.agent.action_space
