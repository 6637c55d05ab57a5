"""The agent contract: a state dataclass and three pure functions described by gymnasium spaces.

An agent is built like an optax optimizer: its constructor validates the hyperparameters, closes
over the static configuration with :func:`functools.partial` and wraps each of ``init``,
``update`` and ``sample`` in :func:`jax.jit` once. The functions themselves are static methods,
so they can be called, vmapped and scanned without the facade.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

import gymnasium as gym
from chex import dataclass

from agentax._validation import Parameter, parameter_space

__all__ = ["AgentState", "BaseAgent"]


@dataclass
class AgentState:
    """Base class of agent states: a :func:`chex.dataclass` that holds only arrays.

    Concrete agents subclass it with their own fields. Never store a Python integer that sets an
    array shape here: under :func:`jax.jit` it becomes a tracer.
    """


class BaseAgent(ABC):
    """Base class of every agent.

    Subclasses implement three static methods and, so that the facade can fill in observations
    and parameters, the spaces that describe them:

    * ``init(key, ...) -> AgentState`` builds the initial state;
    * ``update(state, key, ...) -> AgentState`` returns the state after an observation;
    * ``sample(state, key, ...) -> action`` picks an action and never changes the state.

    The constructor binds the static configuration and replaces each method by a jitted partial,
    so ``agent.init(key)`` needs only the key.

    Attributes:
      update_on_first_step: whether the facade also calls ``update`` at an instance's first step.
        Bandits learn from ``(action, reward)`` pairs, which do not exist yet then (``False``);
        agents that learn from consecutive environment states need the first one (``True``).
    """

    update_on_first_step: bool = False

    #: The constructor's hyperparameters and their ranges (see :mod:`agentax._validation`): the
    #: one source of :meth:`parameter_space` and of the constructor's checks
    #: (``validate(self.PARAMETERS, ...)``). Arguments that are not numbers, flags or shapes
    #: (networks, optimizers, names of variants) are not in it.
    PARAMETERS: ClassVar[Mapping[str, Parameter]] = {}

    #: Optional ``sample_greedy(state, key, ...) -> action``: the best action without exploration,
    #: with the same observations as ``sample``. Agents that explore deliberately (epsilon-greedy
    #: deep agents, Gaussian action noise) define it; ``RLib.sample(..., greedy=True)`` uses it.
    sample_greedy = None

    @staticmethod
    @abstractmethod
    def init(key, *args, **kwargs) -> AgentState:
        """Build the initial state from a PRNG key."""

    @staticmethod
    @abstractmethod
    def update(state: AgentState, key, *args, **kwargs) -> AgentState:
        """Return the state updated with one observation."""

    @staticmethod
    @abstractmethod
    def sample(state: AgentState, key, *args, **kwargs):
        """Return an action drawn from the state."""

    @classmethod
    def parameter_space(cls) -> gym.spaces.Dict:
        """Constructor parameters as a :class:`gymnasium.spaces.Dict`, derived from ``PARAMETERS``."""
        return parameter_space(cls.PARAMETERS)

    @property
    def update_observation_space(self) -> gym.spaces.Space | None:
        """Observations ``update`` takes, by name; ``None`` if the agent does not say."""
        return None

    @property
    def sample_observation_space(self) -> gym.spaces.Space | None:
        """Observations ``sample`` takes, by name; ``None`` if the agent does not say."""
        return None

    @property
    def action_space(self) -> gym.spaces.Space | None:
        """The space of the actions ``sample`` returns; ``None`` if the agent does not say."""
        return None
