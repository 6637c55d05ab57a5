"""Linear Thompson sampling with one Bayesian ridge-regression model per arm."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Scalar

from agentax._validation import Real, validate
from agentax.agents._arms import ACTION_PROBABILITY_DRAWS, sampled_probabilities
from agentax.agents.contextual._linear import LinearBandit, LinearState, mean_and_width

__all__ = ["LinTS"]


class LinTS(LinearBandit):
    r"""Linear Thompson sampling with disjoint linear models (one per arm).

    The models are those of :class:`LinUCB`: arm :math:`a` has features :math:`x_a` (row ``a``
    of ``context``), estimate :math:`\hat\theta_a = A_a^{-1} b_a` and posterior
    :math:`\theta_a \sim \mathcal N(\hat\theta_a, v^2 A_a^{-1})`. Sampling draws a parameter
    from each posterior and plays the arm that looks best under the draw:

    .. math::
        \tilde\theta_a \sim \mathcal N(\hat\theta_a, v^2 A_a^{-1}), \qquad
        a = \arg\max_a x_a^\top \tilde\theta_a

    Each arm's model is used once per step, so :math:`x_a^\top \tilde\theta_a` is drawn directly
    as :math:`x_a^\top \hat\theta_a + v \sqrt{x_a^\top A_a^{-1} x_a}\, z_a`, :math:`z_a \sim
    \mathcal N(0, 1)`: the same distribution, with one draw of ``n_arms`` normals and no matrix
    factorisation. Ties (probability zero unless some feature vectors are zero) go to the lowest
    index.

    Observations: as :class:`LinUCB`, ``sample(context)`` and ``update(action, reward,
    action_context)``.

    Refused, nothing clipped: through :class:`agentax.RLib`, a reward or a context that is not
    finite in float32 raises :class:`~agentax.errors.ObservationError` (also when an extension
    computes it), and an update that would make the state non-finite (e.g. features so large that
    their outer products overflow) :class:`~agentax.errors.NonFiniteStateError`.

    Args:
      n_arms: number of arms.
      n_features: length of each arm's feature vector.
      v: scale of the posterior, >= 0 (0 is greedy); the theory sets it from the reward noise,
        :math:`v = R\sqrt{24 d \ln(1/\delta) / \epsilon}`, which is far too cautious in practice.
      lam: ridge regularisation :math:`\lambda > 0` (the prior precision of each :math:`\theta_a`).

    Reference:
      S. Agrawal, N. Goyal, "Thompson sampling for contextual bandits with linear payoffs",
      ICML 2013 (Algorithm 1, here with one model per arm).
    """

    PARAMETERS = {**LinearBandit.PARAMETERS, "v": Real(0.0)}

    def __init__(self, n_arms: int, n_features: int, v: Scalar = 1.0, lam: Scalar = 1.0) -> None:
        super().__init__(n_arms, n_features, lam)
        v = validate(self.PARAMETERS, v=v)["v"]
        self.sample = jax.jit(partial(self.sample, v=v))

    @staticmethod
    def sample(state: LinearState, key: PRNGKey, context: Array, v: float) -> Array:
        """The best arm under one draw from every arm's posterior."""
        mean, width = mean_and_width(state, context)
        return jnp.argmax(mean + v * width * jax.random.normal(key, mean.shape))

    def action_probabilities(self, state: LinearState, key: PRNGKey, context: Array) -> Array:
        """A Monte-Carlo estimate of the distribution of :meth:`sample` (an argmax of posterior draws
        has no closed form): the share of each arm among ``ACTION_PROBABILITY_DRAWS`` (4000) draws."""
        return sampled_probabilities(
            self.sample, state, key, self.n_arms, ACTION_PROBABILITY_DRAWS, context=context
        )
