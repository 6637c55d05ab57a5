"""Soft actor-critic (SAC) with twin critics and automatic entropy tuning, for continuous actions."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import optax
from chex import Array, Numeric, PRNGKey, Scalar, Shape, dataclass
from flax import linen as nn

from agentax._validation import Flag, Real, validate
from agentax.agents.base import AgentState, BaseAgent
from agentax.agents.deep import _twin
from agentax.agents.deep._actor_critic import actor_critic
from agentax.agents.deep.core import (
    NetworkState,
    apply_gradient,
    apply_network,
    store_transition,
    train_when_ready,
    update_target,
)
from agentax.agents.deep.ddpg import DDPG
from agentax.agents.deep.losses import sac_actor_loss, sac_alpha_loss, sac_target, twin_critic_loss
from agentax.agents.deep.policies import tanh_gaussian_actions
from agentax.utils import Batch, ExperienceReplay, ReplayBuffer

__all__ = ["SACState", "SAC"]


@dataclass
class SACState(AgentState):
    """State of :class:`SAC`.

    Attributes:
      critic: the twin critics (variables stacked on a leading axis of 2), their targets and optimizer.
      actor: the actor and its optimizer (no target).
      alpha: :math:`\\log \\alpha` (its ``params``) and its optimizer.
      replay_buffer: the experience replay buffer.
      prev_env_state: the observation the last action was taken in.
      episode_ended: whether the episode ended at ``prev_env_state``.
    """

    critic: NetworkState
    actor: NetworkState
    alpha: NetworkState
    replay_buffer: ReplayBuffer
    prev_env_state: Array
    episode_ended: Array


def _draw(
    a_network: nn.Module,
    actor: NetworkState,
    key: PRNGKey,
    observations: Array,
    *,
    low: Array,
    high: Array,
) -> tuple[Array, Array]:
    """Actions drawn from the policy for a batch of observations, with their log-probabilities."""
    network_key, noise_key = jax.random.split(key)
    epsilon = jax.random.normal(noise_key, (observations.shape[0], *low.shape))
    return tanh_gaussian_actions(
        apply_network(a_network, actor, network_key, observations)[0], epsilon, low, high
    )


def _target(state: SACState, key: PRNGKey, batch: Batch, *, q_network, draw, discount) -> Array:
    """:func:`~agentax.agents.deep.sac_target` of a batch, at actions of the current policy and
    values of the target critics."""
    policy_key, critic_key = jax.random.split(key)
    a_t, log_prob_t = draw(state.actor, policy_key, batch.next_observations)
    q_t = _twin.twin_values(
        q_network,
        state.critic.target_params,
        state.critic.target_net_state,
        critic_key,
        batch.next_observations,
        a_t,
    )
    return sac_target(
        batch.rewards,
        jnp.where(batch.terminals, 0.0, discount),
        q_t,
        log_prob_t,
        jnp.exp(state.alpha.params),
    )


class SAC(BaseAgent):
    r"""Soft actor-critic: a stochastic tanh-Gaussian actor, twin critics, a tuned entropy coefficient.

    Each ``update`` stores the transition (episode boundaries as :class:`DDPG`) and, once the
    buffer holds a batch, takes ``experience_replay_steps`` rounds of: sample a batch; one step
    of both critics on :func:`~agentax.agents.deep.twin_critic_loss` towards
    :func:`~agentax.agents.deep.sac_target` (actions of the current actor, values of the target
    critics) and the Polyak average of their targets; one actor step on
    :func:`~agentax.agents.deep.sac_actor_loss` with the updated critics; and, if ``autotune``,
    one step of :math:`\log \alpha` on :func:`~agentax.agents.deep.sac_alpha_loss` at actions
    of the updated actor. ``sample`` draws from
    the policy; ``sample_greedy`` returns :math:`c + h \tanh \mu(s)`.

    Args:
      q_network: one critic, called as ``q_network(obs, action)`` (e.g. :class:`DDPGCritic`);
        two independent copies are initialized.
      a_network: the actor, called as ``a_network(obs)`` and returning ``(mean, log_std)`` of
        the action's shape each (e.g. :class:`SACActor`).
      obs_space_shape, act_space_shape, min_action, max_action, discount: as :class:`DDPG`.
      experience_replay_buffer_size, experience_replay_batch_size, experience_replay_steps: as
        :class:`DDPG` (the batch size defaults to 256).
      q_optimizer, a_optimizer, alpha_optimizer: optax optimizers of the critics, actor and
        :math:`\log \alpha`; default Adam with learning rates 1e-3, 3e-4 and 1e-3.
      tau: :math:`\tau`, in (0, 1].
      alpha: the initial (with ``autotune``) or fixed entropy coefficient :math:`\alpha`, > 0.
      autotune: whether :math:`\alpha` is learned.
      target_entropy: :math:`\bar{\mathcal{H}}`; default minus the number of action dimensions.

    References:
      T. Haarnoja, A. Zhou, P. Abbeel, S. Levine, "Soft actor-critic: off-policy maximum entropy
      deep reinforcement learning with a stochastic actor", ICML 2018. T. Haarnoja et al., "Soft
      actor-critic algorithms and applications", arXiv:1812.05905, 2018.
    """

    update_on_first_step = True

    PARAMETERS = {
        **{name: entry for name, entry in DDPG.PARAMETERS.items() if not name.startswith("noise")},
        "alpha": Real(0.0, low_open=True),
        "autotune": Flag(),
        "target_entropy": Real(),
    }

    def __init__(
        self,
        q_network: nn.Module,
        a_network: nn.Module,
        obs_space_shape: Shape,
        act_space_shape: Shape,
        min_action: Numeric,
        max_action: Numeric,
        q_optimizer: optax.GradientTransformation | None = None,
        a_optimizer: optax.GradientTransformation | None = None,
        alpha_optimizer: optax.GradientTransformation | None = None,
        experience_replay_buffer_size: int = 10000,
        experience_replay_batch_size: int = 256,
        experience_replay_steps: int = 1,
        discount: Scalar = 0.99,
        tau: Scalar = 0.005,
        alpha: Scalar = 1.0,
        autotune: bool = True,
        target_entropy: Scalar | None = None,
    ) -> None:
        ac = actor_critic(
            self,
            locals(),
            late=("target_entropy",),
            gaussian_actor=True,
            actor_target=False,
            a_learning_rate=3e-4,
        )
        if target_entropy is None:
            target_entropy = -float(math.prod(self.act_space_shape))
        target_entropy = validate(self.PARAMETERS, target_entropy=target_entropy)["target_entropy"]
        alpha_optimizer = optax.adam(1e-3) if alpha_optimizer is None else alpha_optimizer
        p, draw = ac.p, partial(_draw, a_network, low=ac.low, high=ac.high)
        self.init = jax.jit(
            partial(
                self.init,
                fields=ac.init_fields,
                alpha_optimizer=alpha_optimizer,
                alpha=p["alpha"],
            )
        )
        self.update = jax.jit(
            partial(
                self.update,
                er=ac.er,
                rounds=p["experience_replay_steps"],
                tau=p["tau"],
                draw=draw,
                target_fn=partial(_target, q_network=q_network, draw=draw, discount=p["discount"]),
                q_step=ac.q_step(twin_critic_loss),
                a_step=ac.a_step(sac_actor_loss, low=ac.low, high=ac.high),
                alpha_step=partial(
                    apply_gradient,
                    optimizer=alpha_optimizer,
                    loss_fn=partial(sac_alpha_loss, target_entropy=target_entropy),
                )
                if p["autotune"]
                else None,
            )
        )
        self.sample = jax.jit(partial(self.sample, draw=draw))
        self.sample_greedy = jax.jit(partial(self.sample_greedy, **ac.actor))

    update_observation_space = DDPG.update_observation_space
    sample_observation_space = DDPG.sample_observation_space
    action_space = DDPG.action_space

    @staticmethod
    def init(
        key: PRNGKey,
        *,
        fields: Callable[[PRNGKey], dict],
        alpha_optimizer: optax.GradientTransformation,
        alpha: float,
    ) -> SACState:
        """Two fresh critics (targets equal to them), an actor, :math:`\\log \\alpha`, optimizers, an empty buffer."""
        log_alpha = jnp.asarray(math.log(alpha), jnp.float32)
        return SACState(
            **fields(key),
            alpha=NetworkState(
                params=log_alpha, net_state={}, opt_state=alpha_optimizer.init(log_alpha)
            ),
        )

    @staticmethod
    def update(
        state: SACState,
        key: PRNGKey,
        env_state: Array,
        action: Array,
        reward: Scalar,
        terminal: Array,
        truncated: Array,
        episode_start: Array = False,
        *,
        er: ExperienceReplay,
        rounds: int,
        tau: float,
        draw,
        target_fn,
        q_step,
        a_step,
        alpha_step,
    ) -> SACState:
        """Store the transition that led to ``env_state``; train once the buffer holds a batch
        (observations as :meth:`DDPG.update`)."""
        state = store_transition(
            er, state, env_state, action, reward, terminal, truncated, episode_start
        )

        def train_step(state: SACState, step_key: PRNGKey) -> SACState:
            batch_key, target_key, q_key, a_key, noise_key, alpha_key = jax.random.split(
                step_key, 6
            )
            batch = er.sample(state.replay_buffer, batch_key)
            critic, _ = q_step(
                state.critic, key=q_key, batch=batch, target=target_fn(state, target_key, batch)
            )
            epsilon = jax.random.normal(noise_key, batch.actions.shape)
            actor, _ = a_step(
                state.actor,
                key=a_key,
                batch=batch,
                epsilon=epsilon,
                critic=critic,
                alpha=jnp.exp(state.alpha.params),
            )
            state = state.replace(critic=update_target(critic, tau=tau), actor=actor)
            if alpha_step is None:
                return state
            log_probs = draw(actor, alpha_key, batch.observations)[1]
            return state.replace(
                alpha=alpha_step(state.alpha, key=alpha_key, batch=batch, log_probs=log_probs)[0]
            )

        return train_when_ready(train_step, state, key, er=er, rounds=rounds)

    @staticmethod
    def sample(state: SACState, key: PRNGKey, env_state: Array, *, draw) -> Array:
        """An action drawn from the policy."""
        actions, _ = draw(
            state.actor, key, jnp.reshape(env_state, (1, *state.prev_env_state.shape))
        )
        return actions[0]

    @staticmethod
    def sample_greedy(
        state: SACState,
        key: PRNGKey,
        env_state: Array,
        *,
        a_network: nn.Module,
        low: Array,
        high: Array,
    ) -> Array:
        """The policy's mean action squashed into the bounds, :math:`c + h \\tanh \\mu(s)`."""
        mean, _ = apply_network(
            a_network, state.actor, key, jnp.reshape(env_state, state.prev_env_state.shape)
        )[0]
        return 0.5 * (high + low) + 0.5 * (high - low) * jnp.tanh(mean)
