"""Exp3: exponential weights for adversarial bandits, kept in log space."""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar, dataclass

from agentax._validation import Int, Real, validate
from agentax.agents._arms import categorical
from agentax.agents.base import AgentState
from agentax.agents.mab._common import RewardBandit

__all__ = ["Exp3", "Exp3State"]


@dataclass
class Exp3State(AgentState):
    r"""State of :class:`Exp3`.

    Attributes:
      log_weights: :math:`\log(w_a / \sum_b w_b)` for each arm, shape ``(n_arms,)``: the
        logarithms of the normalised exponential weights (their ``logsumexp`` is 0).
    """

    log_weights: Array


class Exp3(RewardBandit):
    r"""Exp3: exponential-weight algorithm for exploration and exploitation.

    Policy over :math:`K` arms with exploration :math:`\gamma`:

    .. math::
        p_a = (1 - \gamma)\,\frac{w_a}{\sum_b w_b} + \frac{\gamma}{K}

    Update, after arm :math:`A` (drawn with probability :math:`p_A`) gave reward :math:`r`: the
    reward is rescaled to :math:`x = \operatorname{clip}\big((r - r_{min}) / (r_{max} - r_{min}),
    0, 1\big)` and only the pulled arm's weight changes, by its importance-weighted reward:

    .. math::
        w_A \leftarrow w_A \exp\!\left(\frac{\gamma\, x}{K\, p_A}\right)

    The weights are stored as normalised logarithms,
    :math:`\ell_a = \log w_a - \log \sum_b w_b`, so the update is
    :math:`\ell_A \leftarrow \ell_A + \gamma x / (K p_A)` followed by
    :math:`\ell \leftarrow \ell - \operatorname{logsumexp}(\ell)`. This leaves the policy
    unchanged but keeps every :math:`\ell_a \le 0`; since :math:`p_A \ge \gamma / K`, each
    update moves any :math:`\ell_a` by at most 1, so the state stays finite however long the
    agent runs (raw weights would overflow).

    Through :class:`agentax.RLib`, a reward that is not finite in float32 is refused with
    :class:`~agentax.errors.ObservationError`; a finite one is clipped as above.

    Args:
      n_arms: number of arms :math:`K`.
      gamma: exploration :math:`\gamma` in (0, 1]; 1 is a uniformly random policy.
      min_reward: the lowest reward :math:`r_{min}` (finite).
      max_reward: the highest reward :math:`r_{max} > r_{min}` (finite). Rewards outside
        :math:`[r_{min}, r_{max}]` are clipped to it.

    Reference:
      P. Auer, N. Cesa-Bianchi, Y. Freund, R. E. Schapire, *The Nonstochastic Multiarmed Bandit
      Problem*, SIAM Journal on Computing 32(1), 48-77, 2002, section 3 (Exp3).
    """

    PARAMETERS = {
        "n_arms": Int(),
        "gamma": Real(0.0, 1.0, low_open=True),
        "min_reward": Real(),
        "max_reward": Real("min_reward", low_open=True),
    }

    def __init__(self, n_arms: int, gamma: Scalar, min_reward: Scalar, max_reward: Scalar) -> None:
        self.n_arms, gamma, min_reward, max_reward = validate(
            self.PARAMETERS,
            n_arms=n_arms,
            gamma=gamma,
            min_reward=min_reward,
            max_reward=max_reward,
        ).values()
        self.init = jax.jit(partial(self.init, n_arms=self.n_arms))
        self.update = jax.jit(
            partial(self.update, gamma=gamma, min_reward=min_reward, max_reward=max_reward)
        )
        self.sample = jax.jit(partial(self.sample, gamma=gamma))
        self.action_probabilities = jax.jit(partial(self.action_probabilities, gamma=gamma))

    @staticmethod
    def init(key: PRNGKey, n_arms: int) -> Exp3State:
        """Equal weights: every normalised log weight is :math:`-\\log K`."""
        return Exp3State(log_weights=jnp.full(n_arms, -math.log(n_arms), dtype=jnp.float32))

    @staticmethod
    def update(
        state: Exp3State,
        key: PRNGKey,
        action: Array,
        reward: Scalar,
        gamma: float,
        min_reward: float,
        max_reward: float,
    ) -> Exp3State:
        """Raise the pulled arm's log weight by its importance-weighted reward, then renormalise."""
        scaled = jnp.clip(
            (jnp.asarray(reward, jnp.float32) - min_reward) / (max_reward - min_reward), 0.0, 1.0
        )
        n_arms = state.log_weights.size
        p_action = _policy(state.log_weights, gamma)[action]
        log_weights = state.log_weights.at[action].add(gamma * scaled / (n_arms * p_action))
        log_weights = log_weights - jax.nn.logsumexp(log_weights)
        return Exp3State(log_weights=log_weights.astype(state.log_weights.dtype))

    @staticmethod
    def sample(state: Exp3State, key: PRNGKey, gamma: float) -> Array:
        """An arm drawn from the mixture of the weights' distribution and the uniform one."""
        return categorical(key, _policy(state.log_weights, gamma))

    @staticmethod
    def action_probabilities(state: Exp3State, key: PRNGKey, gamma: float) -> Array:
        """The exact distribution of :meth:`sample`, the Exp3 probabilities :math:`p`."""
        return _policy(state.log_weights, gamma)


def _policy(log_weights: Array, gamma: float) -> Array:
    """The Exp3 probabilities :math:`p` from normalised log weights."""
    return (1.0 - gamma) * jnp.exp(log_weights) + gamma / log_weights.size
