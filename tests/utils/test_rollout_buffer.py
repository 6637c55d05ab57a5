"""Rollout buffer and GAE against advantages worked out by hand."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.utils import generalized_advantage_estimation, rollout_buffer

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
    advantages = jax.vmap(generalized_advantage_estimation)(stacked(V_TM1), stacked(R_T), discounts, stacked(V_T), lambdas)
    np.testing.assert_allclose(advantages, [GAE_CASES[n][2] for n in names], rtol=1e-6)


def test_gae_checks_ranks():
    with pytest.raises(AssertionError):
        generalized_advantage_estimation(V_TM1[None], R_T, R_T, V_T, 0.5)


def _fill(buffer):
    """Two environments, three rows (gamma = 0.9, lambda = 0.5).

    Environment 0 runs on: values 1, 2, 3, rewards 1, 0, 2, then V(s_T) = 4 (the "plain" case).
    Environment 1 is truncated after row 0 (value 5, reward 1); row 1 is the automatic reset
    (invalid; its value 6 is V of the truncated state); row 2 (value 7, reward 2) terminates.
    """
    rollout, append = buffer.init(), jax.jit(buffer.append)
    rows = [  # (rewards, terminated, truncated, values, valid)
        ([1.0, 1.0], [False, False], [False, True], [1.0, 5.0], [True, True]),
        ([0.0, 0.0], [False, False], [False, False], [2.0, 6.0], [True, False]),
        ([2.0, 2.0], [False, True], [False, False], [3.0, 7.0], [True, True]),
    ]
    for t, (rewards, terminated, truncated, values, valid) in enumerate(rows):
        assert not buffer.is_ready(rollout)
        observations = jnp.full((2, 3), float(t))
        actions = jnp.array([t, t + 1])
        rollout = append(rollout, observations, actions, jnp.array(rewards), jnp.array(terminated),
                         jnp.array(truncated), jnp.array(values), jnp.array([-0.1, -0.2]), jnp.array(valid))
    return rollout


def test_buffer_advantages_at_episode_boundaries():
    buffer = rollout_buffer(3, 2, 2, discount=0.9, lambda_gae=0.5, obs_shape=(3,), act_dtype=jnp.int32)
    rollout = _fill(buffer)
    assert buffer.is_ready(rollout)
    batch = jax.jit(buffer.get)(rollout, jnp.array([4.0, 8.0]))
    # Flattened time-major: (t=0, env 0), (t=0, env 1), (t=1, env 0), ...
    # Env 1, row 2: terminated, A = 2 - 7 = -5 (V(s_T) = 8 ignored).
    # Env 1, row 1 (invalid): delta = 0 + 0.9*7 - 6 = 0.3, A = 0.3 + 0.45*(-5) = -1.95 (never learned from).
    # Env 1, row 0: truncated, bootstraps from row 1's value 6: A = 1 + 0.9*6 - 5 = 1.4, and no trace.
    np.testing.assert_allclose(batch.advantages, [2.6415, 1.4, 1.87, -1.95, 2.6, -5.0], rtol=1e-6)
    np.testing.assert_allclose(batch.returns, batch.advantages + jnp.array([1, 5, 2, 6, 3, 7.0]), rtol=1e-6)
    np.testing.assert_array_equal(batch.valid, [True, True, True, False, True, True])
    np.testing.assert_array_equal(batch.actions, [0, 1, 1, 2, 2, 3])
    np.testing.assert_array_equal(batch.observations[:, 0], [0, 0, 1, 1, 2, 2])
    assert batch.actions.dtype == jnp.int32


def test_minibatches_are_a_permutation():
    buffer = rollout_buffer(3, 2, 2, discount=0.9, lambda_gae=0.5, obs_shape=(3,))
    batch = buffer.get(_fill(buffer), jnp.array([4.0, 8.0]))
    minibatches = buffer.minibatches(batch, jax.random.PRNGKey(0))
    assert minibatches.advantages.shape == (3, 2) and minibatches.observations.shape == (3, 2, 3)
    # every transition appears once, with its fields kept together
    rows = lambda b: sorted(zip(np.ravel(b.values).tolist(), np.ravel(b.advantages).tolist()))  # noqa: E731
    assert rows(minibatches) == rows(batch)


def test_init_append_keep_dtypes_and_shapes():
    buffer = rollout_buffer(3, 2, 2, discount=0.9, lambda_gae=0.5, obs_shape=(3,), act_shape=(2,))
    empty = buffer.init()
    written = jax.jit(buffer.append)(empty, jnp.ones((2, 3)), jnp.ones((2, 2)), jnp.ones(2), jnp.zeros(2, bool),
                                     jnp.zeros(2, bool), jnp.ones(2), jnp.ones(2), jnp.ones(2, bool))
    chex.assert_trees_all_equal_shapes_and_dtypes(written, empty)
    assert int(written.step) == 1 and int(empty.step) == 0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"rollout_length": 0}, "rollout_length"),
        ({"num_envs": 1.5}, "num_envs"),
        ({"batch_size": 4}, "batch_size"),
        ({"discount": 1.5}, "discount"),
        ({"lambda_gae": -0.1}, "lambda_gae"),
        ({"obs_shape": (0,)}, "obs_shape"),
        ({"obs_shape": "abc"}, "obs_shape"),
        ({"act_shape": (2, -1)}, "act_shape"),
    ],
)
def test_sizes_are_validated(kwargs, name):
    arguments = {"rollout_length": 3, "num_envs": 2, "batch_size": 2, "discount": 0.9, "lambda_gae": 0.5,
                 "obs_shape": (3,)} | kwargs
    with pytest.raises(ValueError, match=name):
        rollout_buffer(**arguments)
