r"""Losses of the deep agents, and the advantage estimates PPO's loss uses.

Every loss of a batch has one signature, so that :func:`agentax.agents.deep.apply_gradient`
(and :func:`agentax.utils.gradient_step` given a mapping) calls it by keyword::

    loss(params, key, net_state, batch, *, <what else it needs>) -> (loss, new net_state)

where ``params`` are the parameters differentiated, ``net_state`` the network's other
collections, ``key`` the key of its random streams and ``batch`` the sampled transitions. The
per-sample losses (:func:`clipped_surrogate_loss`, :func:`clipped_value_loss`) and
:func:`generalized_advantage_estimation` work on one unbatched example, as in rlax; the TD errors
of the value-based agents are in :mod:`agentax.agents.deep.td`.
"""

from __future__ import annotations

from collections.abc import Callable

import chex
import jax
import jax.numpy as jnp
from chex import Array, ArrayTree, PRNGKey, Scalar
from flax import linen as nn

from agentax.agents.deep._twin import twin_values
from agentax.agents.deep.core import NetworkState, apply_network
from agentax.agents.deep.policies import Policy, tanh_gaussian_actions
from agentax.utils import Batch, RolloutBatch, RolloutBuffer, forward

__all__ = [
    "td_loss",
    "ddpg_target",
    "ddpg_critic_loss",
    "ddpg_actor_loss",
    "clipped_surrogate_loss",
    "clipped_value_loss",
    "ppo_loss",
    "twin_critic_loss",
    "smoothed_target_action",
    "td3_target",
    "sac_target",
    "sac_actor_loss",
    "sac_alpha_loss",
    "generalized_advantage_estimation",
    "rollout_advantages",
]

# A TD error from (q_tm1, a_tm1, r_t, discount_t, q_t_target, q_t_online); see agentax.agents.deep.td.
TDError = Callable[[Array, Array, Array, Array, Array, Array], Array]


# -- value-based agents ------------------------------------------------------------------------


def td_loss(
    params: ArrayTree,
    key: PRNGKey,
    net_state: ArrayTree,
    batch: Batch,
    *,
    target_params: ArrayTree,
    target_net_state: ArrayTree,
    q_network: nn.Module,
    td_error: TDError,
    discount: Scalar,
    loss: Callable[[Array], Array],
) -> tuple[Array, ArrayTree]:
    r"""Mean loss of the TD errors of a batch, and the online network's new state.

    .. math::
        \mathcal{L}(\theta) = \frac1B \sum_{i=1}^{B} \ell(\delta_i), \qquad
        \gamma_i = \gamma\,(1 - \text{terminal}_i)

    where :math:`\delta_i` is ``td_error`` of transition :math:`i` given the online values
    :math:`Q_\theta(s_i)`, the target network's values :math:`Q_{\theta^-}(s'_i)` and the online
    values :math:`Q_\theta(s'_i)` (gradient stopped), and :math:`\ell` is the Huber or L2 loss.
    """
    online_key, target_key, next_key = jax.random.split(key, 3)
    q_tm1, net_state = forward(q_network, params, net_state, online_key, batch.observations)
    q_t_target, _ = forward(
        q_network, target_params, target_net_state, target_key, batch.next_observations
    )
    q_t_online, _ = forward(
        q_network, params, net_state, next_key, batch.next_observations
    )  # dead code unless used
    discount_t = jnp.where(batch.terminals, 0.0, discount).astype(q_tm1.dtype)
    errors = jax.vmap(td_error)(
        q_tm1,
        batch.actions,
        batch.rewards,
        discount_t,
        q_t_target,
        jax.lax.stop_gradient(q_t_online),
    )
    return jnp.mean(loss(errors)), net_state


# -- DDPG --------------------------------------------------------------------------------------


def ddpg_target(r_t: Array, discount_t: Array, q_target_t: Array) -> Array:
    r"""The critic's regression target, :math:`y_t = r_t + \gamma_t Q'(s_t, \pi'(s_t))`.

    Args:
      r_t: rewards.
      discount_t: :math:`\gamma` where :math:`s_t` is not terminal, 0 where it is (a truncated
        transition keeps :math:`\gamma`: it bootstraps from the truncated state).
      q_target_t: the target critic's value of the target actor's action in :math:`s_t`.
    """
    return r_t + discount_t * q_target_t


def ddpg_critic_loss(
    params: ArrayTree,
    key: PRNGKey,
    net_state: ArrayTree,
    batch: Batch,
    *,
    target: Array,
    q_network: nn.Module,
) -> tuple[Array, ArrayTree]:
    r"""Mean of :math:`\tfrac12 (Q_\theta(s_{t-1}, a_{t-1}) - y_t)^2` over a batch; ``target`` is
    :math:`y_t` from :func:`ddpg_target` (a constant for the gradient).

    Returns:
      ``(loss, net_state)`` of the critic.
    """
    q_tm1, net_state = forward(q_network, params, net_state, key, batch.observations, batch.actions)
    return jnp.mean(0.5 * (jnp.reshape(q_tm1, target.shape) - target) ** 2), net_state


def ddpg_actor_loss(
    params: ArrayTree,
    key: PRNGKey,
    net_state: ArrayTree,
    batch: Batch,
    *,
    critic: NetworkState,
    a_network: nn.Module,
    q_network: nn.Module,
) -> tuple[Array, ArrayTree]:
    r"""Mean of :math:`-Q(s, \pi_\phi(s))` over the batch's observations (minimized in :math:`\phi`),
    with the online ``critic``.

    Returns:
      ``(loss, net_state)`` of the actor.
    """
    actor_key, critic_key = jax.random.split(key)
    actions, net_state = forward(a_network, params, net_state, actor_key, batch.observations)
    q, _ = apply_network(q_network, critic, critic_key, batch.observations, actions)
    return -jnp.mean(q), net_state


# -- PPO ---------------------------------------------------------------------------------------


def clipped_surrogate_loss(ratio_t: Array, adv_t: Array, epsilon: Scalar) -> Array:
    r"""PPO's clipped policy loss of one sample (minimized).

    .. math::
        L = -\min\big(\rho_t A_t,\ \mathrm{clip}(\rho_t, 1 - \epsilon, 1 + \epsilon) A_t\big),
        \qquad \rho_t = \pi_\theta(a_t \mid s_t) / \pi_{\theta_{old}}(a_t \mid s_t)

    Reference:
      J. Schulman, F. Wolski, P. Dhariwal, A. Radford, O. Klimov, "Proximal policy optimization
      algorithms", arXiv:1707.06347, 2017, equation (7).
    """
    return -jnp.minimum(ratio_t * adv_t, jnp.clip(ratio_t, 1.0 - epsilon, 1.0 + epsilon) * adv_t)


def clipped_value_loss(
    v_t: Array, v_old_t: Array, return_t: Array, epsilon: Scalar | None
) -> Array:
    r"""Value loss of one sample, with the new value kept within :math:`\epsilon` of the old one.

    .. math::
        L = \tfrac12 \max\big((V - R)^2,\ (V_{old} + \mathrm{clip}(V - V_{old}, -\epsilon, \epsilon) - R)^2\big)

    ``epsilon=None`` gives the plain :math:`\tfrac12 (V - R)^2`.
    """
    loss = (v_t - return_t) ** 2
    if epsilon is not None:
        clipped = v_old_t + jnp.clip(v_t - v_old_t, -epsilon, epsilon)
        loss = jnp.maximum(loss, (clipped - return_t) ** 2)
    return 0.5 * loss


def _masked_mean(x: Array, mask: Array) -> Array:
    return jnp.sum(jnp.where(mask, x, 0.0)) / jnp.maximum(jnp.sum(mask), 1)


def _normalize(x: Array, mask: Array) -> Array:
    mean = _masked_mean(x, mask)
    std = jnp.sqrt(_masked_mean((x - mean) ** 2, mask))
    return (x - mean) / (std + 1e-8)


def ppo_loss(
    params: ArrayTree,
    key: PRNGKey,
    net_state: ArrayTree,
    batch: RolloutBatch,
    *,
    network: nn.Module,
    policy: Policy,
    normalize_advantage: bool,
    clip_coef: Scalar,
    clip_value: bool,
    entropy_coef: Scalar,
    value_coef: Scalar,
) -> tuple[Array, ArrayTree]:
    r"""PPO's loss on a minibatch, averaged over its valid transitions.

    .. math::
        \mathcal{L}(\theta) = \mathbb{E}_t\big[L^{clip}_t + c_v L^{V}_t - c_e \mathcal{H}[\pi_\theta](s_t)\big]

    with :func:`clipped_surrogate_loss` :math:`L^{clip}` (advantages normalized to zero mean and
    unit deviation over the minibatch if ``normalize_advantage``), :func:`clipped_value_loss`
    :math:`L^V` (clipped with ``clip_coef`` if ``clip_value``) and the policy's entropy.

    Returns:
      ``(loss, net_state)``.
    """
    outputs, net_state = forward(network, params, net_state, key, batch.observations)
    log_prob, entropy, value = policy.evaluate(outputs, batch.actions)
    advantages = (
        _normalize(batch.advantages, batch.valid) if normalize_advantage else batch.advantages
    )
    per_sample = (
        clipped_surrogate_loss(jnp.exp(log_prob - batch.log_probs), advantages, clip_coef)
        + value_coef
        * clipped_value_loss(value, batch.values, batch.returns, clip_coef if clip_value else None)
        - entropy_coef * entropy
    )
    return _masked_mean(per_sample, batch.valid), net_state


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

    _, advantage_t = jax.lax.scan(
        backwards, jnp.zeros((), v_t.dtype), (delta_t, discount_t, lambda_), reverse=True
    )
    return advantage_t


def rollout_advantages(
    buffer: RolloutBuffer, last_values: Array, *, discount: Scalar, lambda_gae: Scalar
) -> Array:
    r""":func:`generalized_advantage_estimation` of every environment of a full rollout buffer, shape ``(T, N)``,
    with :math:`\gamma_t = \gamma (1 - \text{terminal}_t)` and :math:`\lambda_t = \lambda (1 - \text{truncated}_t)`.

    Args:
      buffer: the rollout; its values are :math:`V(s_{t-1})` under the policy that acted.
      last_values: :math:`V(s_T)` of the observations after the last row, shape ``(N,)``.
      discount, lambda_gae: :math:`\gamma` and :math:`\lambda`.
    """
    v_t = jnp.concatenate([buffer.values[1:], last_values[None].astype(jnp.float32)])
    discount_t = discount * (1.0 - buffer.terminals.astype(jnp.float32))
    lambda_t = lambda_gae * (1.0 - buffer.truncated.astype(jnp.float32))
    gae = jax.vmap(generalized_advantage_estimation, in_axes=1, out_axes=1)
    return gae(buffer.values, buffer.rewards, discount_t, v_t, lambda_t)


# -- TD3 and SAC (twin critics) ---------------------------------------------------------------


def twin_critic_loss(
    params: ArrayTree,
    key: PRNGKey,
    net_state: ArrayTree,
    batch: Batch,
    *,
    target: Array,
    q_network: nn.Module,
) -> tuple[Array, ArrayTree]:
    r"""Sum over the two critics of the batch mean of :math:`\tfrac12 (Q_{\theta_i}(s_{t-1}, a_{t-1}) - y_t)^2`,
    with ``params`` and ``net_state`` stacked on a leading axis of 2; ``target`` is :math:`y_t`
    (a constant for the gradient).

    Returns:
      ``(loss, net_state)`` (the state unchanged).
    """
    q_tm1 = twin_values(q_network, params, net_state, key, batch.observations, batch.actions)
    return jnp.sum(jnp.mean(0.5 * (q_tm1 - jnp.reshape(target, (1, -1))) ** 2, axis=1)), net_state


def smoothed_target_action(
    mu_t: Array, epsilon: Array, noise_clip: Scalar, low: Array, high: Array
) -> Array:
    r"""Target policy smoothing, :math:`\mathrm{clip}(\pi'(s_t) + \mathrm{clip}(\epsilon, -c, c), a_{min}, a_{max})`.

    Args:
      mu_t: the target actor's actions :math:`\pi'(s_t)`.
      epsilon: the noise, :math:`\mathcal{N}(0, \tilde\sigma^2)` draws of the actions' shape.
      noise_clip: :math:`c`.
      low, high: the action bounds.
    """
    return jnp.clip(mu_t + jnp.clip(epsilon, -noise_clip, noise_clip), low, high)


def td3_target(r_t: Array, discount_t: Array, q_target_t: Array) -> Array:
    r"""The clipped double-Q target :math:`y_t = r_t + \gamma_t \min_{i=1,2} Q'_i(s_t, \tilde a_t)`.

    Args:
      r_t: rewards, shape ``(batch,)``.
      discount_t: :math:`\gamma`, 0 where :math:`s_t` is terminal.
      q_target_t: both target critics' values of the smoothed target action, shape ``(2, batch)``.
    """
    return r_t + discount_t * jnp.min(q_target_t, axis=0)


def sac_target(
    r_t: Array, discount_t: Array, q_target_t: Array, log_prob_t: Array, alpha: Array
) -> Array:
    r"""The soft target :math:`y_t = r_t + \gamma_t (\min_{i=1,2} Q'_i(s_t, a_t) - \alpha \log \pi(a_t | s_t))`,
    :math:`a_t \sim \pi(\cdot | s_t)`.

    Args:
      r_t, discount_t: rewards and discounts (0 where :math:`s_t` is terminal), shape ``(batch,)``.
      q_target_t: both target critics' values of :math:`a_t`, shape ``(2, batch)``.
      log_prob_t: :math:`\log \pi(a_t | s_t)`, shape ``(batch,)``.
      alpha: the entropy coefficient :math:`\alpha`.
    """
    return r_t + discount_t * (jnp.min(q_target_t, axis=0) - alpha * log_prob_t)


def sac_actor_loss(
    params: ArrayTree,
    key: PRNGKey,
    net_state: ArrayTree,
    batch: Batch,
    *,
    epsilon: Array,
    critic: NetworkState,
    alpha: Array,
    a_network: nn.Module,
    q_network: nn.Module,
    low: Array,
    high: Array,
) -> tuple[Array, ArrayTree]:
    r"""Mean of :math:`\alpha \log \pi_\phi(a | s) - \min_{i=1,2} Q_i(s, a)` over the batch's observations
    (minimized in :math:`\phi`), with :math:`a` reparameterized by the standard normal draws
    ``epsilon`` (:func:`~agentax.agents.deep.policies.tanh_gaussian`) and the online twin ``critic``.

    Returns:
      ``(loss, net_state)`` of the actor.
    """
    actor_key, critic_key = jax.random.split(key)
    outputs, net_state = forward(a_network, params, net_state, actor_key, batch.observations)
    actions, log_probs = tanh_gaussian_actions(outputs, epsilon, low, high)
    q = twin_values(
        q_network, critic.params, critic.net_state, critic_key, batch.observations, actions
    )
    return jnp.mean(alpha * log_probs - jnp.min(q, axis=0)), net_state


def sac_alpha_loss(
    params: Array,
    key: PRNGKey,
    net_state: ArrayTree,
    batch: Batch,
    *,
    log_probs: Array,
    target_entropy: Scalar,
) -> tuple[Array, ArrayTree]:
    r"""The temperature's loss :math:`-\alpha\, \mathrm{mean}(\log \pi(a | s) + \bar{\mathcal{H}})` in
    ``params`` :math:`= \log \alpha`: :math:`\alpha` grows while the policy's entropy
    :math:`-\log \pi` is below the target :math:`\bar{\mathcal{H}}` and shrinks while above.
    ``log_probs`` are constants; ``key`` and ``batch`` are unused.

    Returns:
      ``(loss, net_state)``.
    """
    return -jnp.exp(params) * jnp.mean(jax.lax.stop_gradient(log_probs) + target_entropy), net_state
