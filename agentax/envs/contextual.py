r"""A synthetic linear contextual bandit in JAX, run by :func:`agentax.simulate.simulate_contextual`.

At every step each arm :math:`a` is described by a fresh feature vector
:math:`x_a \sim \mathcal N(\mu, \operatorname{diag}(\sigma^2))` and pays
:math:`r = x_a^\top \theta_a + \varepsilon`, :math:`\varepsilon \sim \mathcal N(0, s^2)`: the
disjoint linear model of :class:`~agentax.agents.contextual.LinUCB`. A feature with
:math:`\sigma_i = 0` is constant (e.g. a bias of 1).
"""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from chex import Array, PRNGKey

__all__ = ["LinearContextualProblem"]


class LinearContextualProblem(NamedTuple):
    """A stationary linear contextual bandit with one parameter vector per arm.

    Attributes:
      theta: true parameters, shape ``(n_arms, n_features)``.
      context_mean: mean of every arm's features, shape ``(n_features,)``.
      context_std: standard deviation of each feature, shape ``(n_features,)``.
      noise_std: standard deviation of the reward noise.
    """

    theta: Array
    context_mean: Array
    context_std: Array
    noise_std: float = 0.1

    @classmethod
    def create(cls, theta, context_mean=None, context_std=None, noise_std: float = 0.1):
        """A problem with the given parameters; features default to standard normals.

        Raises:
          ValueError: shapes disagree, or a standard deviation is negative.
        """
        theta = np.asarray(theta, dtype=np.float32)
        if theta.ndim != 2 or 0 in theta.shape:
            raise ValueError(f"theta must have shape (n_arms, n_features), got {theta.shape}")
        n_features = theta.shape[1]
        mean = (
            np.zeros(n_features, np.float32)
            if context_mean is None
            else np.asarray(context_mean, np.float32)
        )
        std = (
            np.ones(n_features, np.float32)
            if context_std is None
            else np.asarray(context_std, np.float32)
        )
        for name, value in (("context_mean", mean), ("context_std", std)):
            if value.shape != (n_features,):
                raise ValueError(
                    f"{name} must have shape ({n_features},) like theta's rows, got {value.shape}"
                )
        if np.any(std < 0) or not noise_std >= 0:
            raise ValueError(
                f"context_std and noise_std must be >= 0, got {std.tolist()} and {noise_std!r}"
            )
        return cls(jnp.asarray(theta), jnp.asarray(mean), jnp.asarray(std), float(noise_std))

    @classmethod
    def random(
        cls, seed: int, n_arms: int, n_features: int, noise_std: float = 0.1, bias: bool = True
    ):
        r"""A problem with :math:`\theta_{a,i} \sim \mathcal N(0, 1/d)` drawn from ``seed``.

        With ``bias``, the first feature is a constant 1, so the arms also differ on average and a
        context-blind bandit has something to learn; the others are standard normals.
        """
        theta = np.random.default_rng(seed).normal(size=(n_arms, n_features)) / np.sqrt(n_features)
        mean, std = np.zeros(n_features), np.ones(n_features)
        if bias:
            mean[0], std[0] = 1.0, 0.0
        return cls.create(theta, mean, std, noise_std)

    @property
    def n_arms(self) -> int:
        return self.theta.shape[0]

    @property
    def n_features(self) -> int:
        return self.theta.shape[1]

    def context(self, key: PRNGKey) -> Array:
        """Every arm's feature vector for one step, shape ``(n_arms, n_features)``."""
        noise = jax.random.normal(key, self.theta.shape)
        return self.context_mean + self.context_std * noise

    def means(self, context: Array) -> Array:
        r"""Every arm's expected reward :math:`x_a^\top \theta_a` given ``context``."""
        return jnp.einsum("ad,ad->a", context, self.theta)

    def reward(self, key: PRNGKey, context: Array, arm: Array) -> Array:
        """A reward for pulling ``arm`` given ``context``."""
        return self.means(context)[arm] + self.noise_std * jax.random.normal(key)

    def spaces(self) -> dict[str, gym.spaces.Box]:
        """The raw observations :func:`agentax.simulate.simulate_contextual` gives, by name."""
        return {
            "context": gym.spaces.Box(-np.inf, np.inf, self.theta.shape, float),
            "action_context": gym.spaces.Box(-np.inf, np.inf, (self.n_features,), float),
            "reward": gym.spaces.Box(-np.inf, np.inf, (1,), float),
        }
