"""KL-UCB: the upper confidence bound of Bernoulli rewards from the Kullback–Leibler divergence."""

from __future__ import annotations

from functools import partial

import gymnasium as gym
import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar, dataclass

from agentax._validation import Int, Real, validate
from agentax.agents._arms import argmax_random_tie, greedy_probabilities, one_hot
from agentax.agents.base import AgentState
from agentax.agents.mab._common import RewardBandit
from agentax.agents.mab._kl import kl_upper_bound, klucb_exploration

__all__ = ["KLUCB", "KLUCBState", "UNIT_REWARD_SPACE"]

UNIT_REWARD_SPACE = gym.spaces.Box(0.0, 1.0, (1,), float)


@dataclass
class KLUCBState(AgentState):
    """State of :class:`KLUCB`.

    Attributes:
      R: sum of the rewards of each arm, shape ``(n_arms,)``.
      N: number of pulls of each arm, shape ``(n_arms,)`` (float, exact up to :math:`2^{24}`).
    """

    R: Array
    N: Array


def klucb_indices(R: Array, N: Array, c: float, n_iterations: int, t: Array | None = None) -> Array:
    r"""KL-UCB index of every arm from its reward sums and pulls; :math:`+\infty` for untried arms.

    :math:`\max\{q : N_a \operatorname{kl}(R_a / N_a, q) \le \ln t_a + c \ln\ln t_a\}`, with
    :math:`t_a = \sum_b N_b` unless ``t`` gives each arm's own (shape ``(n_arms,)``).
    """
    tried = N > 0
    pulls = jnp.where(tried, N, 1.0)
    level = klucb_exploration(jnp.sum(N) if t is None else t, c) / pulls
    return jnp.where(tried, kl_upper_bound(R / pulls, level, n_iterations), jnp.inf)


class KLUCB(RewardBandit):
    r"""KL-UCB for rewards in [0, 1] (Bernoulli, or any bounded rewards rescaled to [0, 1]).

    Update, after arm :math:`A` gave reward :math:`r`: :math:`R_A \leftarrow R_A + r`,
    :math:`N_A \leftarrow N_A + 1`.

    Sampling: an untried arm if there is one, else, with :math:`t = \sum_a N_a` and
    :math:`\bar\mu_a = R_a / N_a`,

    .. math::
        \arg\max_a \; \max\left\{ q \in [\bar\mu_a, 1] :
            N_a \operatorname{kl}(\bar\mu_a, q) \le \ln t + c \ln \ln t \right\}

    with :math:`\operatorname{kl}` the Bernoulli divergence; the bound is found by
    ``n_iterations`` bisection steps (precision :math:`2^{-n}`). Ties are broken uniformly at
    random. The paper proves its regret bound for :math:`c = 3` and recommends :math:`c = 0`
    in practice (the default).

    Args:
      n_arms: number of arms.
      c: weight of the :math:`\ln\ln t` term, :math:`c \ge 0`.
      n_iterations: bisection steps of the bound, at least 1.

    Reference:
      A. Garivier, O. Cappé, *The KL-UCB Algorithm for Bounded Stochastic Bandits and Beyond*,
      Conference on Learning Theory (COLT), 2011 (arXiv:1102.2490).
    """

    PARAMETERS = {"n_arms": Int(), "c": Real(0.0), "n_iterations": Int()}

    def __init__(self, n_arms: int, c: Scalar = 0.0, n_iterations: int = 20) -> None:
        self.n_arms, c, n_iterations = validate(
            self.PARAMETERS, n_arms=n_arms, c=c, n_iterations=n_iterations
        ).values()
        self.init = jax.jit(partial(self.init, n_arms=self.n_arms))
        self.update = jax.jit(self.update)
        self.sample = jax.jit(partial(self.sample, c=c, n_iterations=n_iterations))
        self.action_probabilities = jax.jit(
            partial(self.action_probabilities, c=c, n_iterations=n_iterations)
        )

    @property
    def update_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict(
            {"action": gym.spaces.Discrete(self.n_arms), "reward": UNIT_REWARD_SPACE}
        )

    @staticmethod
    def init(key: PRNGKey, n_arms: int) -> KLUCBState:
        """No rewards and no pulls."""
        return KLUCBState(R=jnp.zeros(n_arms, jnp.float32), N=jnp.zeros(n_arms, jnp.float32))

    @staticmethod
    def update(state: KLUCBState, key: PRNGKey, action: Array, reward: Scalar) -> KLUCBState:
        """Add the pull and its reward."""
        chosen = one_hot(action, state.N.size).astype(jnp.float32)
        return KLUCBState(R=state.R + chosen * jnp.asarray(reward, jnp.float32), N=state.N + chosen)

    @staticmethod
    def sample(state: KLUCBState, key: PRNGKey, c: float, n_iterations: int) -> Array:
        """An untried arm if any, else the arm of highest KL upper confidence bound."""
        return argmax_random_tie(key, klucb_indices(state.R, state.N, c, n_iterations))

    @staticmethod
    def action_probabilities(state: KLUCBState, key: PRNGKey, c: float, n_iterations: int) -> Array:
        """The exact distribution of :meth:`sample`: uniform over the arms of highest index."""
        return greedy_probabilities(klucb_indices(state.R, state.N, c, n_iterations))
