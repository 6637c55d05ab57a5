"""Arm helpers shared by every bandit family and by off-policy evaluation: the reward space,
one-hot updates, tie-breaking argmax, categorical and uniform draws, action distributions."""

from __future__ import annotations

import gymnasium as gym
import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar

__all__ = [
    "ACTION_PROBABILITY_DRAWS",
    "REWARD_SPACE",
    "argmax_random_tie",
    "categorical",
    "decayed",
    "greedy_probabilities",
    "one_hot",
    "pick_tied_max",
    "sampled_probabilities",
    "ucb_indices",
    "uniform_arm",
]

#: A real reward, as a scalar :class:`~gymnasium.spaces.Box`.
REWARD_SPACE = gym.spaces.Box(-jnp.inf, jnp.inf, (1,), float)


def one_hot(action: Array, n_arms: int) -> Array:
    """``int32`` indicator of ``action`` among ``n_arms`` arms.

    Updating every arm with ``indicator * change`` vectorizes under ``vmap``, where a scatter
    ``x.at[action].add(...)`` becomes a slow per-agent loop on a CPU.
    """
    return (jnp.arange(n_arms) == action).astype(jnp.int32)


def pick_tied_max(values: Array, u: Array) -> Array:
    """Index of a maximum of ``values``: among ``m`` tied maxima, the ``floor(u * m)``-th.

    With ``u`` uniform on [0, 1) this breaks ties uniformly at random from one scalar draw, where a
    random permutation or a vector of draws would need a random word per arm.
    """
    ties = values == jnp.max(values)
    return jnp.argmax(_running_count(ties) > jnp.floor(u * jnp.sum(ties)))


def _running_count(flags: Array) -> Array:
    """``cumsum(flags)``; for few arms as a product with a triangular matrix, one dense operation
    that vectorizes under ``vmap`` on a CPU, where XLA's cumulative sum is a sequential scan."""
    n = flags.size
    if n > _MATMUL_CUMSUM_MAX:
        return jnp.cumsum(flags)
    # A select, not ``flags.astype(float32)``: IREE 3.13 fuses that conversion into the product as a
    # boolean matmul operand and fails to compile it (agentax.export compiles agents with IREE).
    return jnp.where(flags, jnp.float32(1), jnp.float32(0)) @ jnp.triu(
        jnp.ones((n, n), jnp.float32)
    )


_MATMUL_CUMSUM_MAX = 64


def argmax_random_tie(key: PRNGKey, values: Array) -> Array:
    """Index of a maximum of ``values``, uniformly at random among ties."""
    return pick_tied_max(values, jax.random.uniform(key))


def categorical(key: PRNGKey, probs: Array) -> Array:
    """An index drawn with probabilities proportional to ``probs``, by inverting their CDF.

    One scalar uniform draw (the Gumbel trick of :func:`jax.random.categorical` draws one per arm).
    """
    cdf = jnp.cumsum(probs)
    index = jnp.searchsorted(cdf, jax.random.uniform(key) * cdf[-1], side="right")
    return jnp.minimum(index, probs.size - 1).astype(jnp.int32)


def uniform_arm(u: Array, n_arms: int) -> Array:
    """Arm ``floor(u * n_arms)`` for ``u`` uniform on [0, 1): a uniformly random arm."""
    return jnp.minimum(jnp.floor(u * n_arms), n_arms - 1).astype(jnp.int32)


def decayed(value: Array, decay: Scalar, minimum: Scalar) -> Array:
    r"""One step of a floored exponential decay, :math:`\max(v \cdot d, v_{min})`, in ``value``'s dtype
    (the epsilon of the epsilon-greedy agents, DDPG's exploration noise)."""
    return jnp.maximum(value * decay, minimum).astype(value.dtype)


def ucb_indices(R: Array, N: Array, c: float) -> Array:
    r"""UCB index :math:`R_a / N_a + c \sqrt{\ln n / N_a}` of every arm, :math:`n = \sum_b N_b`;
    :math:`+\infty` for arms with :math:`N_a = 0`."""
    tried = N > 0
    pulls = jnp.where(tried, N, 1.0)
    log_n = jnp.log(jnp.maximum(jnp.sum(N), 1.0))
    return jnp.where(tried, R / pulls + c * jnp.sqrt(log_n / pulls), jnp.inf)


def greedy_probabilities(values: Array) -> Array:
    """The distribution of a best arm of ``values`` with ties broken uniformly: ``1 / m`` on each
    of the ``m`` maxima."""
    ties = (values == jnp.max(values)).astype(jnp.float32)
    return ties / jnp.sum(ties)


#: Draws of ``sample`` behind the Monte-Carlo ``action_probabilities`` of sampling agents: each
#: probability is then within about ``1 / sqrt(4 * 4000) = 0.008`` (one standard deviation).
ACTION_PROBABILITY_DRAWS = 4000


def sampled_probabilities(
    sample, state, key: PRNGKey, n_arms: int, n_draws: int, **observations
) -> Array:
    """Monte-Carlo estimate of the distribution over ``n_arms`` of
    ``sample(state, key, **observations)``.

    The share of each arm among ``n_draws`` draws with independent keys split from ``key``.
    """
    keys = jax.random.split(key, n_draws)
    actions = jax.vmap(lambda k: sample(state, k, **observations))(keys)
    return jnp.mean(actions[:, None] == jnp.arange(n_arms), axis=0, dtype=jnp.float32)
