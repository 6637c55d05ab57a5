"""The rollout buffer: rows written in order, flattened with the advantages given, shuffled into minibatches."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.utils import rollout_buffer


def _fill(buffer):
    """Two environments, three rows.

    Environment 0 runs on: values 1, 2, 3, rewards 1, 0, 2, then V(s_T) = 4 (the "plain" case).
    Environment 1 is truncated after row 0 (value 5, reward 1); row 1 is the automatic reset
    (invalid; its value 6 is V of the truncated state); row 2 (value 7, reward 2) terminates.
    """
    rollout, append = buffer.init(), jax.jit(buffer.append)
    rows = [  # (rewards, terminals, truncated, values, valid)
        ([1.0, 1.0], [False, False], [False, True], [1.0, 5.0], [True, True]),
        ([0.0, 0.0], [False, False], [False, False], [2.0, 6.0], [True, False]),
        ([2.0, 2.0], [False, True], [False, False], [3.0, 7.0], [True, True]),
    ]
    for t, (rewards, terminals, truncated, values, valid) in enumerate(rows):
        assert not buffer.is_ready(rollout)
        observations = jnp.full((2, 3), float(t))
        actions = jnp.array([t, t + 1])
        rollout = append(
            rollout,
            observations,
            actions,
            jnp.array(rewards),
            jnp.array(terminals),
            jnp.array(truncated),
            jnp.array(values),
            jnp.array([-0.1, -0.2]),
            jnp.array(valid),
        )
    return rollout


def test_get_flattens_time_major_with_the_given_advantages():
    buffer = rollout_buffer(3, 2, 2, obs_shape=(3,), act_dtype=jnp.int32)
    rollout = _fill(buffer)
    assert buffer.is_ready(rollout)
    advantages = jnp.array([[0.5, 1.5], [2.5, 3.5], [4.5, 5.5]])
    batch = jax.jit(buffer.get)(rollout, advantages)
    # Flattened time-major: (t=0, env 0), (t=0, env 1), (t=1, env 0), ...
    np.testing.assert_allclose(batch.advantages, [0.5, 1.5, 2.5, 3.5, 4.5, 5.5])
    np.testing.assert_allclose(
        batch.returns, batch.advantages + jnp.array([1, 5, 2, 6, 3, 7.0]), rtol=1e-6
    )
    np.testing.assert_array_equal(batch.valid, [True, True, True, False, True, True])
    np.testing.assert_array_equal(batch.actions, [0, 1, 1, 2, 2, 3])
    np.testing.assert_array_equal(batch.observations[:, 0], [0, 0, 1, 1, 2, 2])
    np.testing.assert_allclose(batch.log_probs, [-0.1, -0.2] * 3, rtol=1e-6)
    assert batch.actions.dtype == jnp.int32


def test_minibatches_are_a_permutation():
    buffer = rollout_buffer(3, 2, 2, obs_shape=(3,))
    batch = buffer.get(_fill(buffer), jnp.arange(6.0).reshape(3, 2))
    minibatches = buffer.minibatches(batch, jax.random.PRNGKey(0))
    assert minibatches.advantages.shape == (3, 2) and minibatches.observations.shape == (3, 2, 3)

    # every transition appears once, with its fields kept together
    def rows(b):
        return sorted(
            zip(np.ravel(b.values).tolist(), np.ravel(b.advantages).tolist(), strict=True)
        )

    assert rows(minibatches) == rows(batch)


def test_init_append_keep_dtypes_and_shapes():
    buffer = rollout_buffer(3, 2, 2, obs_shape=(3,), act_shape=(2,))
    empty = buffer.init()
    written = jax.jit(buffer.append)(
        empty,
        jnp.ones((2, 3)),
        jnp.ones((2, 2)),
        jnp.ones(2),
        jnp.zeros(2, bool),
        jnp.zeros(2, bool),
        jnp.ones(2),
        jnp.ones(2),
        jnp.ones(2, bool),
    )
    chex.assert_trees_all_equal_shapes_and_dtypes(written, empty)
    assert int(written.step) == 1 and int(empty.step) == 0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"rollout_length": 0}, "rollout_length"),
        ({"num_envs": 1.5}, "num_envs"),
        ({"batch_size": 4}, "batch_size"),
        ({"obs_shape": (0,)}, "obs_shape"),
        ({"obs_shape": "abc"}, "obs_shape"),
        ({"act_shape": (2, -1)}, "act_shape"),
    ],
)
def test_sizes_are_validated(kwargs, name):
    arguments = {"rollout_length": 3, "num_envs": 2, "batch_size": 2, "obs_shape": (3,)} | kwargs
    with pytest.raises(ValueError, match=name):
        rollout_buffer(**arguments)
