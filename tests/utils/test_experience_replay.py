"""experience_replay: validation, circular writes, masked appends, sampling only written rows."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.utils import Batch, experience_replay


def _fill(er, buffer, values):
    """Append transitions whose observation is each value (next observation: value + 0.5)."""
    append = jax.jit(er.append)
    for v in values:
        buffer = append(buffer, np.full(2, v), v % 3, 10.0 * v, v % 2 == 0, np.full(2, v + 0.5))
    return buffer


@pytest.mark.parametrize(
    "args, message",
    [
        ((0, 1, (2,), ()), "buffer_size"),
        ((4, 0, (2,), ()), "batch_size"),
        ((4, 5, (2,), ()), "batch_size must be at most buffer_size=4"),
        ((4.0, 2, (2,), ()), "buffer_size"),
        ((True, 1, (2,), ()), "buffer_size"),
        ((4, 2, 2, ()), "obs_shape"),
        ((4, 2, (2,), (-1,)), "act_shape"),
    ],
)
def test_bad_sizes_are_rejected_at_construction(args, message):
    with pytest.raises(ValueError, match=message):
        experience_replay(*args)


def test_init_is_empty_with_the_configured_shapes_and_dtypes():
    er = experience_replay(5, 2, (3,), (), act_dtype=jnp.int32)
    buffer = er.init()
    chex.assert_shape([buffer.observations, buffer.next_observations], (5, 3))
    chex.assert_shape([buffer.actions, buffer.rewards, buffer.terminals], (5,))
    assert buffer.actions.dtype == jnp.int32 and buffer.terminals.dtype == jnp.bool_
    assert int(buffer.size) == 0 and int(buffer.ptr) == 0
    assert not er.is_ready(buffer)


def test_the_buffer_wraps_around_and_overwrites_the_oldest():
    # Capacity 3, five appends of 1..5: rows 0,1,2 get 1,2,3, then 4 and 5 overwrite rows 0 and 1,
    # so the rows hold [4, 5, 3], the next write goes to row 2 and the size stays 3.
    er = experience_replay(3, 2, (2,), (), act_dtype=jnp.int32)
    buffer = _fill(er, er.init(), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(buffer.observations[:, 0], [4, 5, 3])
    np.testing.assert_array_equal(buffer.next_observations[:, 0], [4.5, 5.5, 3.5])
    np.testing.assert_array_equal(buffer.actions, [4 % 3, 5 % 3, 3 % 3])
    np.testing.assert_array_equal(buffer.rewards, [40.0, 50.0, 30.0])
    np.testing.assert_array_equal(buffer.terminals, [True, False, False])
    assert int(buffer.ptr) == 2 and int(buffer.size) == 3


def test_an_invalid_append_changes_nothing_even_when_full():
    er = experience_replay(3, 1, (2,), ())
    full = _fill(er, er.init(), [1, 2, 3, 4])
    skipped = jax.jit(er.append)(full, jnp.full(2, 9.0), 2, 9.0, True, jnp.full(2, 9.0), False)
    chex.assert_trees_all_equal(skipped, full)


def test_sampling_never_returns_unwritten_rows():
    # Values start at 1, so a row never written (all zeros) would show up as obs 0.
    er = experience_replay(10, 4, (2,), ())
    buffer = _fill(er, er.init(), [1, 2])
    assert not er.is_ready(buffer)
    buffer = _fill(er, buffer, [3, 4])
    assert er.is_ready(buffer)
    sample = jax.jit(er.sample)
    seen = set()
    for seed in range(50):
        batch = sample(buffer, jax.random.PRNGKey(seed))
        assert isinstance(batch, Batch)
        chex.assert_shape([batch.observations, batch.next_observations], (4, 2))
        np.testing.assert_array_equal(
            batch.next_observations, batch.observations + 0.5
        )  # rows are whole transitions
        np.testing.assert_array_equal(batch.rewards, 10.0 * batch.observations[:, 0])
        seen.update(np.asarray(batch.observations[:, 0]).tolist())
    assert seen == {1.0, 2.0, 3.0, 4.0}


def test_functions_vmap_over_buffers():
    er = experience_replay(4, 2, (2,), ())
    buffers = jax.vmap(lambda _: er.init())(jnp.arange(3))
    buffers = jax.vmap(er.append)(
        buffers,
        jnp.ones((3, 2)),
        jnp.zeros(3),
        jnp.arange(3.0),
        jnp.zeros(3, bool),
        jnp.ones((3, 2)),
        jnp.array([True, False, True]),
    )
    np.testing.assert_array_equal(buffers.size, [1, 0, 1])
    np.testing.assert_array_equal(buffers.rewards[:, 0], [0.0, 0.0, 2.0])
