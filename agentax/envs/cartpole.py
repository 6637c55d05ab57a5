r"""CartPole-v1 in JAX: a pole hinged on a cart that a force of :math:`\pm 10` N pushes left or right.

The dynamics are those of Barto, Sutton & Anderson (1983) as gymnasium's ``CartPole-v1`` states
them (frictionless cart and pole, explicit Euler steps of :math:`\tau = 0.02` s). With
:math:`F = \pm 10`, total mass :math:`m = m_c + m_p`, pole half-length :math:`l`,

.. math::
    h = \frac{F + m_p l\,\dot\theta^2 \sin\theta}{m}, \qquad
    \ddot\theta = \frac{g \sin\theta - h\cos\theta}{l\,\big(\tfrac43 - m_p\cos^2\theta / m\big)}, \qquad
    \ddot x = h - \frac{m_p l\,\ddot\theta\cos\theta}{m},

then :math:`x \mathrel{+}= \tau\dot x`, :math:`\dot x \mathrel{+}= \tau\ddot x`,
:math:`\theta \mathrel{+}= \tau\dot\theta`, :math:`\dot\theta \mathrel{+}= \tau\ddot\theta`.
Every step pays 1; an episode terminates when :math:`|x| > 2.4` or :math:`|\theta| > 12°`, and is
truncated after 500 steps. A reset draws the four state variables uniformly from
:math:`[-0.05, 0.05]`. Observations are :math:`(x, \dot x, \theta, \dot\theta)` in ``float32``.

Both functions are pure, so they compose with ``jit``, ``vmap`` and ``lax.scan``::

    state, obs = cartpole.reset(key)
    state, obs, reward, terminated, truncated = cartpole.step(state, action)

References:
  A. G. Barto, R. S. Sutton, C. W. Anderson, "Neuronlike adaptive elements that can solve
  difficult learning control problems", *IEEE Trans. Systems, Man, and Cybernetics* 13(5),
  834-846, 1983.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from chex import Array, PRNGKey

__all__ = ["CartPoleState", "reset", "step", "MAX_STEPS", "N_ACTIONS", "OBS_SHAPE"]

GRAVITY = 9.8
CART_MASS = 1.0
POLE_MASS = 0.1
TOTAL_MASS = CART_MASS + POLE_MASS
POLE_HALF_LENGTH = 0.5
FORCE = 10.0
TAU = 0.02
X_LIMIT = 2.4
THETA_LIMIT = 12 * 2 * math.pi / 360
RESET_BOUND = 0.05
MAX_STEPS = 500
N_ACTIONS = 2
OBS_SHAPE = (4,)


class CartPoleState(NamedTuple):
    """The cart-pole's physical state and the steps taken in the episode.

    Attributes:
      physics: :math:`(x, \\dot x, \\theta, \\dot\\theta)`, ``float32``, shape ``(4,)``.
      time: steps taken since the reset (``int32``).
    """

    physics: Array
    time: Array


def reset(key: PRNGKey) -> tuple[CartPoleState, Array]:
    """A new episode: every state variable uniform in [-0.05, 0.05].

    Returns:
      The state and its observation.
    """
    physics = jax.random.uniform(key, OBS_SHAPE, jnp.float32, -RESET_BOUND, RESET_BOUND)
    return CartPoleState(physics, jnp.int32(0)), physics


def _accelerations(theta_dot: Array, sin: Array, cos: Array, force: Array) -> tuple[Array, Array]:
    """The cart's and the pole's accelerations :math:`(\\ddot x, \\ddot\\theta)`."""
    h = (force + POLE_MASS * POLE_HALF_LENGTH * theta_dot**2 * sin) / TOTAL_MASS
    theta_acc = (GRAVITY * sin - cos * h) / (
        POLE_HALF_LENGTH * (4.0 / 3.0 - POLE_MASS * cos**2 / TOTAL_MASS)
    )
    x_acc = h - POLE_MASS * POLE_HALF_LENGTH * theta_acc * cos / TOTAL_MASS
    return x_acc, theta_acc


def step(state: CartPoleState, action: Array) -> tuple[CartPoleState, Array, Array, Array, Array]:
    """One Euler step of :math:`\\tau` seconds under the force that ``action`` picks (1: right, 0: left).

    Returns:
      The new state, its observation, the reward (1, ``float32``), and whether the episode
      terminated (the cart or the pole left its bounds) or was truncated (500 steps), as booleans.
    """
    x, x_dot, theta, theta_dot = state.physics
    force = jnp.where(action == 1, FORCE, -FORCE).astype(jnp.float32)
    x_acc, theta_acc = _accelerations(theta_dot, jnp.sin(theta), jnp.cos(theta), force)
    physics = jnp.stack(
        [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ]
    ).astype(jnp.float32)
    time = state.time + 1
    terminated = (jnp.abs(physics[0]) > X_LIMIT) | (jnp.abs(physics[2]) > THETA_LIMIT)
    truncated = time >= MAX_STEPS
    return CartPoleState(physics, time), physics, jnp.float32(1.0), terminated, truncated
