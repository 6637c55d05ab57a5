r"""Policies of the deep agents: how network outputs become actions (and, for PPO, log-probabilities).

* :class:`Policy`, :func:`categorical_policy` and :func:`clipped_gaussian_policy`: the
  stochastic policies of PPO over a batch of network outputs;
* :func:`epsilon_greedy`: a uniformly random action with probability :math:`\epsilon`, else a
  best one (DQN, the neural bandit);
* :func:`gaussian_exploration`: a deterministic action plus Gaussian noise, clipped (DDPG, TD3);
* :func:`tanh_gaussian` and :func:`tanh_gaussian_actions`: a Gaussian squashed into the action
  bounds, with its log-probability (SAC).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from chex import Array, PRNGKey

from agentax.agents._arms import uniform_arm

__all__ = [
    "Policy",
    "categorical_policy",
    "clipped_gaussian_policy",
    "clipped_gaussian_log_prob",
    "epsilon_greedy",
    "gaussian_exploration",
    "tanh_gaussian",
    "tanh_gaussian_actions",
]


def epsilon_greedy(values: Array, epsilon: Array, key: PRNGKey) -> Array:
    r"""A uniformly random action with probability :math:`\epsilon`, else :math:`\arg\max_a` ``values``.

    One uniform draw :math:`u` decides both: if :math:`u < \epsilon`, then :math:`u / \epsilon`
    is uniform on [0, 1) and picks the random action.

    Args:
      values: one value per action, shape ``(n_actions,)``.
      epsilon: the exploration probability.
      key: the key of the draw.

    Returns:
      The action, an ``int32`` scalar.

    Reference:
      R. S. Sutton, A. G. Barto, *Reinforcement Learning: An Introduction*, 2nd ed., 2018, section 2.2.
    """
    u = jax.random.uniform(key)
    explore = u < epsilon
    random_action = uniform_arm(u / jnp.where(explore, epsilon, 1.0), values.shape[-1])
    return jnp.where(explore, random_action, jnp.argmax(values).astype(jnp.int32))


def gaussian_exploration(action: Array, std: Array, key: PRNGKey, low: Array, high: Array) -> Array:
    r""":math:`\mathrm{clip}(a + \sigma \varepsilon, l, h)` with :math:`\varepsilon \sim \mathcal{N}(0, I)`."""
    return jnp.clip(action + std * jax.random.normal(key, action.shape), low, high)


def clipped_gaussian_log_prob(
    mean: Array, log_std: Array, action: Array, low: Array, high: Array
) -> Array:
    r"""Log-probability of one action drawn from :math:`\mathcal{N}(\mu, \sigma^2)` per dimension,
    then clipped to ``[low, high]``: the Gaussian density inside the bounds, and the probability
    mass beyond a bound at that bound.

    .. math::
        \log \pi(a) = \sum_i \begin{cases}
            \log \Phi\big((l_i - \mu_i) / \sigma_i\big) & a_i \le l_i \\
            \log \Phi\big((\mu_i - h_i) / \sigma_i\big) & a_i \ge h_i \\
            -\tfrac12 \big((a_i - \mu_i) / \sigma_i\big)^2 - \log \sigma_i - \tfrac12 \log 2\pi & \text{otherwise}
        \end{cases}

    Args:
      mean, log_std: :math:`\mu` and :math:`\log \sigma`, of the action's shape.
      action: the clipped action.
      low, high: the bounds :math:`l` and :math:`h` (broadcast to the action's shape).

    Reference:
      Y. Fujita, S. Maeda, "Clipped action policy gradient", ICML 2018.
    """
    std = jnp.exp(log_std)
    density = -0.5 * ((action - mean) / std) ** 2 - log_std - 0.5 * math.log(2.0 * math.pi)
    below = jax.scipy.special.log_ndtr((low - mean) / std)
    above = jax.scipy.special.log_ndtr((mean - high) / std)
    return jnp.sum(jnp.where(action <= low, below, jnp.where(action >= high, above, density)))


class Policy(NamedTuple):
    """How a batch of network outputs becomes a distribution over actions.

    Attributes:
      evaluate: ``evaluate(outputs, actions) -> (log_prob, entropy, value)``, each of shape ``(batch,)``.
      sample: ``sample(outputs, key) -> actions``.
      greedy: ``greedy(outputs) -> actions``, the most likely ones.
    """

    evaluate: Callable[[Any, Array], tuple[Array, Array, Array]]
    sample: Callable[[Any, PRNGKey], Array]
    greedy: Callable[[Any], Array]


def categorical_policy() -> Policy:
    """A categorical policy over network outputs ``(logits, values)``."""

    def evaluate(outputs, actions):
        logits, value = outputs
        log_probs = jax.nn.log_softmax(logits)
        log_prob = jnp.take_along_axis(log_probs, actions[..., None].astype(jnp.int32), axis=-1)[
            ..., 0
        ]
        entropy = -jnp.sum(jnp.exp(log_probs) * log_probs, axis=-1)
        return log_prob, entropy, jnp.reshape(value, log_prob.shape)

    return Policy(
        evaluate=evaluate,
        sample=lambda outputs, key: jax.random.categorical(key, outputs[0]).astype(jnp.int32),
        greedy=lambda outputs: jnp.argmax(outputs[0], axis=-1).astype(jnp.int32),
    )


def clipped_gaussian_policy(min_action: Array, max_action: Array) -> Policy:
    """A diagonal Gaussian policy clipped to the bounds, over network outputs ``(mean, log_std, values)``
    (see :func:`clipped_gaussian_log_prob`); its entropy is the unclipped Gaussian's."""
    low, high = jnp.asarray(min_action, jnp.float32), jnp.asarray(max_action, jnp.float32)

    def evaluate(outputs, actions):
        mean, log_std, value = outputs
        log_std = jnp.broadcast_to(log_std, mean.shape)
        log_prob = jax.vmap(clipped_gaussian_log_prob, in_axes=(0, 0, 0, None, None))(
            mean, log_std, actions, low, high
        )
        entropy = jnp.sum(
            log_std + 0.5 * math.log(2.0 * math.pi * math.e), axis=tuple(range(1, mean.ndim))
        )
        return log_prob, entropy, jnp.reshape(value, log_prob.shape)

    def sample(outputs, key):
        mean, log_std, _ = outputs
        return gaussian_exploration(mean, jnp.exp(log_std), key, low, high)

    return Policy(
        evaluate=evaluate, sample=sample, greedy=lambda outputs: jnp.clip(outputs[0], low, high)
    )


def tanh_gaussian(
    mean: Array, log_std: Array, epsilon: Array, low: Array, high: Array
) -> tuple[Array, Array]:
    r"""One action of a Gaussian squashed into the bounds, and its log-probability.

    .. math::
        u = \mu + \sigma \epsilon, \quad a = c + h \tanh u, \quad
        \log \pi(a) = \sum_i \log \mathcal{N}(u_i; \mu_i, \sigma_i^2) - \log h_i - \log(1 - \tanh^2 u_i)

    with :math:`c, h` the centre and half-width of ``[low, high]`` and
    :math:`\log(1 - \tanh^2 u) = 2 (\log 2 - u - \mathrm{softplus}(-2u))`.

    Args:
      mean, log_std: :math:`\mu` and :math:`\log \sigma`, of one action's shape.
      epsilon: a standard normal draw of that shape.
      low, high: the bounds.

    Returns:
      ``(action, log_prob)``.
    """
    centre, half = 0.5 * (high + low), 0.5 * (high - low)
    u = mean + jnp.exp(log_std) * epsilon
    log_normal = -0.5 * epsilon**2 - log_std - 0.5 * math.log(2.0 * math.pi)
    log_det = jnp.log(half) + 2.0 * (math.log(2.0) - u - jax.nn.softplus(-2.0 * u))
    return centre + half * jnp.tanh(u), jnp.sum(log_normal - log_det)


def tanh_gaussian_actions(
    outputs: tuple[Array, Array], epsilon: Array, low: Array, high: Array
) -> tuple[Array, Array]:
    """:func:`tanh_gaussian` of a batch of network outputs ``(mean, log_std)`` (``log_std``
    broadcast to ``mean``) and standard normal draws ``epsilon``: ``(actions, log_probs)``."""
    mean, log_std = outputs
    log_std = jnp.broadcast_to(log_std, mean.shape)
    return jax.vmap(tanh_gaussian, in_axes=(0, 0, 0, None, None))(mean, log_std, epsilon, low, high)
