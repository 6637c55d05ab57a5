"""A pure rollout buffer for on-policy agents over vectorized environments, and GAE.

The buffer is built like an optax transformation: :func:`rollout_buffer` validates the sizes in
Python and closes over them, and returns pure functions over a :class:`Rollout` state, which
holds only arrays (its sizes are read back from their shapes).

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

import chex
import jax
import jax.numpy as jnp
from chex import Array, PRNGKey, Shape, dataclass

from agentax._validation import check_positive_int, check_range, check_shape

__all__ = ["Rollout", "RolloutBatch", "RolloutBuffer", "rollout_buffer", "generalized_advantage_estimation"]


def generalized_advantage_estimation(
    v_tm1: Array,
    r_t: Array,
    discount_t: Array,
    v_t: Array,
    lambda_: Array | float,
) -> Array:
    r"""Generalized advantage estimates along one trajectory (unbatched; vmap for many).

    Element :math:`t` describes the transition :math:`s_{t-1} \to s_t`:

    .. math::
        \delta_t = r_t + \gamma_t V(s_t) - V(s_{t-1}), \qquad
        A_t = \delta_t + \gamma_t \lambda_t A_{t+1}, \qquad A_{T+1} = 0

    A terminated transition has :math:`\gamma_t = 0`: no bootstrap and no trace. A truncated one
    keeps :math:`\gamma_t` (it bootstraps from the value of the truncated state :math:`s_t`) and
    has :math:`\lambda_t = 0`, so that the next episode's advantages do not leak into it.
    :math:`\lambda = 0` gives the one-step TD error, :math:`\lambda = 1` the Monte-Carlo return
    minus :math:`V(s_{t-1})`.

    Args:
      v_tm1: values :math:`V(s_{t-1})` of the states the actions were taken in, shape ``(T,)``.
      r_t: rewards, shape ``(T,)``.
      discount_t: discounts :math:`\gamma_t` (0 where :math:`s_t` is terminal), shape ``(T,)``.
      v_t: values :math:`V(s_t)` of the states reached, shape ``(T,)``.
      lambda_: the trace parameter, a scalar or one per step, shape ``(T,)``.

    Returns:
      The advantages :math:`A_t`, shape ``(T,)``; the :math:`\lambda`-returns are ``A + v_tm1``.

    Reference:
      J. Schulman, P. Moritz, S. Levine, M. Jordan, P. Abbeel, "High-dimensional continuous
      control using generalized advantage estimation", ICLR 2016.
    """
    chex.assert_rank([v_tm1, r_t, discount_t, v_t], 1)
    chex.assert_equal_shape([v_tm1, r_t, discount_t, v_t])
    chex.assert_type([v_tm1, r_t, discount_t, v_t], float)
    lambda_ = jnp.broadcast_to(jnp.asarray(lambda_, v_t.dtype), v_t.shape)
    delta_t = r_t + discount_t * v_t - v_tm1

    def backwards(advantage_tp1, step):
        delta, discount, lambda_t = step
        advantage = delta + discount * lambda_t * advantage_tp1
        return advantage, advantage

    _, advantage_t = jax.lax.scan(backwards, jnp.zeros((), v_t.dtype), (delta_t, discount_t, lambda_), reverse=True)
    return advantage_t


@dataclass
class Rollout:
    """The arrays of a rollout buffer; ``T`` rows (time steps) of ``N`` environments.

    Attributes:
      observations: :math:`s_{t-1}`, shape ``(T, N, *obs_shape)``.
      actions: the actions taken, shape ``(T, N, *act_shape)``.
      rewards: :math:`r_t`, shape ``(T, N)``.
      terminated: whether :math:`s_t` is terminal, shape ``(T, N)``.
      truncated: whether the episode was cut at :math:`s_t` (not terminal), shape ``(T, N)``.
      values: :math:`V(s_{t-1})` under the acting policy, shape ``(T, N)``.
      log_probs: log-probabilities of the actions under the acting policy, shape ``(T, N)``.
      valid: whether a row is a real transition (see the module docstring), shape ``(T, N)``.
      step: how many rows are written, shape ``()``.
    """

    observations: Array
    actions: Array
    rewards: Array
    terminated: Array
    truncated: Array
    values: Array
    log_probs: Array
    valid: Array
    step: Array


class RolloutBatch(NamedTuple):
    """Transitions of a full rollout, flattened over time and environments, ready to learn from.

    Every field has the same leading axes: ``(T * N,)`` from :attr:`RolloutBuffer.get`, and
    ``(num_minibatches, batch_size)`` from :attr:`RolloutBuffer.minibatches`.
    """

    observations: Array
    actions: Array
    log_probs: Array
    values: Array
    advantages: Array
    returns: Array
    valid: Array


class RolloutBuffer(NamedTuple):
    """The pure functions of a rollout buffer (see :func:`rollout_buffer`).

    Attributes:
      init: ``init() -> Rollout``, an empty buffer.
      append: ``append(rollout, observations, actions, rewards, terminated, truncated, values,
        log_probs, valid) -> Rollout`` writes one row (one value per environment).
      is_ready: ``is_ready(rollout) -> bool array``, whether every row is written.
      get: ``get(rollout, last_values) -> RolloutBatch``, the rollout with its advantages and
        returns, given the values :math:`V(s_T)` of the observations after the last row.
      minibatches: ``minibatches(batch, key) -> RolloutBatch``, a random permutation of ``batch``
        split into minibatches of ``batch_size``.
    """

    init: Callable[[], Rollout]
    append: Callable[..., Rollout]
    is_ready: Callable[[Rollout], Array]
    get: Callable[[Rollout, Array], RolloutBatch]
    minibatches: Callable[[RolloutBatch, PRNGKey], RolloutBatch]


def rollout_buffer(
    rollout_length: int,
    num_envs: int,
    batch_size: int,
    discount: float,
    lambda_gae: float,
    obs_shape: Shape,
    act_shape: Shape = (),
    act_dtype: jnp.dtype = jnp.float32,
) -> RolloutBuffer:
    r"""Build a rollout buffer for ``num_envs`` environments stepped together.

    Advantages are :func:`generalized_advantage_estimation` per environment, with
    :math:`\gamma_t = \gamma (1 - \text{terminated}_t)` and
    :math:`\lambda_t = \lambda (1 - \text{truncated}_t)`; returns are advantages plus values.

    Args:
      rollout_length: rows (time steps) per rollout, ``T``.
      num_envs: environments per row, ``N``.
      batch_size: transitions per minibatch; must divide ``T * N``.
      discount: :math:`\gamma`, in [0, 1].
      lambda_gae: :math:`\lambda`, in [0, 1].
      obs_shape: shape of one observation.
      act_shape: shape of one action (``()`` for a discrete action).
      act_dtype: dtype of the actions (``jnp.int32`` for discrete ones).

    Raises:
      ValueError: naming the size or coefficient that is out of range.

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
    discount = check_range("discount", discount, 0.0, 1.0)
    lambda_gae = check_range("lambda_gae", lambda_gae, 0.0, 1.0)
    obs_shape = check_shape("obs_shape", obs_shape, minimum=1)
    act_shape = check_shape("act_shape", act_shape, minimum=1)
    rows = (rollout_length, num_envs)

    def init() -> Rollout:
        return Rollout(
            observations=jnp.zeros((*rows, *obs_shape), jnp.float32),
            actions=jnp.zeros((*rows, *act_shape), act_dtype),
            rewards=jnp.zeros(rows, jnp.float32),
            terminated=jnp.zeros(rows, bool),
            truncated=jnp.zeros(rows, bool),
            values=jnp.zeros(rows, jnp.float32),
            log_probs=jnp.zeros(rows, jnp.float32),
            valid=jnp.zeros(rows, bool),
            step=jnp.zeros((), jnp.int32),
        )

    def append(rollout, observations, actions, rewards, terminated, truncated, values, log_probs, valid) -> Rollout:
        row = {
            "observations": observations, "actions": actions, "rewards": rewards, "terminated": terminated,
            "truncated": truncated, "values": values, "log_probs": log_probs, "valid": valid,
        }
        written = {
            name: getattr(rollout, name).at[rollout.step].set(jnp.asarray(value, getattr(rollout, name).dtype))
            for name, value in row.items()
        }
        return Rollout(**written, step=rollout.step + 1)

    def is_ready(rollout: Rollout) -> Array:
        return rollout.step >= rollout.rewards.shape[0]

    def get(rollout: Rollout, last_values: Array) -> RolloutBatch:
        v_t = jnp.concatenate([rollout.values[1:], last_values[None].astype(jnp.float32)])
        discount_t = discount * (1.0 - rollout.terminated.astype(jnp.float32))
        lambda_t = lambda_gae * (1.0 - rollout.truncated.astype(jnp.float32))
        gae = jax.vmap(generalized_advantage_estimation, in_axes=1, out_axes=1)
        advantages = gae(rollout.values, rollout.rewards, discount_t, v_t, lambda_t)
        flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731
        return RolloutBatch(
            observations=flat(rollout.observations),
            actions=flat(rollout.actions),
            log_probs=flat(rollout.log_probs),
            values=flat(rollout.values),
            advantages=flat(advantages),
            returns=flat(advantages + rollout.values),
            valid=flat(rollout.valid),
        )

    def minibatches(batch: RolloutBatch, key: PRNGKey) -> RolloutBatch:
        order = jax.random.permutation(key, batch.valid.shape[0]).reshape(-1, batch_size)
        return jax.tree.map(lambda x: x[order], batch)

    return RolloutBuffer(init=init, append=append, is_ready=is_ready, get=get, minibatches=minibatches)
