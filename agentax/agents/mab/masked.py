"""A wrapper that keeps any discrete-action agent off a set of masked arms."""

from __future__ import annotations

from functools import partial
from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from chex import Array, PRNGKey, dataclass

from agentax._validation import Int, validate
from agentax.agents._arms import pick_tied_max
from agentax.agents.base import AgentState, BaseAgent
from agentax.agents.mab._common import WrapperBandit
from agentax.errors import AllArmsMaskedError, UnsupportedAgentError

__all__ = ["Masked", "MaskedState"]

_RETRY_STREAM = 0x4D41534B  # fold_in data of the retry keys: far above the indices split() uses


@dataclass
class MaskedState(AgentState):
    """State of :class:`Masked`.

    Attributes:
      agent_state: the wrapped agent's state.
      mask: boolean, shape ``(n_arms,)``; ``True`` marks an arm that must not be played.
    """

    agent_state: AgentState
    mask: Array


class Masked(WrapperBandit):
    r"""Wraps a discrete-action agent so that ``sample`` never returns a masked arm.

    ``update`` is the wrapped agent's. ``sample`` asks the wrapped agent for an arm with the given
    key; while the arm is masked it asks again with fresh keys, at most ``max_tries`` times in all,
    then falls back to a uniformly random unmasked arm. So it always terminates, and when the
    wrapped agent plays a masked arm with probability :math:`p` the result differs from its
    choice conditioned on an unmasked arm by at most :math:`p^{\text{max\_tries}}` in total
    variation; an agent that insists on a masked arm (e.g. a greedy argmax) gets a uniformly
    random unmasked arm. When the first arm is unmasked (the common case) the wrapper costs one
    comparison: the result is exactly the wrapped agent's for the same key.

    As in reinforced-lib's experimental ``Masked``, ``True`` entries of ``mask`` are the arms to
    exclude, and the mask lives in the state (:class:`MaskedState`): instances vmapped together
    may have different masks, and the mask can change between steps — use :meth:`with_mask`,
    which checks it. If a state nevertheless masks every arm, ``sample`` returns a uniformly
    random arm (no allowed arm exists).

    The wrapper keeps the wrapped agent's spaces: observations, action and, on the instance,
    :meth:`parameter_space` (so the facade refuses and clips what it does for the wrapped agent).
    Arms' statistics are not frozen while masked: the wrapped agent
    updates as it always does (a masked arm is never played, so only updates that touch every
    arm, such as discounting, reach it).

    Args:
      agent: a constructed agent with a :class:`gymnasium.spaces.Discrete` action space.
      mask: ``n_arms`` booleans (or 0/1 values); ``True`` excludes the arm.
      max_tries: how many times to ask the wrapped agent before the uniform fallback.

    Raises:
      UnsupportedAgentError: ``agent`` is not an agent object with a ``Discrete`` action space.
      ValueError: ``mask`` is not ``n_arms`` booleans, or ``max_tries`` is not a positive integer.
      AllArmsMaskedError: ``mask`` excludes every arm.
    """

    #: The wrapper's own parameter; :meth:`parameter_space` is the wrapped agent's.
    PARAMETERS = {"max_tries": Int()}

    def __init__(self, agent: BaseAgent, mask: Any, max_tries: int = 8) -> None:
        if not isinstance(agent, BaseAgent) or not isinstance(
            agent.action_space, gym.spaces.Discrete
        ):
            raise UnsupportedAgentError(
                "Masked",
                agent,
                "a constructed agent (e.g. EGreedy(n_arms=4, e=0.1)) with a Discrete action space",
            )
        self.agent = agent
        self.n_arms = int(agent.action_space.n)
        mask = self.check_mask(mask)
        max_tries = validate(self.PARAMETERS, max_tries=max_tries)["max_tries"]
        self.parameter_space = agent.parameter_space
        self.init = jax.jit(partial(self.init, agent=agent, mask=mask))
        self.update = jax.jit(partial(self.update, agent=agent))
        self.sample = jax.jit(partial(self.sample, agent=agent, max_tries=max_tries))

    def check_mask(self, mask: Any) -> np.ndarray:
        """``mask`` as a boolean array of shape ``(n_arms,)``, after checking it.

        Raises:
          ValueError: it is not ``n_arms`` values that are each ``True``/``False`` or 0/1.
          AllArmsMaskedError: every arm is masked.
        """
        array = np.asarray(mask)
        if array.shape != (self.n_arms,):
            raise ValueError(
                f"mask must have shape ({self.n_arms},) (one entry per arm), got shape {array.shape}"
            )
        if array.dtype.kind not in "biuf" or not np.all((array == 0) | (array == 1)):
            raise ValueError(f"mask must hold booleans (or 0/1), got {mask!r}")
        array = array.astype(bool)
        if array.all():
            raise AllArmsMaskedError(self.n_arms)
        return array

    def with_mask(self, state: MaskedState, mask: Any) -> MaskedState:
        """``state`` with a new mask, checked as in the constructor (for one unbatched state)."""
        return state.replace(mask=jnp.asarray(self.check_mask(mask)))

    @staticmethod
    def init(key: PRNGKey, agent: BaseAgent, mask: np.ndarray) -> MaskedState:
        """The wrapped agent's initial state and the constructor's mask."""
        return MaskedState(agent_state=agent.init(key), mask=jnp.asarray(mask))

    @staticmethod
    def update(
        state: MaskedState, key: PRNGKey, *args: Any, agent: BaseAgent, **observations: Any
    ) -> MaskedState:
        """The wrapped agent's update; the mask is kept."""
        return MaskedState(
            agent_state=agent.update(state.agent_state, key, *args, **observations), mask=state.mask
        )

    @staticmethod
    def sample(
        state: MaskedState,
        key: PRNGKey,
        *args: Any,
        agent: BaseAgent,
        max_tries: int,
        **observations: Any,
    ) -> Array:
        """The wrapped agent's arm if unmasked; else retries, then a uniformly random unmasked arm.

        The retries are the wrapped agent's draws with the keys ``fold_in(key, stream + i)``,
        ``i < max_tries - 1``, made together (vectorized) rather than one by one in a loop, and the
        result is the first unmasked one, else the fallback drawn with ``i = max_tries - 1``: the
        arm a sequential retry loop would return. Without a data-dependent loop the function
        compiles with IREE (whose 3.13 compiler fails on a ``while`` carrying the loop's constants,
        docs/export.rst); unbatched, the retries run only when the first arm is masked.
        """
        first = agent.sample(state.agent_state, key, *args, **observations)

        def retry(_):
            keys = jax.vmap(lambda i: jax.random.fold_in(key, _RETRY_STREAM + i))(
                jnp.arange(max_tries, dtype=jnp.uint32)
            )
            fallback = pick_tied_max(
                (~state.mask).astype(jnp.float32), jax.random.uniform(keys[-1])
            )
            retries = jax.vmap(
                lambda retry_key: agent.sample(state.agent_state, retry_key, *args, **observations)
            )(keys[:-1])
            arms = jnp.concatenate(
                [retries.astype(first.dtype), fallback[None].astype(first.dtype)]
            )
            allowed = (~state.mask[arms]).at[-1].set(True)  # the fallback ends the retries
            return arms[jnp.argmax(allowed)]

        return jax.lax.cond(state.mask[first], retry, lambda _: first, None)
