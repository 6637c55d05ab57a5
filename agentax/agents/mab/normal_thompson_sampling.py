"""Thompson sampling for Gaussian rewards of unknown mean and variance (normal-inverse-gamma posterior)."""

from __future__ import annotations

from functools import partial

import gymnasium as gym
import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar, dataclass

from agentax._validation import Int, Real, validate
from agentax.agents._arms import ACTION_PROBABILITY_DRAWS, sampled_probabilities
from agentax.agents.base import AgentState, BaseAgent
from agentax.agents.mab._normal_gamma import conjugate_update, posterior_draw

__all__ = ["NormalThompsonSampling", "NormalThompsonSamplingState"]

REWARD_BOUND = 1e12  # the largest reward magnitude (and prior mean) NormalThompsonSampling takes


@dataclass
class NormalThompsonSamplingState(AgentState):
    r"""State of :class:`NormalThompsonSampling`: each arm's normal-inverse-gamma posterior.

    Arm :math:`a`'s variance is :math:`\sigma^2 \sim \mathrm{InvGamma}(\alpha_a, \beta_a)` and its
    mean, given the variance, :math:`\mu \sim \mathcal{N}(\mu_a, \sigma^2 / \lambda_a)`.

    Attributes:
      alpha: shape of the inverse-gamma distribution, shape ``(n_arms,)``.
      beta: scale of the inverse-gamma distribution, shape ``(n_arms,)``.
      lam: how many observations the mean estimate is worth, shape ``(n_arms,)``.
      mu: mean estimate, shape ``(n_arms,)``.
    """

    alpha: Array
    beta: Array
    lam: Array
    mu: Array


class NormalThompsonSampling(BaseAgent):
    r"""Thompson sampling for rewards :math:`\mathcal{N}(m_a, s_a^2)` with both unknown per arm.

    Each arm keeps the conjugate normal-inverse-gamma posterior of its mean and variance
    (:class:`NormalThompsonSamplingState`), starting from the prior given by the constructor.
    Update, after arm :math:`A` gave reward :math:`x`, for that arm only (the conjugate formulas
    for one observation):

    .. math::
        \alpha \leftarrow \alpha + \tfrac12, \quad
        \beta \leftarrow \beta + \frac{\lambda (x - \mu)^2}{2(\lambda + 1)}, \quad
        \mu \leftarrow \frac{\lambda \mu + x}{\lambda + 1}, \quad
        \lambda \leftarrow \lambda + 1

    Sampling: for every arm draw :math:`\sigma_a^2 \sim \mathrm{InvGamma}(\alpha_a, \beta_a)`, then
    a mean :math:`\tilde m_a \sim \mathcal{N}(\mu_a, \sigma_a^2 / \lambda_a)`, and play
    :math:`\arg\max_a \tilde m_a`. With ``lam = 0`` (an improper prior) an arm never played draws
    :math:`\pm\infty`.

    Args:
      n_arms: number of arms.
      alpha: prior shape of the variance, :math:`\alpha > 0`.
      beta: prior scale of the variance, :math:`\beta > 0`.
      lam: prior weight of ``mu``, in observations, :math:`\lambda \ge 0`.
      mu: prior mean of the rewards, in :math:`[-10^{12}, 10^{12}]`.

    Refused, nothing clipped: through :class:`agentax.RLib`, a reward that is not finite or lies
    outside :math:`[-10^{12}, 10^{12}]` (``reward_space``) raises
    :class:`~agentax.errors.ObservationError`, also when an extension computes it.

    Reference:
      K. P. Murphy, *Conjugate Bayesian analysis of the Gaussian distribution*, 2007
      (normal-inverse-gamma prior, posterior after :math:`n = 1` observation).
    """

    #: What ``update`` accepts as a reward: squared errors accumulate in ``beta``, so rewards are
    #: bounded by ``REWARD_BOUND`` (``beta`` then stays finite for more than :math:`10^{14}` updates).
    reward_space: gym.spaces.Box = gym.spaces.Box(-REWARD_BOUND, REWARD_BOUND, (1,), float)

    PARAMETERS = {
        "n_arms": Int(),
        "alpha": Real(0.0, low_open=True),
        "beta": Real(0.0, low_open=True),
        "lam": Real(0.0),
        "mu": Real(-REWARD_BOUND, REWARD_BOUND),
    }

    def __init__(self, n_arms: int, alpha: Scalar, beta: Scalar, lam: Scalar, mu: Scalar) -> None:
        prior = validate(self.PARAMETERS, n_arms=n_arms, alpha=alpha, beta=beta, lam=lam, mu=mu)
        self.n_arms = prior.pop("n_arms")
        self.init = jax.jit(partial(self.init, n_arms=self.n_arms, **prior))
        self.update = jax.jit(self.update)
        self.sample = jax.jit(self.sample)

    @property
    def update_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict(
            {"action": gym.spaces.Discrete(self.n_arms), "reward": self.reward_space}
        )

    @property
    def sample_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({})

    @property
    def action_space(self) -> gym.spaces.Discrete:
        return gym.spaces.Discrete(self.n_arms)

    @staticmethod
    def init(
        key: PRNGKey, n_arms: int, alpha: float, beta: float, lam: float, mu: float
    ) -> NormalThompsonSamplingState:
        """Every arm starts from the prior."""
        full = partial(jnp.full, n_arms, dtype=jnp.float32)
        return NormalThompsonSamplingState(
            alpha=full(alpha), beta=full(beta), lam=full(lam), mu=full(mu)
        )

    @staticmethod
    def update(
        state: NormalThompsonSamplingState, key: PRNGKey, action: Array, reward: Scalar
    ) -> NormalThompsonSamplingState:
        """The conjugate update of the played arm's posterior with the reward."""
        return conjugate_update(state, action, reward)

    @staticmethod
    def sample(state: NormalThompsonSamplingState, key: PRNGKey) -> Array:
        """Draw every arm's mean from its posterior; play the largest."""
        sigma, offset = posterior_draw(state, key)
        return jnp.argmax(state.mu + sigma * offset)

    def action_probabilities(self, state: NormalThompsonSamplingState, key: PRNGKey) -> Array:
        """A Monte-Carlo estimate of the distribution of :meth:`sample` (an argmax of posterior draws
        has no closed form): the share of each arm among ``ACTION_PROBABILITY_DRAWS`` (4000) draws."""
        return sampled_probabilities(self.sample, state, key, self.n_arms, ACTION_PROBABILITY_DRAWS)
