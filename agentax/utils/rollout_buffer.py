"""A pure rollout buffer for on-policy agents over vectorized environments.

The buffer is built like an optax transformation: :func:`rollout_buffer` validates the sizes in
Python and closes over them, and returns a :class:`RolloutMemory` of pure functions over a
:class:`RolloutBuffer` state, which holds only arrays (its sizes are read back from their shapes).
The advantages the agent learns from are worked out by the agent (PPO uses
:func:`agentax.agents.deep.generalized_advantage_estimation`) and handed to ``get``.

Rows are time steps, columns are environments. Each row holds, per environment, the transition
``s_{t-1} -> s_t`` as an on-policy agent sees it: the observation ``s_{t-1}`` the action was
taken in, the action, its log-probability and the value :math:`V(s_{t-1})` under the policy
that acted, then the reward ``r_t`` and whether ``s_t`` ended the episode by termination or by
truncation. A row may be marked invalid: it joins the last observation of an episode to the
first of the next (gymnasium's vector environments spend one step on an automatic reset), so it
is never learned from, but its value :math:`V(s_{t-1})` is the value of the last state of the
episode, which a truncated transition bootstraps from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Shape, dataclass

from agentax._validation import check_positive_int, check_shape

__all__ = ["RolloutBatch", "RolloutBuffer", "RolloutMemory", "rollout_buffer"]


@dataclass
class RolloutBuffer:
    """The arrays of a rollout buffer (its state); ``T`` rows (time steps) of ``N`` environments.

    Attributes:
      observations: :math:`s_{t-1}`, shape ``(T, N, *obs_shape)``.
      actions: the actions taken, shape ``(T, N, *act_shape)``.
      rewards: :math:`r_t`, shape ``(T, N)``.
      terminals: whether :math:`s_t` is terminal, shape ``(T, N)``.
      truncated: whether the episode was cut at :math:`s_t` (not terminal), shape ``(T, N)``.
      values: :math:`V(s_{t-1})` under the acting policy, shape ``(T, N)``.
      log_probs: log-probabilities of the actions under the acting policy, shape ``(T, N)``.
      valid: whether a row is a real transition (see the module docstring), shape ``(T, N)``.
      step: how many rows are written, shape ``()``.
    """

    observations: Array
    actions: Array
    rewards: Array
    terminals: Array
    truncated: Array
    values: Array
    log_probs: Array
    valid: Array
    step: Array


class RolloutBatch(NamedTuple):
    """Transitions of a full rollout, flattened over time and environments, ready to learn from.

    Every field has the same leading axes: ``(T * N,)`` from :attr:`RolloutMemory.get`, and
    ``(num_minibatches, batch_size)`` from :attr:`RolloutMemory.minibatches`.
    """

    observations: Array
    actions: Array
    log_probs: Array
    values: Array
    advantages: Array
    returns: Array
    valid: Array


class RolloutMemory(NamedTuple):
    """The pure functions of a rollout buffer (see :func:`rollout_buffer`).

    Attributes:
      init: ``init() -> RolloutBuffer``, an empty buffer.
      append: ``append(buffer, observations, actions, rewards, terminals, truncated, values,
        log_probs, valid) -> RolloutBuffer`` writes one row (one value per environment).
      is_ready: ``is_ready(buffer) -> bool array``, whether every row is written.
      get: ``get(buffer, advantages) -> RolloutBatch``, the rollout with the given advantages
        (shape ``(T, N)``) and the returns they imply (advantages plus values), flattened.
      minibatches: ``minibatches(batch, key) -> RolloutBatch``, a random permutation of ``batch``
        split into minibatches of ``batch_size``.
    """

    init: Callable[[], RolloutBuffer]
    append: Callable[..., RolloutBuffer]
    is_ready: Callable[[RolloutBuffer], Array]
    get: Callable[[RolloutBuffer, Array], RolloutBatch]
    minibatches: Callable[[RolloutBatch, PRNGKey], RolloutBatch]


def rollout_buffer(
    rollout_length: int,
    num_envs: int,
    batch_size: int,
    obs_shape: Shape,
    act_shape: Shape = (),
    act_dtype: jnp.dtype = jnp.float32,
) -> RolloutMemory:
    r"""Build a rollout buffer for ``num_envs`` environments stepped together.

    Args:
      rollout_length: rows (time steps) per rollout, ``T``.
      num_envs: environments per row, ``N``.
      batch_size: transitions per minibatch; must divide ``T * N``.
      obs_shape: shape of one observation.
      act_shape: shape of one action (``()`` for a discrete action).
      act_dtype: dtype of the actions (``jnp.int32`` for discrete ones).

    Raises:
      ValueError: naming the size that is out of range.

    Reference:
      J. Schulman, F. Wolski, P. Dhariwal, A. Radford, O. Klimov, "Proximal policy optimization
      algorithms", arXiv:1707.06347, 2017 (the rollout and minibatch scheme).
    """
    rollout_length = check_positive_int("rollout_length", rollout_length)
    num_envs = check_positive_int("num_envs", num_envs)
    batch_size = check_positive_int("batch_size", batch_size)
    if (rollout_length * num_envs) % batch_size:
        raise ValueError(
            f"batch_size must divide rollout_length * num_envs = {rollout_length * num_envs}, got {batch_size}"
        )
    obs_shape = check_shape("obs_shape", obs_shape, minimum=1)
    act_shape = check_shape("act_shape", act_shape, minimum=1)
    rows = (rollout_length, num_envs)

    def init() -> RolloutBuffer:
        return RolloutBuffer(
            observations=jnp.zeros((*rows, *obs_shape), jnp.float32),
            actions=jnp.zeros((*rows, *act_shape), act_dtype),
            rewards=jnp.zeros(rows, jnp.float32),
            terminals=jnp.zeros(rows, bool),
            truncated=jnp.zeros(rows, bool),
            values=jnp.zeros(rows, jnp.float32),
            log_probs=jnp.zeros(rows, jnp.float32),
            valid=jnp.zeros(rows, bool),
            step=jnp.zeros((), jnp.int32),
        )

    def append(
        buffer, observations, actions, rewards, terminals, truncated, values, log_probs, valid
    ) -> RolloutBuffer:
        row = {
            "observations": observations,
            "actions": actions,
            "rewards": rewards,
            "terminals": terminals,
            "truncated": truncated,
            "values": values,
            "log_probs": log_probs,
            "valid": valid,
        }
        written = {
            name: getattr(buffer, name)
            .at[buffer.step]
            .set(jnp.asarray(value, getattr(buffer, name).dtype))
            for name, value in row.items()
        }
        return RolloutBuffer(**written, step=buffer.step + 1)

    def is_ready(buffer: RolloutBuffer) -> Array:
        return buffer.step >= buffer.rewards.shape[0]

    def get(buffer: RolloutBuffer, advantages: Array) -> RolloutBatch:
        def flat(x):
            return x.reshape(-1, *x.shape[2:])

        return RolloutBatch(
            observations=flat(buffer.observations),
            actions=flat(buffer.actions),
            log_probs=flat(buffer.log_probs),
            values=flat(buffer.values),
            advantages=flat(advantages),
            returns=flat(advantages + buffer.values),
            valid=flat(buffer.valid),
        )

    def minibatches(batch: RolloutBatch, key: PRNGKey) -> RolloutBatch:
        order = jax.random.permutation(key, batch.valid.shape[0]).reshape(-1, batch_size)
        return jax.tree.map(lambda x: x[order], batch)

    return RolloutMemory(
        init=init, append=append, is_ready=is_ready, get=get, minibatches=minibatches
    )
