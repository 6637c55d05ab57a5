"""LinUCB: optimism in the face of uncertainty with one ridge-regression model per arm."""

from __future__ import annotations

from functools import partial

import jax
from chex import Array, PRNGKey, Scalar

from agentax._validation import Real, validate
from agentax.agents._arms import argmax_random_tie, greedy_probabilities
from agentax.agents.contextual._linear import LinearBandit, LinearState, mean_and_width

__all__ = ["LinUCB"]


class LinUCB(LinearBandit):
    r"""LinUCB with disjoint linear models (one per arm).

    Arm :math:`a` is described at each step by a feature vector :math:`x_a` (row ``a`` of
    ``context``) and its expected reward is modelled as :math:`x_a^\top \theta_a`. Each arm keeps
    the ridge estimate :math:`\hat\theta_a = A_a^{-1} b_a`, :math:`A_a = \lambda I + \sum x x^\top`,
    :math:`b_a = \sum r\,x` over its own plays (see :meth:`update`).

    Sampling picks the arm with the highest upper confidence bound (ties at random):

    .. math::
        a = \arg\max_a \; x_a^\top \hat\theta_a + \alpha \sqrt{x_a^\top A_a^{-1} x_a}

    Observations: ``sample(context)`` with ``context`` of shape ``(n_arms, n_features)``;
    ``update(action, reward, action_context)`` with ``action_context`` of shape
    ``(n_features,)``, the played arm's row of the ``context`` it was chosen from.

    Refused, nothing clipped: through :class:`agentax.RLib`, a reward or a context that is not
    finite in float32 raises :class:`~agentax.errors.ObservationError` (also when an extension
    computes it), and an update that would make the state non-finite (e.g. features so large that
    their outer products overflow) :class:`~agentax.errors.NonFiniteStateError`.

    Args:
      n_arms: number of arms.
      n_features: length of each arm's feature vector.
      alpha: width of the confidence bound, >= 0 (0 is greedy).
      lam: ridge regularisation :math:`\lambda > 0` (the prior precision of each :math:`\theta_a`).

    Reference:
      L. Li, W. Chu, J. Langford, R. E. Schapire, "A contextual-bandit approach to personalized
      news article recommendation", WWW 2010 (Algorithm 1).
    """

    PARAMETERS = {**LinearBandit.PARAMETERS, "alpha": Real(0.0)}

    def __init__(
        self, n_arms: int, n_features: int, alpha: Scalar = 1.0, lam: Scalar = 1.0
    ) -> None:
        super().__init__(n_arms, n_features, lam)
        alpha = validate(self.PARAMETERS, alpha=alpha)["alpha"]
        self.sample = jax.jit(partial(self.sample, alpha=alpha))
        self.action_probabilities = jax.jit(partial(self.action_probabilities, alpha=alpha))

    @staticmethod
    def sample(state: LinearState, key: PRNGKey, context: Array, alpha: float) -> Array:
        """The arm with the highest upper confidence bound."""
        mean, width = mean_and_width(state, context)
        return argmax_random_tie(key, mean + alpha * width)

    @staticmethod
    def action_probabilities(
        state: LinearState, key: PRNGKey, context: Array, alpha: float
    ) -> Array:
        """The exact distribution of :meth:`sample`: uniform over the arms of highest bound."""
        mean, width = mean_and_width(state, context)
        return greedy_probabilities(mean + alpha * width)
