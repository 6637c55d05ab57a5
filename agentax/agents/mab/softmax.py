"""Gradient bandit: softmax policy over learned preferences, with a reward baseline."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar, dataclass

from agentax._validation import Int, Real, validate
from agentax.agents._arms import categorical
from agentax.agents.base import AgentState
from agentax.agents.mab._common import RewardBandit

__all__ = ["Softmax", "SoftmaxState"]


@dataclass
class SoftmaxState(AgentState):
    r"""State of :class:`Softmax`.

    Attributes:
      H: preference of each arm, shape ``(n_arms,)``.
      r: the baseline :math:`\bar R`, an average of the (multiplied) rewards seen so far.
      n: number of updates so far.
    """

    H: Array
    r: Array
    n: Array


class Softmax(RewardBandit):
    r"""Gradient bandit: arms drawn from a softmax of preferences learned by stochastic gradient ascent.

    Policy, with temperature :math:`\tau`:

    .. math::
        \pi(a) = \frac{\exp(H_a / \tau)}{\sum_b \exp(H_b / \tau)}

    Update, after arm :math:`A` gave reward :math:`R` (first multiplied by ``multiplier``):

    .. math::
        H_a \leftarrow H_a + \eta\,(R - \bar R)\,(\mathbb{1}_{a = A} - \pi(a)) \quad \text{for every arm } a,

    where :math:`\eta` is ``lr`` and :math:`\pi` is the policy before the update. The baseline
    :math:`\bar R` averages the rewards *before* the current one; it is the first reward itself at
    the first update (so that update leaves :math:`H` unchanged). After each update it moves
    towards the reward:

    .. math::
        \bar R \leftarrow \bar R + \beta\,(R - \bar R), \qquad
        \beta = \begin{cases} 1/n & \alpha = 0 \text{ (average of all rewards, } n \text{ counting this one)} \\
                              \alpha & \text{otherwise (exponential recency-weighted average)} \end{cases}

    Rewards above the baseline make the pulled arm more likely and the others less likely; rewards
    below it do the opposite. In expectation this is gradient ascent on the expected reward
    :math:`\sum_a \pi(a)\,q(a)`, where :math:`q(a)` is the mean reward of arm :math:`a`
    (derived in the reference).

    Refused, nothing clipped: through :class:`agentax.RLib`, a reward that is not finite in float32
    raises :class:`~agentax.errors.ObservationError` (also when an extension computes it), and an
    update that would make the state non-finite :class:`~agentax.errors.NonFiniteStateError`.

    Args:
      n_arms: number of arms.
      lr: step size :math:`\eta > 0` of the preferences.
      alpha: step size of the baseline in [0, 1]; 0 uses the average of all rewards.
      tau: temperature :math:`\tau > 0`; large values make the policy closer to uniform.
      multiplier: factor :math:`> 0` applied to every reward before it is used.

    Reference:
      R. S. Sutton, A. G. Barto, *Reinforcement Learning: An Introduction*, 2nd ed., MIT Press,
      2018, section 2.8 (Gradient Bandit Algorithms).
    """

    PARAMETERS = {
        "n_arms": Int(),
        "lr": Real(0.0, low_open=True),
        "alpha": Real(0.0, 1.0),
        "tau": Real(0.0, low_open=True),
        "multiplier": Real(0.0, low_open=True),
    }

    def __init__(
        self,
        n_arms: int,
        lr: Scalar,
        alpha: Scalar = 0.0,
        tau: Scalar = 1.0,
        multiplier: Scalar = 1.0,
    ) -> None:
        self.n_arms, lr, alpha, tau, multiplier = validate(
            self.PARAMETERS, n_arms=n_arms, lr=lr, alpha=alpha, tau=tau, multiplier=multiplier
        ).values()
        self.init = jax.jit(partial(self.init, n_arms=self.n_arms))
        self.update = jax.jit(
            partial(self.update, lr=lr, alpha=alpha, tau=tau, multiplier=multiplier)
        )
        self.sample = jax.jit(partial(self.sample, tau=tau))
        self.action_probabilities = jax.jit(partial(self.action_probabilities, tau=tau))

    @staticmethod
    def init(key: PRNGKey, n_arms: int) -> SoftmaxState:
        """Equal preferences (a uniform policy), no reward seen yet."""
        return SoftmaxState(
            H=jnp.zeros(n_arms, dtype=jnp.float32),
            r=jnp.zeros((), dtype=jnp.float32),
            n=jnp.zeros((), dtype=jnp.int32),
        )

    @staticmethod
    def update(
        state: SoftmaxState,
        key: PRNGKey,
        action: Array,
        reward: Scalar,
        lr: float,
        alpha: float,
        tau: float,
        multiplier: float,
    ) -> SoftmaxState:
        """Move the preferences along the reward's advantage over the baseline, then the baseline."""
        reward = jnp.asarray(reward, jnp.float32) * multiplier
        baseline = jnp.where(state.n == 0, reward, state.r)
        advantage = reward - baseline
        pulled = jnp.zeros_like(state.H).at[action].set(1.0)
        H = state.H + lr * advantage * (pulled - jax.nn.softmax(state.H / tau))
        n = state.n + 1
        step = 1.0 / n if alpha == 0.0 else alpha
        r = baseline + step * advantage
        return SoftmaxState(H=H.astype(state.H.dtype), r=r.astype(state.r.dtype), n=n)

    @staticmethod
    def sample(state: SoftmaxState, key: PRNGKey, tau: float) -> Array:
        """An arm drawn from the softmax of the preferences over the temperature."""
        return categorical(key, jax.nn.softmax(state.H / tau))

    @staticmethod
    def action_probabilities(state: SoftmaxState, key: PRNGKey, tau: float) -> Array:
        """The exact distribution of :meth:`sample`: the softmax of the preferences over the temperature."""
        return jax.nn.softmax(state.H / tau)
