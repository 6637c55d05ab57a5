"""Thompson sampling for positive rewards whose logarithm is Gaussian."""

from __future__ import annotations

import gymnasium as gym
import jax.numpy as jnp
import numpy as np
from chex import Array, PRNGKey, Scalar

from agentax.agents.mab._normal_gamma import conjugate_update, posterior_draw
from agentax.agents.mab.normal_thompson_sampling import (
    NormalThompsonSampling,
    NormalThompsonSamplingState,
)

__all__ = ["LogNormalThompsonSampling"]


class LogNormalThompsonSampling(NormalThompsonSampling):
    r"""Thompson sampling for log-normal rewards: :class:`NormalThompsonSampling` on :math:`\ln r`.

    Rewards must be positive (e.g. throughputs, delays): the update feeds :math:`\ln r` to the
    normal-inverse-gamma posterior of :class:`NormalThompsonSampling`, so its parameters
    (``alpha``, ``beta``, ``lam``, ``mu``) describe the logarithm of the rewards and the state is a
    :class:`NormalThompsonSamplingState`. The reward space starts at the smallest positive
    float32: through :class:`agentax.RLib`, a reward :math:`\le 0` or not finite raises
    :class:`~agentax.errors.ObservationError`, whether given by name or computed by an extension
    (``BasicMab`` passes any real reward on); nothing is clipped. Called directly, ``update`` with
    a non-positive reward makes the played arm's state non-finite.

    Sampling, as in reinforced-lib: draw :math:`\sigma_a^2` and a log-mean :math:`\tilde m_a` from
    each arm's posterior, and play the arm of largest log-normal mean
    :math:`e^{\tilde m_a + \sigma_a^2 / 2}`, computed as
    :math:`\arg\max_a \tilde m_a + \sigma_a^2 / 2` (the exponential is monotone and would
    overflow).

    Args:
      n_arms: number of arms.
      alpha: prior shape of the variance of :math:`\ln r`, :math:`\alpha > 0`.
      beta: prior scale of the variance of :math:`\ln r`, :math:`\beta > 0`.
      lam: prior weight of ``mu``, in observations, :math:`\lambda \ge 0`.
      mu: prior mean of :math:`\ln r`.

    Reference:
      K. P. Murphy, *Conjugate Bayesian analysis of the Gaussian distribution*, 2007.
    """

    reward_space = gym.spaces.Box(float(np.finfo(np.float32).tiny), jnp.inf, (1,), float)

    @staticmethod
    def update(
        state: NormalThompsonSamplingState, key: PRNGKey, action: Array, reward: Scalar
    ) -> NormalThompsonSamplingState:
        """The conjugate update of the played arm's posterior with the log of the reward."""
        return conjugate_update(state, action, jnp.log(jnp.asarray(reward, jnp.float32)))

    @staticmethod
    def sample(state: NormalThompsonSamplingState, key: PRNGKey) -> Array:
        """Draw every arm's log-normal mean from its posterior; play the largest."""
        sigma, offset = posterior_draw(state, key)
        return jnp.argmax(
            state.mu + sigma * (offset + 0.5 * sigma)
        )  # grouped so sigma = inf gives +inf
