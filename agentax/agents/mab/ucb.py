"""Upper confidence bound bandit, with optional discounting for non-stationary problems."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar, dataclass

from agentax._validation import Int, Real, validate
from agentax.agents._arms import argmax_random_tie, greedy_probabilities, ucb_indices
from agentax.agents.base import AgentState
from agentax.agents.mab._common import RewardBandit

__all__ = ["UCB", "UCBState"]


@dataclass
class UCBState(AgentState):
    """State of :class:`UCB`.

    Attributes:
      R: discounted sum of the rewards of each arm, shape ``(n_arms,)``.
      N: discounted number of pulls of each arm, shape ``(n_arms,)`` (float; plain counts when
        ``gamma == 1``, exact up to :math:`2^{24}` pulls).
    """

    R: Array
    N: Array


class UCB(RewardBandit):
    r"""Discounted upper confidence bound (D-UCB); with ``gamma = 1`` it is UCB1 with exploration ``c``.

    Update, after arm :math:`A` gave reward :math:`r`, for every arm :math:`a`:

    .. math::
        R_a \leftarrow \gamma R_a + \mathbb{1}_{a = A}\, r, \qquad
        N_a \leftarrow \gamma N_a + \mathbb{1}_{a = A}

    so a pull :math:`k` updates ago weighs :math:`\gamma^k` and the agent forgets the distant past.

    Sampling: an arm with :math:`N_a = 0` (never tried) if there is one, else

    .. math::
        \arg\max_a \; \frac{R_a}{N_a} + c \sqrt{\frac{\ln \max\!\left(\sum_b N_b,\ 1\right)}{N_a}}

    with ties (and the choice among untried arms) broken uniformly at random. In the paper's
    notation :math:`c = 2B\sqrt{\xi}`, with :math:`B` a bound on the rewards.

    Refused, nothing clipped: through :class:`agentax.RLib`, a reward that is not finite in float32
    raises :class:`~agentax.errors.ObservationError` (also when an extension computes it), and an
    update that would make the state non-finite :class:`~agentax.errors.NonFiniteStateError`.

    Args:
      n_arms: number of arms.
      c: exploration weight :math:`c \ge 0`.
      gamma: discount factor in (0, 1]; 1 keeps plain sums and counts.

    Reference:
      A. Garivier, E. Moulines, *On Upper-Confidence Bound Policies for Switching Bandit
      Problems*, Algorithmic Learning Theory (ALT), 2011 (arXiv:0805.3415).
    """

    PARAMETERS = {"n_arms": Int(), "c": Real(0.0), "gamma": Real(0.0, 1.0, low_open=True)}

    def __init__(self, n_arms: int, c: Scalar, gamma: Scalar = 1.0) -> None:
        self.n_arms, c, gamma = validate(self.PARAMETERS, n_arms=n_arms, c=c, gamma=gamma).values()
        self.init = jax.jit(partial(self.init, n_arms=self.n_arms))
        self.update = jax.jit(partial(self.update, gamma=gamma))
        self.sample = jax.jit(partial(self.sample, c=c))
        self.action_probabilities = jax.jit(partial(self.action_probabilities, c=c))

    @staticmethod
    def init(key: PRNGKey, n_arms: int) -> UCBState:
        """No rewards and no pulls."""
        return UCBState(
            R=jnp.zeros(n_arms, dtype=jnp.float32), N=jnp.zeros(n_arms, dtype=jnp.float32)
        )

    @staticmethod
    def update(
        state: UCBState, key: PRNGKey, action: Array, reward: Scalar, gamma: float
    ) -> UCBState:
        """Discount every arm's sums, then add the pull and its reward."""
        reward = jnp.asarray(reward, jnp.float32)
        return UCBState(
            R=(gamma * state.R).at[action].add(reward).astype(state.R.dtype),
            N=(gamma * state.N).at[action].add(1.0).astype(state.N.dtype),
        )

    @staticmethod
    def sample(state: UCBState, key: PRNGKey, c: float) -> Array:
        """An untried arm if any, else the arm of highest upper confidence bound."""
        tried = state.N > 0
        N = jnp.where(tried, state.N, 1.0)  # a safe divisor; untried arms score +inf below
        log_total = jnp.log(jnp.maximum(jnp.sum(state.N), 1.0))
        bound = state.R / N + c * jnp.sqrt(log_total / N)
        return argmax_random_tie(key, jnp.where(tried, bound, jnp.inf))

    @staticmethod
    def action_probabilities(state: UCBState, key: PRNGKey, c: float) -> Array:
        """The exact distribution of :meth:`sample`: uniform over the untried arms, else over the best bounds."""
        return greedy_probabilities(ucb_indices(state.R, state.N, c))
