"""Sliding-window UCB: the upper confidence bound over the last ``window`` steps only."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar, dataclass

from agentax._validation import Int, Real, validate
from agentax.agents._arms import argmax_random_tie, greedy_probabilities, one_hot, ucb_indices
from agentax.agents.base import AgentState
from agentax.agents.mab._common import RewardBandit

__all__ = ["SWUCB", "SWUCBState"]


@dataclass
class SWUCBState(AgentState):
    """State of :class:`SWUCB`: the window as a ring buffer and its per-arm sums.

    Attributes:
      actions: arm of each of the last ``window`` steps, shape ``(window,)``; -1 for an empty slot.
      rewards: reward of each of those steps, shape ``(window,)``.
      position: the slot the next step overwrites (the oldest one).
      R: sum of the rewards of each arm inside the window, shape ``(n_arms,)``.
      N: number of pulls of each arm inside the window, shape ``(n_arms,)``.
    """

    actions: Array
    rewards: Array
    position: Array
    R: Array
    N: Array


class SWUCB(RewardBandit):
    r"""Sliding-window UCB (SW-UCB): UCB on the last :math:`\tau` steps, forgetting older ones.

    With :math:`N_a` and :math:`R_a` the pulls and reward sum of arm :math:`a` among the last
    :math:`\tau` steps (``window``), and :math:`n = \sum_b N_b = \min(t, \tau)`, sampling picks an
    arm not pulled inside the window if there is one, else

    .. math::
        \arg\max_a \; \frac{R_a}{N_a} + c \sqrt{\frac{\ln n}{N_a}}

    with ties broken uniformly at random. In the paper's notation :math:`c = B\sqrt{\xi}`
    (:math:`B` bounds the rewards; the paper uses :math:`\xi = 0.6`) and, for a horizon :math:`T`
    with :math:`\Upsilon` switches, :math:`\tau = 2B\sqrt{T \ln T / \Upsilon}`.

    The window is a ring buffer in the state; each update removes the oldest step from the sums
    and adds the new one, so the cost of a step does not depend on ``window``. (The sums are kept
    incrementally: exact for rewards in {0, 1}, within float32 rounding otherwise.)

    Args:
      n_arms: number of arms.
      window: :math:`\tau`, the number of most recent steps the agent remembers.
      c: exploration weight :math:`c \ge 0`.

    Reference:
      A. Garivier, E. Moulines, *On Upper-Confidence Bound Policies for Switching Bandit
      Problems*, Algorithmic Learning Theory (ALT), 2011 (arXiv:0805.3415).
    """

    PARAMETERS = {"n_arms": Int(), "window": Int(), "c": Real(0.0)}

    def __init__(self, n_arms: int, window: int, c: Scalar = 0.6**0.5) -> None:
        self.n_arms, self.window, c = validate(
            self.PARAMETERS, n_arms=n_arms, window=window, c=c
        ).values()
        self.init = jax.jit(partial(self.init, n_arms=self.n_arms, window=self.window))
        self.update = jax.jit(self.update)
        self.sample = jax.jit(partial(self.sample, c=c))
        self.action_probabilities = jax.jit(partial(self.action_probabilities, c=c))

    @staticmethod
    def init(key: PRNGKey, n_arms: int, window: int) -> SWUCBState:
        """An empty window."""
        return SWUCBState(
            actions=jnp.full(window, -1, jnp.int32),
            rewards=jnp.zeros(window, jnp.float32),
            position=jnp.int32(0),
            R=jnp.zeros(n_arms, jnp.float32),
            N=jnp.zeros(n_arms, jnp.float32),
        )

    @staticmethod
    def update(state: SWUCBState, key: PRNGKey, action: Array, reward: Scalar) -> SWUCBState:
        """Drop the oldest step of the window (if full) and add this one."""
        n_arms, slot = state.N.size, state.position
        reward = jnp.asarray(reward, jnp.float32)
        leaving = one_hot(state.actions[slot], n_arms).astype(
            jnp.float32
        )  # zeros for an empty slot
        entering = one_hot(action, n_arms).astype(jnp.float32)
        return SWUCBState(
            actions=state.actions.at[slot].set(jnp.asarray(action, jnp.int32)),
            rewards=state.rewards.at[slot].set(reward),
            position=(slot + 1) % state.actions.size,
            R=state.R - leaving * state.rewards[slot] + entering * reward,
            N=state.N - leaving + entering,
        )

    @staticmethod
    def sample(state: SWUCBState, key: PRNGKey, c: float) -> Array:
        """An arm absent from the window if any, else the arm of highest windowed bound."""
        return argmax_random_tie(key, ucb_indices(state.R, state.N, c))

    @staticmethod
    def action_probabilities(state: SWUCBState, key: PRNGKey, c: float) -> Array:
        """The exact distribution of :meth:`sample`: uniform over the arms of highest windowed bound."""
        return greedy_probabilities(ucb_indices(state.R, state.N, c))
