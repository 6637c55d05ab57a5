r"""The propensity of each action the facade samples: the probability the agent's policy gave it.

With ``RLib(record_propensity=True)``, after each :meth:`~agentax.RLib.sample` or
:meth:`~agentax.RLib.decide` the facade evaluates :math:`p = \pi(a \mid s, x)`: the agent's
``action_probabilities(state, key, **observations)`` at the chosen action :math:`a`, in the state
:math:`s` the action was sampled from (after the step's update) with the observations :math:`x`
the sample read. It is one more compiled call, made only when the option is on. The probability
is exact where the agent's ``action_probabilities`` is, and the agent's stated Monte-Carlo
estimate otherwise (Thompson sampling), drawn from a key derived from the instance's key and step
count, independent of the keys of its steps.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from agentax.agents.base import BaseAgent
from agentax.errors import AgentaxError

_STREAM = 0x50524F50  # fold_in data of the key behind a Monte-Carlo propensity


def check_agent(agent: BaseAgent) -> None:
    """Refuse an agent whose policy has no ``action_probabilities`` (nor, for a wrapper, its inner agent's)."""
    inner = getattr(agent, "agent", None)
    if isinstance(inner, BaseAgent):
        check_agent(inner)
    if getattr(agent, "action_probabilities", None) is None:
        raise AgentaxError(
            f"{type(agent).__name__} has no action_probabilities(state, key, ...), so the facade cannot record "
            f"the propensity of its actions; use an agent that has one (see the off-policy evaluation docs) "
            f"or record_propensity=False"
        )


@jax.jit
def gather(tree: Any, ids: Any) -> Any:
    """Rows ``ids`` of every leaf of ``tree``, in new buffers (the step then donates ``tree``)."""
    return jax.tree.map(lambda x: x[ids], tree)


class PropensityRecorder:
    """Computes the propensities of one facade's agent, one compiled function per observation plan.

    Args:
      agent: the facade's agent (checked by :func:`check_agent`).
    """

    def __init__(self, agent: BaseAgent) -> None:
        check_agent(agent)
        self._agent = agent
        self._functions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __call__(
        self,
        build: Callable,
        state_def,
        stack,
        ids,
        counts,
        raw,
        last_actions,
        actions,
        batched: bool,
    ) -> np.ndarray:
        """The propensity of ``actions`` of instances ``ids`` (a scalar, or ``K`` of them).

        Args:
          build: ``build(raw, last_action)``, the sample observations of the step (its plan's).
          state_def: the tree structure of the agent's state.
          stack: the facade's instance stack after the step (state leaves, keys, last actions).
          ids, raw, batched: the step's instances, raw inputs and whether it stepped ``K`` of them.
          counts: the instances' step counts, folded into the Monte-Carlo key (instance keys are fixed).
          last_actions: the instances' last actions before the step.
          actions: the actions the step sampled.
        """
        function = self._functions.get(build)
        if function is None:
            function = self._functions[build] = jax.jit(
                self._compile(build, state_def), static_argnums=7
            )
        counts = np.asarray(counts, np.uint64).astype(
            np.uint32
        )  # mod 2**32: enough to vary the draws
        return np.asarray(
            function(stack.states, stack.keys, ids, counts, raw, last_actions, actions, batched)
        )

    def _compile(self, build: Callable, state_def) -> Callable:
        probabilities = self._agent.action_probabilities

        def one(leaves, key, count, raw, last_action, action):
            state = jax.tree.unflatten(state_def, leaves)
            key = jax.random.fold_in(jax.random.fold_in(key, _STREAM), count)
            return probabilities(state, key, **build(raw, last_action))[action]

        def run(leaves, keys, ids, counts, raw, last_actions, actions, batched):
            rows = jax.tree.map(lambda x: x[ids], (leaves, keys))
            return (jax.vmap(one) if batched else one)(*rows, counts, raw, last_actions, actions)

        return run
