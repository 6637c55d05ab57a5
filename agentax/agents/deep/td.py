"""Temporal-difference errors and losses of the value-based agents, written like rlax.

Each function works on one unbatched transition; :func:`jax.vmap` makes the batch. Names are
indexed by time: the action ``a_tm1`` was taken in the state of ``q_tm1`` (time ``t - 1``), then
the reward ``r_t`` came with the discount ``discount_t`` (0 when the episode terminated) and the
action values ``q_t`` of the next state. Every TD error is ``target - q_tm1[a_tm1]`` with the
target's gradient stopped, so minimizing a loss of it moves only ``q_tm1``.

Reference: rlax (DeepMind), ``rlax/_src/value_learning.py``, whose conventions these follow.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
from chex import Array, Numeric

__all__ = ["q_learning", "double_q_learning", "expected_sarsa", "huber_loss", "l2_loss"]


def _td_error(q_tm1: Array, a_tm1: Array, target: Array) -> Array:
    # A select, not ``q_tm1[a_tm1]``: the same value and gradient, but the gradient of an indexing
    # is a scatter, which IREE 3.13 fails to compile (agentax.export compiles agents with IREE).
    chosen = jnp.sum(jnp.where(jnp.arange(q_tm1.shape[0]) == a_tm1, q_tm1, jnp.zeros_like(q_tm1)))
    return jax.lax.stop_gradient(target) - chosen


def _check(q_tm1, a_tm1, r_t, discount_t, *next_values) -> None:
    chex.assert_rank(
        [q_tm1, a_tm1, r_t, discount_t, *next_values], [1, 0, 0, 0] + [1] * len(next_values)
    )
    chex.assert_type([a_tm1], int)
    chex.assert_type([q_tm1, r_t, discount_t, *next_values], float)


def q_learning(q_tm1: Array, a_tm1: Array, r_t: Array, discount_t: Array, q_t: Array) -> Array:
    r"""TD error of Q-learning: bootstrap from the best next action.

    .. math:: \delta = r_t + \gamma_t \max_a q_t[a] - q_{t-1}[a_{t-1}]

    Args:
      q_tm1: action values at time ``t - 1``, shape ``(n_actions,)``.
      a_tm1: the action taken at time ``t - 1`` (integer scalar).
      r_t: the reward at time ``t``.
      discount_t: the discount at time ``t`` (0 if the episode terminated).
      q_t: action values at time ``t`` (from a target network in DQN).

    Returns:
      The TD error (scalar).

    Reference:
      C. J. C. H. Watkins, P. Dayan, "Q-learning", *Machine Learning* 8, 279-292, 1992.
    """
    _check(q_tm1, a_tm1, r_t, discount_t, q_t)
    return _td_error(q_tm1, a_tm1, r_t + discount_t * jnp.max(q_t))


def double_q_learning(
    q_tm1: Array, a_tm1: Array, r_t: Array, discount_t: Array, q_t_value: Array, q_t_selector: Array
) -> Array:
    r"""TD error of double Q-learning: one set of values picks the next action, another values it.

    .. math:: \delta = r_t + \gamma_t\, q^{value}_t[\arg\max_a q^{selector}_t[a]] - q_{t-1}[a_{t-1}]

    Args:
      q_tm1, a_tm1, r_t, discount_t: as in :func:`q_learning`.
      q_t_value: action values at time ``t`` that value the chosen action (the target network).
      q_t_selector: action values at time ``t`` that choose it (the online network).

    Returns:
      The TD error (scalar).

    Reference:
      H. van Hasselt, A. Guez, D. Silver, "Deep Reinforcement Learning with Double Q-learning",
      AAAI 2016.
    """
    _check(q_tm1, a_tm1, r_t, discount_t, q_t_value, q_t_selector)
    return _td_error(q_tm1, a_tm1, r_t + discount_t * q_t_value[jnp.argmax(q_t_selector)])


def expected_sarsa(
    q_tm1: Array, a_tm1: Array, r_t: Array, discount_t: Array, q_t: Array, probs_a_t: Array
) -> Array:
    r"""TD error of expected Sarsa: bootstrap from the next values' expectation under a policy.

    .. math:: \delta = r_t + \gamma_t \sum_a \pi_t(a)\, q_t[a] - q_{t-1}[a_{t-1}]

    Args:
      q_tm1, a_tm1, r_t, discount_t: as in :func:`q_learning`.
      q_t: action values at time ``t``.
      probs_a_t: the policy's probabilities :math:`\pi_t(a)` of each action at time ``t``.

    Returns:
      The TD error (scalar).

    Reference:
      H. van Seijen, H. van Hasselt, S. Whiteson, M. Wiering, "A Theoretical and Empirical
      Analysis of Expected Sarsa", IEEE ADPRL 2009.
    """
    _check(q_tm1, a_tm1, r_t, discount_t, q_t, probs_a_t)
    return _td_error(q_tm1, a_tm1, r_t + discount_t * jnp.dot(probs_a_t, q_t))


def huber_loss(x: Array, delta: Numeric = 1.0) -> Array:
    r"""Huber loss: quadratic near zero, linear beyond ``delta`` (gradients bounded by ``delta``).

    .. math::
        L(x) = \begin{cases} \tfrac12 x^2 & |x| \le \delta \\
                             \delta\,(|x| - \tfrac12 \delta) & \text{otherwise} \end{cases}

    Reference:
      P. J. Huber, "Robust Estimation of a Location Parameter", *Ann. Math. Statist.* 35, 1964.
    """
    abs_x = jnp.abs(x)
    quadratic = jnp.minimum(abs_x, delta)
    return 0.5 * quadratic**2 + delta * (abs_x - quadratic)


def l2_loss(x: Array) -> Array:
    r"""Half the squared error, :math:`L(x) = \tfrac12 x^2` (its gradient is :math:`x`)."""
    return 0.5 * jnp.square(x)
