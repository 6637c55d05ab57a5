"""A uniform experience replay buffer for off-policy agents, as pure functions over a dataclass.

Built like a flashbax buffer: :func:`experience_replay` validates the sizes in Python and returns
``init``, ``append``, ``sample`` and ``is_ready``, pure functions over a :class:`ReplayBuffer`.
The capacity is read back from the arrays' shapes, never stored as an integer; jitting the
functions is left to the caller (an agent calls them inside its own jitted ``update``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
from chex import Array, ArrayTree, PRNGKey, dataclass

from agentax._validation import check_positive_int, check_shape

__all__ = ["Batch", "ExperienceReplay", "ReplayBuffer", "experience_replay"]


@dataclass
class ReplayBuffer:
    """The state of a replay buffer: a circular buffer of transitions
    ``(observations, actions, rewards, terminals, next_observations)``.

    Row ``i`` of every array is one transition; rows ``0 .. size - 1`` hold data, the next one is
    written at ``ptr`` (the oldest row once the buffer is full).

    Attributes:
      observations: observations before the action, shape ``(capacity, *obs_shape)``.
      actions: actions, shape ``(capacity, *act_shape)``.
      rewards: rewards, shape ``(capacity,)``.
      terminals: whether ``next_observations`` ended the episode (no bootstrapping from it), ``(capacity,)``.
      next_observations: observations after the action, shape ``(capacity, *obs_shape)``.
      size: number of rows written, at most the capacity (``int32``).
      ptr: index of the next row to write (``int32``).
    """

    observations: Array
    actions: Array
    rewards: Array
    terminals: Array
    next_observations: Array
    size: Array
    ptr: Array


class Batch(NamedTuple):
    """Transitions sampled from a :class:`ReplayBuffer`, each field with a leading batch axis.

    Unpacks in reinforced-lib's order: ``observations, actions, rewards, terminals, next_observations = batch``.
    """

    observations: Array
    actions: Array
    rewards: Array
    terminals: Array
    next_observations: Array


class ExperienceReplay(NamedTuple):
    """The pure functions of one buffer configuration over a :class:`ReplayBuffer` state (see
    :func:`experience_replay`)."""

    init: Callable[[], ReplayBuffer]
    append: Callable[..., ReplayBuffer]
    sample: Callable[[ReplayBuffer, PRNGKey], Batch]
    is_ready: Callable[[ReplayBuffer], Array]


def experience_replay(
    buffer_size: int,
    batch_size: int,
    obs_shape: Sequence[int],
    act_shape: Sequence[int],
    *,
    obs_dtype: jnp.dtype = jnp.float32,
    act_dtype: jnp.dtype = jnp.float32,
    names: tuple[str, str] = ("buffer_size", "batch_size"),
) -> ExperienceReplay:
    """Build a uniform replay buffer that keeps the latest ``buffer_size`` transitions.

    * ``init()`` returns an empty :class:`ReplayBuffer`;
    * ``append(buffer, observation, action, reward, terminal, next_observation, valid=True)`` writes one
      transition over the oldest row once full; with ``valid`` false the buffer comes back
      unchanged (computed without branching, so it is cheap under :func:`jax.vmap`);
    * ``sample(buffer, key)`` draws ``batch_size`` written rows uniformly, with replacement, and
      returns a :class:`Batch`; rows never written are never drawn (call it when ``is_ready``);
    * ``is_ready(buffer)`` tells whether the buffer holds at least ``batch_size`` transitions.

    Args:
      buffer_size: capacity, in transitions.
      batch_size: transitions per sample, at most ``buffer_size``.
      obs_shape: shape of one observation.
      act_shape: shape of one action (``()`` for a discrete action).
      obs_dtype, act_dtype: dtypes the observations and actions are stored in.
      names: what the errors call ``buffer_size`` and ``batch_size`` (an agent gives its own
        parameters' names).

    Raises:
      ValueError: a size is not a positive integer, ``batch_size > buffer_size``, or a shape is
        not a sequence of non-negative integers.
    """
    buffer_size = check_positive_int(names[0], buffer_size)
    batch_size = check_positive_int(names[1], batch_size)
    if batch_size > buffer_size:
        raise ValueError(f"{names[1]} must be at most {names[0]}={buffer_size}, got {batch_size}")
    obs_shape = check_shape("obs_shape", obs_shape)
    act_shape = check_shape("act_shape", act_shape)

    def init() -> ReplayBuffer:
        return ReplayBuffer(
            observations=jnp.zeros((buffer_size, *obs_shape), obs_dtype),
            actions=jnp.zeros((buffer_size, *act_shape), act_dtype),
            rewards=jnp.zeros(buffer_size, jnp.float32),
            terminals=jnp.zeros(buffer_size, jnp.bool_),
            next_observations=jnp.zeros((buffer_size, *obs_shape), obs_dtype),
            size=jnp.int32(0),
            ptr=jnp.int32(0),
        )

    def append(
        buffer: ReplayBuffer,
        observation: ArrayTree,
        action: ArrayTree,
        reward: ArrayTree,
        terminal: ArrayTree,
        next_observation: ArrayTree,
        valid: ArrayTree = True,
    ) -> ReplayBuffer:
        valid = jnp.asarray(valid, jnp.bool_)
        row = dict(
            observations=observation,
            actions=action,
            rewards=reward,
            terminals=terminal,
            next_observations=next_observation,
        )

        def write(column: Array, value: ArrayTree) -> Array:
            value = jnp.asarray(value, column.dtype).reshape(column.shape[1:])
            return column.at[buffer.ptr].set(jnp.where(valid, value, column[buffer.ptr]))

        capacity = buffer.rewards.shape[0]
        step = valid.astype(jnp.int32)
        return ReplayBuffer(
            **{name: write(getattr(buffer, name), value) for name, value in row.items()},
            size=jnp.minimum(buffer.size + step, capacity),
            ptr=(buffer.ptr + step) % capacity,
        )

    def sample(buffer: ReplayBuffer, key: PRNGKey) -> Batch:
        rows = jax.random.randint(key, (batch_size,), 0, jnp.maximum(buffer.size, 1))
        return Batch(*(getattr(buffer, name)[rows] for name in Batch._fields))

    def is_ready(buffer: ReplayBuffer) -> Array:
        return buffer.size >= batch_size

    return ExperienceReplay(init=init, append=append, sample=sample, is_ready=is_ready)
