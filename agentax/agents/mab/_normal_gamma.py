"""The normal-inverse-gamma posterior of every arm, shared by the Gaussian and log-normal
Thompson samplers: its conjugate update and a draw from it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar

from agentax.agents._arms import one_hot
from agentax.agents.mab import _random

if TYPE_CHECKING:
    from agentax.agents.mab.normal_thompson_sampling import (
        NormalThompsonSamplingState as NormalGammaState,
    )

__all__ = ["conjugate_update", "posterior_draw"]


def conjugate_update(state: NormalGammaState, action: Array, value: Scalar) -> NormalGammaState:
    r"""The posterior of arm ``action`` after observing ``value``; the other arms are unchanged.

    .. math::
        \alpha \leftarrow \alpha + \tfrac12, \quad
        \beta \leftarrow \beta + \frac{\lambda (x - \mu)^2}{2(\lambda + 1)}, \quad
        \mu \leftarrow \frac{\lambda \mu + x}{\lambda + 1}, \quad
        \lambda \leftarrow \lambda + 1
    """
    chosen = one_hot(action, state.mu.size).astype(jnp.float32)
    error = jnp.asarray(value, jnp.float32) - state.mu
    return state.replace(
        alpha=state.alpha + 0.5 * chosen,
        beta=state.beta + chosen * state.lam * error * error / (2.0 * (state.lam + 1.0)),
        lam=state.lam + chosen,
        mu=state.mu + chosen * error / (state.lam + 1.0),
    )


def posterior_draw(state: NormalGammaState, key: PRNGKey) -> tuple[Array, Array]:
    r"""Draw every arm's standard deviation and standardised mean offset from its posterior.

    :math:`\sigma^2 = \beta / G` with :math:`G \sim \mathrm{Gamma}(\alpha, 1)` (so
    :math:`\sigma^2 \sim \mathrm{InvGamma}(\alpha, \beta)`), and :math:`s = Z / \sqrt{\lambda}`
    with :math:`Z` standard normal, so that the mean draw is :math:`\mu + \sigma s`.

    Returns:
      ``(sigma, s)``, each of shape ``(n_arms,)``.
    """
    gamma_key, normal_key = jax.random.split(key)
    sigma = jnp.sqrt(state.beta / _random.gamma(gamma_key, state.alpha))
    return sigma, _random.normal(normal_key, state.mu.shape) / jnp.sqrt(state.lam)
