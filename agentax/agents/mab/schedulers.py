"""Schedulers with the bandit interface: they pick arms without learning from rewards."""

from __future__ import annotations

from functools import partial

import gymnasium as gym
import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, dataclass

from agentax._validation import Int, validate
from agentax.agents._arms import uniform_arm
from agentax.agents.base import AgentState, BaseAgent

__all__ = [
    "RandomScheduler",
    "RandomSchedulerState",
    "RoundRobinScheduler",
    "RoundRobinSchedulerState",
]


class _Scheduler(BaseAgent):
    """What both schedulers share: ``n_arms`` arms, and no observations for ``update`` or ``sample``."""

    PARAMETERS = {"n_arms": Int()}

    def __init__(self, n_arms: int) -> None:
        self.n_arms = validate(self.PARAMETERS, n_arms=n_arms)["n_arms"]

    @property
    def update_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({})

    @property
    def sample_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({})

    @property
    def action_space(self) -> gym.spaces.Discrete:
        return gym.spaces.Discrete(self.n_arms)


@dataclass
class RoundRobinSchedulerState(AgentState):
    """State of :class:`RoundRobinScheduler`.

    Attributes:
      item: the arm ``sample`` returns, an ``int32`` scalar.
    """

    item: Array


class RoundRobinScheduler(_Scheduler):
    r"""Cycles through the arms in order: ``initial_item``, ``initial_item + 1``, ..., wrapping at ``n_arms``.

    ``sample`` returns the current item and is deterministic; ``update`` advances it,
    :math:`i \leftarrow (i + 1) \bmod K`. Rewards are ignored.

    It takes no observations, so the facade has nothing to refuse or clip.

    Args:
      n_arms: number of arms :math:`K`.
      initial_item: the first arm returned, in ``[0, n_arms)``.
    """

    PARAMETERS = {"n_arms": Int(), "initial_item": Int(0, "n_arms", high_open=True)}

    def __init__(self, n_arms: int, initial_item: int = 0) -> None:
        super().__init__(n_arms)
        initial_item = validate(self.PARAMETERS, n_arms=n_arms, initial_item=initial_item)[
            "initial_item"
        ]
        self.init = jax.jit(partial(self.init, item=initial_item))
        self.update = jax.jit(partial(self.update, n_arms=self.n_arms))
        self.sample = jax.jit(self.sample)

    @staticmethod
    def init(key: PRNGKey, item: int) -> RoundRobinSchedulerState:
        """Start at ``initial_item``."""
        return RoundRobinSchedulerState(item=jnp.asarray(item, dtype=jnp.int32))

    @staticmethod
    def update(
        state: RoundRobinSchedulerState, key: PRNGKey, n_arms: int
    ) -> RoundRobinSchedulerState:
        """Move to the next arm, wrapping around."""
        return RoundRobinSchedulerState(item=(state.item + 1) % n_arms)

    @staticmethod
    def sample(state: RoundRobinSchedulerState, key: PRNGKey) -> Array:
        """The current arm."""
        return state.item

    def action_probabilities(self, state: RoundRobinSchedulerState, key: PRNGKey) -> Array:
        """The exact distribution of :meth:`sample`: all mass on the current arm."""
        return (jnp.arange(self.n_arms) == state.item).astype(jnp.float32)


@dataclass
class RandomSchedulerState(AgentState):
    """State of :class:`RandomScheduler`: empty, the scheduler has no memory."""


class RandomScheduler(_Scheduler):
    """Picks an arm uniformly at random at every ``sample``; ``update`` does nothing.

    It takes no observations, so the facade has nothing to refuse or clip.

    Args:
      n_arms: number of arms.
    """

    def __init__(self, n_arms: int) -> None:
        super().__init__(n_arms)
        self.init = jax.jit(self.init)
        self.update = jax.jit(self.update)
        self.sample = jax.jit(partial(self.sample, n_arms=self.n_arms))

    @staticmethod
    def init(key: PRNGKey) -> RandomSchedulerState:
        """The empty state."""
        return RandomSchedulerState()

    @staticmethod
    def update(state: RandomSchedulerState, key: PRNGKey) -> RandomSchedulerState:
        """Nothing to learn: the state is returned unchanged."""
        return state

    @staticmethod
    def sample(state: RandomSchedulerState, key: PRNGKey, n_arms: int) -> Array:
        """A uniformly random arm."""
        return uniform_arm(jax.random.uniform(key), n_arms)

    def action_probabilities(self, state: RandomSchedulerState, key: PRNGKey) -> Array:
        """The exact distribution of :meth:`sample`: :math:`1 / K` on every arm."""
        return jnp.full(self.n_arms, 1.0 / self.n_arms, jnp.float32)
