r"""Disjoint linear models shared by :class:`LinUCB` and :class:`LinTS`: state, update, scores.

Every arm :math:`a` has its own ridge-regression model of the reward, :math:`r \approx x^\top
\theta_a`, from the feature vectors :math:`x` it was played with. The state keeps
:math:`A_a^{-1}` (updated by Sherman–Morrison, so no matrix is ever inverted), :math:`b_a` and
:math:`\hat\theta_a = A_a^{-1} b_a`.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar, dataclass

from agentax._validation import Int, Real, validate
from agentax.agents.base import AgentState
from agentax.agents.contextual._common import ContextualBandit

__all__ = ["LinearState", "LinearBandit", "mean_and_width"]


@dataclass
class LinearState(AgentState):
    r"""State of the disjoint linear bandits.

    Attributes:
      A_inv: :math:`A_a^{-1}`, the inverse of :math:`\lambda I + \sum x x^\top` over the feature
        vectors arm ``a`` was played with; shape ``(n_arms, n_features, n_features)``.
      b: :math:`b_a = \sum r\,x` over the same plays; shape ``(n_arms, n_features)``.
      theta: :math:`\hat\theta_a = A_a^{-1} b_a`, the ridge estimate; shape ``(n_arms, n_features)``.
    """

    A_inv: Array
    b: Array
    theta: Array


class LinearBandit(ContextualBandit):
    """Base of the disjoint linear bandits: validation, spaces, ``init`` and ``update``.

    Subclasses add their exploration parameter and ``sample``.
    """

    PARAMETERS = {"n_arms": Int(), "n_features": Int(), "lam": Real(0.0, low_open=True)}

    def __init__(self, n_arms: int, n_features: int, lam: Scalar) -> None:
        self.n_arms, self.n_features, lam = validate(
            LinearBandit.PARAMETERS, n_arms=n_arms, n_features=n_features, lam=lam
        ).values()
        self.init = jax.jit(
            partial(self.init, n_arms=self.n_arms, n_features=self.n_features, lam=lam)
        )
        self.update = jax.jit(self.update)

    @staticmethod
    def init(key: PRNGKey, n_arms: int, n_features: int, lam: float) -> LinearState:
        r"""No data yet: :math:`A_a = \lambda I`, :math:`b_a = 0`, :math:`\hat\theta_a = 0`."""
        eye = jnp.eye(n_features, dtype=jnp.float32) / lam
        return LinearState(
            A_inv=jnp.broadcast_to(eye, (n_arms, n_features, n_features)),
            b=jnp.zeros((n_arms, n_features), dtype=jnp.float32),
            theta=jnp.zeros((n_arms, n_features), dtype=jnp.float32),
        )

    @staticmethod
    def update(
        state: LinearState, key: PRNGKey, action: Array, reward: Scalar, action_context: Array
    ) -> LinearState:
        r"""Add the play of arm :math:`a` with features :math:`x` and reward :math:`r` to its model.

        .. math::
            u = A_a^{-1} x, \qquad
            A_a^{-1} \leftarrow A_a^{-1} - \frac{u u^\top}{1 + x^\top u}, \qquad
            b_a \leftarrow b_a + r\,x, \qquad
            \hat\theta_a \leftarrow A_a^{-1} b_a

        (Sherman–Morrison: the inverse of :math:`A_a + x x^\top`, in :math:`O(d^2)`; the
        denominator is at least 1, and :math:`u u^\top` keeps the matrix exactly symmetric.)
        """
        x = jnp.asarray(action_context, dtype=jnp.float32)
        reward = jnp.asarray(reward, dtype=jnp.float32)
        u = state.A_inv[action] @ x
        # times the reciprocal, as XLA rewrites a division by a broadcast value: IREE then computes
        # the same fused multiply-subtract (agentax.export)
        A_inv = state.A_inv[action] - jnp.outer(u, u) * (1.0 / (1.0 + _ordered_dot(x, u)))
        b = state.b[action] + reward * x
        return LinearState(
            A_inv=state.A_inv.at[action].set(A_inv),
            b=state.b.at[action].set(b),
            theta=state.theta.at[action].set(A_inv @ b),
        )


def _ordered_dot(x: Array, y: Array) -> Array:
    """``x @ y`` for vectors, summed term by term in index order with one multiply-add per term:
    XLA's CPU dot, bit for bit, written out so that IREE, whose dot adds the rounded products,
    computes it the same way (agentax.export)."""
    total = x[0] * y[0]
    for j in range(1, x.shape[0]):
        total = x[j] * y[j] + total
    return total


def mean_and_width(state: LinearState, context: Array) -> tuple[Array, Array]:
    r"""Each arm's estimated reward :math:`x_a^\top \hat\theta_a` and width :math:`\sqrt{x_a^\top A_a^{-1} x_a}`.

    Args:
      state: the linear models.
      context: feature vectors, shape ``(n_arms, n_features)``.

    Returns:
      Two arrays of shape ``(n_arms,)``.
    """
    context = jnp.asarray(context, dtype=jnp.float32)
    mean = jnp.einsum("ad,ad->a", context, state.theta)
    variance = jnp.einsum("ad,ade,ae->a", context, state.A_inv, context)
    return mean, jnp.sqrt(jnp.maximum(variance, 0.0))
