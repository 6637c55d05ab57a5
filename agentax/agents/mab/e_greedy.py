"""Epsilon-greedy bandit with optional optimistic start, decaying epsilon and constant step size."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar, dataclass

from agentax._validation import Int, Real, validate
from agentax.agents._arms import decayed, greedy_probabilities, one_hot, pick_tied_max, uniform_arm
from agentax.agents.base import AgentState
from agentax.agents.mab._common import RewardBandit

__all__ = ["EGreedy", "EGreedyState"]


@dataclass
class EGreedyState(AgentState):
    """State of :class:`EGreedy`.

    Attributes:
      Q: estimated value of each arm, shape ``(n_arms,)``.
      N: number of times each arm was updated, shape ``(n_arms,)``.
      e: the current exploration probability.
    """

    Q: Array
    N: Array
    e: Array


class EGreedy(RewardBandit):
    r"""Epsilon-greedy action selection with incremental value estimates.

    Update, after arm :math:`a` gave reward :math:`r`:

    .. math::
        N_a \leftarrow N_a + 1, \qquad
        Q_a \leftarrow Q_a + \eta\,(r - Q_a), \quad
        \eta = \begin{cases} 1/N_a & \alpha = 0 \text{ (sample average)} \\
                              \alpha & \text{otherwise (recency weighted)} \end{cases}, \qquad
        \epsilon \leftarrow \max(\epsilon \cdot \epsilon_{decay}, \epsilon_{min})

    Sampling: with probability :math:`\epsilon` a uniformly random arm, otherwise
    :math:`\arg\max_a Q_a` (ties broken uniformly at random), all from one uniform draw.

    Refused, nothing clipped: through :class:`agentax.RLib`, a reward that is not finite in float32
    raises :class:`~agentax.errors.ObservationError` (also when an extension computes it), and an
    update that would make the state non-finite :class:`~agentax.errors.NonFiniteStateError`.

    Args:
      n_arms: number of arms.
      e: initial exploration probability, in [0, 1].
      e_min: lower bound of the decayed epsilon, in [0, e].
      e_decay: factor applied to epsilon after each update, in [0, 1].
      optimistic_start: initial value of every :math:`Q_a` (large values encourage trying all arms).
      alpha: constant step size in [0, 1]; 0 uses the sample average.

    Reference:
      R. S. Sutton, A. G. Barto, *Reinforcement Learning: An Introduction*, 2nd ed., MIT Press,
      2018, sections 2.2 to 2.6.
    """

    PARAMETERS = {
        "n_arms": Int(),
        "e": Real(0.0, 1.0),
        "e_min": Real(0.0, "e"),
        "e_decay": Real(0.0, 1.0),
        "optimistic_start": Real(),
        "alpha": Real(0.0, 1.0),
    }

    def __init__(
        self,
        n_arms: int,
        e: Scalar,
        e_min: Scalar = 0.0,
        e_decay: Scalar = 1.0,
        optimistic_start: Scalar = 0.0,
        alpha: Scalar = 0.0,
    ) -> None:
        self.n_arms, e, e_min, e_decay, optimistic_start, alpha = validate(
            self.PARAMETERS,
            n_arms=n_arms,
            e=e,
            e_min=e_min,
            e_decay=e_decay,
            optimistic_start=optimistic_start,
            alpha=alpha,
        ).values()
        self.init = jax.jit(
            partial(self.init, n_arms=self.n_arms, e=e, optimistic_start=optimistic_start)
        )
        self.update = jax.jit(partial(self.update, e_min=e_min, e_decay=e_decay, alpha=alpha))
        self.sample = jax.jit(self.sample)

    @staticmethod
    def init(key: PRNGKey, n_arms: int, e: float, optimistic_start: float) -> EGreedyState:
        """Every arm starts at ``optimistic_start`` with no pulls."""
        return EGreedyState(
            Q=jnp.full(n_arms, optimistic_start, dtype=jnp.float32),
            N=jnp.zeros(n_arms, dtype=jnp.int32),
            e=jnp.asarray(e, dtype=jnp.float32),
        )

    @staticmethod
    def update(
        state: EGreedyState,
        key: PRNGKey,
        action: Array,
        reward: Scalar,
        e_min: float,
        e_decay: float,
        alpha: float,
    ) -> EGreedyState:
        """Move :math:`Q_a` towards the reward and decay epsilon."""
        chosen = one_hot(action, state.Q.size)
        N = state.N + chosen
        step = 1.0 / jnp.maximum(N, 1) if alpha == 0.0 else alpha
        Q = state.Q + chosen * step * (reward - state.Q)
        return EGreedyState(Q=Q.astype(state.Q.dtype), N=N, e=decayed(state.e, e_decay, e_min))

    @staticmethod
    def sample(state: EGreedyState, key: PRNGKey) -> Array:
        """A random arm with probability epsilon, else a best arm, from one uniform draw ``u``.

        ``u < e`` explores with arm ``floor(u / e * n)``; otherwise ``(u - e) / (1 - e)``, again
        uniform on [0, 1), breaks ties between best arms.
        """
        u, e = jax.random.uniform(key), state.e
        explore = u < e
        random_arm = uniform_arm(u / jnp.where(explore, e, 1.0), state.Q.size)
        best_arm = pick_tied_max(state.Q, (u - e) / jnp.where(explore, 1.0, 1.0 - e))
        return jnp.where(explore, random_arm, best_arm)

    @staticmethod
    def action_probabilities(state: EGreedyState, key: PRNGKey) -> Array:
        r"""The exact distribution of :meth:`sample`: :math:`\epsilon / K` on every arm plus
        :math:`(1 - \epsilon) / m` on each of the :math:`m` best arms."""
        return state.e / state.Q.size + (1.0 - state.e) * greedy_probabilities(state.Q)
