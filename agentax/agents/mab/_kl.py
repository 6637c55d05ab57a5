r"""Bernoulli Kullback–Leibler divergence and the KL-UCB upper confidence bound.

.. math::
    \operatorname{kl}(p, q) = p \ln\frac{p}{q} + (1 - p) \ln\frac{1 - p}{1 - q}

The bound :math:`\max\{q \in [p, 1] : n\, \operatorname{kl}(p, q) \le d\}` has no closed form; it
is found by a fixed number of bisection steps, so its cost is known in advance (no loop that
runs until convergence).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from chex import Array

__all__ = ["kl_bernoulli", "kl_upper_bound", "klucb_exploration"]

_EPS = 1e-7  # keeps the logarithms finite at 0 and 1 in float32


def kl_bernoulli(p: Array, q: Array) -> Array:
    r""":math:`\operatorname{kl}(p, q)`, with ``p`` and ``q`` clipped into :math:`[\epsilon, 1 - \epsilon]`."""
    p = jnp.clip(p, _EPS, 1.0 - _EPS)
    q = jnp.clip(q, _EPS, 1.0 - _EPS)
    return p * jnp.log(p / q) + (1.0 - p) * jnp.log((1.0 - p) / (1.0 - q))


def kl_upper_bound(mean: Array, level: Array, n_iterations: int) -> Array:
    r"""The largest :math:`q \in [\bar\mu, 1]` with :math:`\operatorname{kl}(\bar\mu, q) \le d`, by bisection.

    :math:`q \mapsto \operatorname{kl}(\bar\mu, q)` increases on :math:`[\bar\mu, 1]`, so after
    ``n_iterations`` halvings the returned upper end of the bracket is within
    :math:`2^{-n}` above the bound (never below it).

    Args:
      mean: :math:`\bar\mu`, clipped into [0, 1]; any shape.
      level: :math:`d \ge 0`, broadcast against ``mean``.
      n_iterations: number of bisection steps (static).
    """
    mean = jnp.clip(mean, 0.0, 1.0)
    low, high = mean, jnp.ones_like(mean)

    def halve(_, bracket):
        low, high = bracket
        middle = 0.5 * (low + high)
        inside = kl_bernoulli(mean, middle) <= level
        return jnp.where(inside, middle, low), jnp.where(inside, high, middle)

    return jax.lax.fori_loop(0, n_iterations, halve, (low, high))[1]


def klucb_exploration(t: Array, c: float) -> Array:
    r"""The exploration level :math:`\ln t + c \ln \ln t` of KL-UCB after ``t`` pulls.

    Both logarithms are taken at least 0 (``t`` below :math:`e` gives :math:`\ln\ln t \le 0`).
    """
    log_t = jnp.log(jnp.maximum(t, 1.0))
    return log_t + c * jnp.log(jnp.maximum(log_t, 1.0))
