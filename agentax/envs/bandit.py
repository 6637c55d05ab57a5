"""Stochastic multi-armed bandit problems in JAX.

A :class:`BanditProblem` has piecewise-stationary arm means: phase ``i`` starts at step
``starts[i]`` (abrupt switches); with ``drift`` the means instead move linearly from one phase's
values to the next (slow drift). Rewards are Bernoulli draws (``noise="bernoulli"``) or Gaussian with standard
deviation ``std`` (``noise="gaussian"``).
:func:`agentax.simulate.simulate` runs an agent on one.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from chex import Array, PRNGKey

__all__ = ["BanditProblem"]


class BanditProblem(NamedTuple):
    """A piecewise-stationary bandit.

    Attributes:
      means: arm means of each phase, shape ``(n_phases, n_arms)``.
      starts: first step of each phase, shape ``(n_phases,)``, increasing, ``starts[0] == 0``.
      noise: ``"bernoulli"`` (means are success probabilities) or ``"gaussian"``.
      std: standard deviation of Gaussian rewards.
      drift: whether the means move linearly between phases instead of switching.
    """

    means: Array
    starts: Array
    noise: Literal["bernoulli", "gaussian"] = "bernoulli"
    std: float = 1.0
    drift: bool = False

    @classmethod
    def stationary(
        cls, means, noise: Literal["bernoulli", "gaussian"] = "bernoulli", std: float = 1.0
    ):
        """One phase with the given arm means."""
        return cls.switching([means], [0], noise, std)

    @classmethod
    def switching(
        cls, means, starts, noise: Literal["bernoulli", "gaussian"] = "bernoulli", std: float = 1.0
    ):
        """Phases with arm means ``means[i]`` from step ``starts[i]`` on.

        Raises:
          ValueError: shapes disagree, ``starts`` does not begin at 0 and increase, a Bernoulli
            mean lies outside [0, 1], or ``std`` is negative.
        """
        means = np.asarray(means, dtype=np.float32)
        starts = np.asarray(starts, dtype=np.int32)
        if means.ndim != 2 or means.shape[0] != starts.shape[0] or means.shape[1] < 1:
            raise ValueError(
                f"means must have shape (n_phases, n_arms) matching starts {starts.shape}, got {means.shape}"
            )
        if starts[0] != 0 or np.any(np.diff(starts) <= 0):
            raise ValueError(f"starts must begin at 0 and increase, got {starts.tolist()}")
        if noise not in ("bernoulli", "gaussian"):
            raise ValueError(f"noise must be 'bernoulli' or 'gaussian', got {noise!r}")
        if noise == "bernoulli" and (np.any(means < 0) or np.any(means > 1)):
            raise ValueError(f"Bernoulli means must lie in [0, 1], got {means.tolist()}")
        if not std >= 0:
            raise ValueError(f"std must be >= 0, got {std!r}")
        return cls(jnp.asarray(means), jnp.asarray(starts), noise, float(std))

    @classmethod
    def drifting(
        cls, means, starts, noise: Literal["bernoulli", "gaussian"] = "bernoulli", std: float = 1.0
    ):
        """Arm means moving linearly from ``means[i]`` at step ``starts[i]`` to ``means[i + 1]`` at
        ``starts[i + 1]``, and constant from the last start on. Checked as :meth:`switching`."""
        return cls.switching(means, starts, noise, std)._replace(drift=True)

    @property
    def n_arms(self) -> int:
        return self.means.shape[1]

    def means_at(self, step: Array) -> Array:
        """Arm means at ``step``."""
        phase = jnp.searchsorted(self.starts, step, side="right") - 1
        if not self.drift or self.starts.shape[0] == 1:
            return self.means[phase]
        following = jnp.minimum(phase + 1, self.starts.shape[0] - 1)
        span = jnp.maximum(self.starts[following] - self.starts[phase], 1)
        weight = jnp.clip((step - self.starts[phase]) / span, 0.0, 1.0)
        return (1.0 - weight) * self.means[phase] + weight * self.means[following]

    def reward(self, key: PRNGKey, step: Array, arm: Array) -> Array:
        """A reward for pulling ``arm`` at ``step``."""
        mean = self.means_at(step)[arm]
        if self.noise == "bernoulli":
            return jax.random.bernoulli(key, mean).astype(jnp.float32)
        return mean + self.std * jax.random.normal(key)
