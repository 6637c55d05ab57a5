"""GAE and the rollout's advantages (agentax.agents.deep.losses) against numbers worked out by hand."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.agents.deep import generalized_advantage_estimation, rollout_advantages
from agentax.utils import rollout_buffer
from tests.utils.test_rollout_buffer import _fill

# One trajectory of three transitions, gamma = 0.9, lambda = 0.5. v_t[k] = v_tm1[k + 1].
V_TM1 = jnp.array([1.0, 2.0, 3.0])
R_T = jnp.array([1.0, 0.0, 2.0])
V_T = jnp.array([2.0, 3.0, 4.0])
# deltas: 1 + 0.9*2 - 1 = 1.8;  0 + 0.9*3 - 2 = 0.7;  2 + 0.9*4 - 3 = 2.6
GAE_CASES = {
    # A3 = 2.6;  A2 = 0.7 + 0.45*2.6 = 1.87;  A1 = 1.8 + 0.45*1.87 = 2.6415
    "plain": ([0.9, 0.9, 0.9], 0.5, [2.6415, 1.87, 2.6]),
    # s_2 terminal: delta2 = 0 - 2 = -2, no trace;  A1 = 1.8 + 0.45*(-2) = 0.9
    "terminated": ([0.9, 0.0, 0.9], 0.5, [0.9, -2.0, 2.6]),
    # s_2 truncated: delta2 keeps the bootstrap 0.7, lambda_2 = 0 cuts the trace; A1 = 1.8 + 0.45*0.7 = 2.115
    "truncated": ([0.9, 0.9, 0.9], [0.5, 0.0, 0.5], [2.115, 0.7, 2.6]),
    # lambda = 1 is Monte Carlo: A1 = 1 + 0.9*0 + 0.81*2 + 0.729*4 - 1 = 4.536;  A2 = 0.7 + 0.9*2.6 = 3.04
    "monte-carlo": ([0.9, 0.9, 0.9], 1.0, [4.536, 3.04, 2.6]),
    # lambda = 0 is the one-step TD error
    "td0": ([0.9, 0.9, 0.9], 0.0, [1.8, 0.7, 2.6]),
}


@pytest.mark.parametrize("name", GAE_CASES)
@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_gae_by_hand(name, jit):
    discount_t, lambda_, expected = GAE_CASES[name]
    gae = jax.jit(generalized_advantage_estimation) if jit else generalized_advantage_estimation
    advantages = gae(V_TM1, R_T, jnp.array(discount_t), V_T, jnp.asarray(lambda_))
    np.testing.assert_allclose(advantages, expected, rtol=1e-6)


def test_gae_under_vmap_matches_each_trajectory():
    names = list(GAE_CASES)
    discounts = jnp.array([GAE_CASES[n][0] for n in names])
    lambdas = jnp.array([jnp.broadcast_to(jnp.asarray(GAE_CASES[n][1]), (3,)) for n in names])
    stacked = lambda x: jnp.broadcast_to(x, (len(names), 3))  # noqa: E731
    gae = jax.vmap(generalized_advantage_estimation)
    advantages = gae(stacked(V_TM1), stacked(R_T), discounts, stacked(V_T), lambdas)
    np.testing.assert_allclose(advantages, [GAE_CASES[n][2] for n in names], rtol=1e-6)


def test_gae_checks_ranks():
    with pytest.raises(AssertionError):
        generalized_advantage_estimation(V_TM1[None], R_T, R_T, V_T, 0.5)


def test_rollout_advantages_at_episode_boundaries():
    buffer = rollout_buffer(3, 2, 2, obs_shape=(3,), act_dtype=jnp.int32)
    rollout = _fill(buffer)
    advantages = jax.jit(rollout_advantages)(
        rollout, jnp.array([4.0, 8.0]), discount=0.9, lambda_gae=0.5
    )
    # gamma = 0.9, lambda = 0.5. Env 0 is the "plain" case above.
    # Env 1, row 2: terminated, A = 2 - 7 = -5 (V(s_T) = 8 ignored).
    # Env 1, row 1 (invalid): delta = 0 + 0.9*7 - 6 = 0.3, A = 0.3 + 0.45*(-5) = -1.95 (never learned from).
    # Env 1, row 0: truncated, bootstraps from row 1's value 6: A = 1 + 0.9*6 - 5 = 1.4, and no trace.
    np.testing.assert_allclose(advantages, [[2.6415, 1.4], [1.87, -1.95], [2.6, -5.0]], rtol=1e-6)
