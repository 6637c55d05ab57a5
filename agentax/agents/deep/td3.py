"""Twin delayed deep deterministic policy gradient (TD3), for continuous actions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import optax
from chex import Array, Numeric, PRNGKey, Scalar, Shape, dataclass
from flax import linen as nn

from agentax._validation import Int, Real, validate
from agentax.agents._arms import decayed
from agentax.agents.base import AgentState, BaseAgent
from agentax.agents.deep import _twin
from agentax.agents.deep._actor_critic import actor_critic, or_scaled
from agentax.agents.deep.core import (
    NetworkState,
    apply_network,
    store_transition,
    train_when_ready,
    update_target,
)
from agentax.agents.deep.ddpg import DDPG
from agentax.agents.deep.losses import (
    ddpg_actor_loss,
    smoothed_target_action,
    td3_target,
    twin_critic_loss,
)
from agentax.utils import Batch, ExperienceReplay, ReplayBuffer

__all__ = ["TD3State", "TD3"]


@dataclass
class TD3State(AgentState):
    """State of :class:`TD3`.

    Attributes:
      critic: the twin critics (variables stacked on a leading axis of 2), their targets and optimizer.
      actor: the actor, its target and optimizer.
      replay_buffer: the experience replay buffer.
      prev_env_state: the observation the last action was taken in.
      episode_ended: whether the episode ended at ``prev_env_state``.
      noise: the current standard deviation of the exploration noise.
      step: critic steps taken (``int32``); the actor and the targets move every ``policy_delay``-th.
    """

    critic: NetworkState
    actor: NetworkState
    replay_buffer: ReplayBuffer
    prev_env_state: Array
    episode_ended: Array
    noise: Array
    step: Array


def _target(
    state: TD3State,
    key: PRNGKey,
    batch: Batch,
    *,
    q_network: nn.Module,
    a_network: nn.Module,
    discount: float,
    policy_noise: float,
    noise_clip: float,
    low: Array,
    high: Array,
) -> Array:
    """:func:`~agentax.agents.deep.td3_target` of a batch, at the target actor's smoothed actions."""
    actor_key, noise_key, critic_key = jax.random.split(key, 3)
    mu_t, _ = apply_network(a_network, state.actor, actor_key, batch.next_observations, target=True)
    epsilon = policy_noise * jax.random.normal(noise_key, mu_t.shape)
    q_t = _twin.twin_values(
        q_network,
        state.critic.target_params,
        state.critic.target_net_state,
        critic_key,
        batch.next_observations,
        smoothed_target_action(mu_t, epsilon, noise_clip, low, high),
    )
    return td3_target(batch.rewards, jnp.where(batch.terminals, 0.0, discount), q_t)


class TD3(BaseAgent):
    r"""Twin delayed DDPG: DDPG with two critics, target policy smoothing and delayed actor updates.

    Each ``update`` stores the transition and, once the buffer holds a batch, takes
    ``experience_replay_steps`` rounds of: sample a batch; one step of both critics on
    :func:`~agentax.agents.deep.twin_critic_loss` towards :func:`~agentax.agents.deep.td3_target`,
    evaluated at the smoothed target action
    :func:`~agentax.agents.deep.smoothed_target_action` with
    :math:`\epsilon \sim \mathcal{N}(0, \tilde\sigma^2)`; and on every ``policy_delay``-th round
    one actor step on :math:`-Q_1(s, \pi(s))` (:func:`~agentax.agents.deep.ddpg_actor_loss` with
    the first critic) followed by the Polyak averages of the actor's and both critics'
    targets. Episode boundaries, exploration noise, ``sample`` and ``sample_greedy`` are those of
    :class:`DDPG`.

    Args:
      q_network: one critic, called as ``q_network(obs, action)`` (e.g. :class:`DDPGCritic`);
        two independent copies are initialized.
      a_network: the actor, called as ``a_network(obs)`` (e.g. :class:`DDPGActor`).
      obs_space_shape, act_space_shape, min_action, max_action: as :class:`DDPG`.
      q_optimizer, a_optimizer: the critics' and the actor's optax optimizers; default Adam, 1e-3.
      experience_replay_buffer_size, experience_replay_steps, discount: as :class:`DDPG`.
      experience_replay_batch_size: as :class:`DDPG`; default 100, as in the paper.
      noise, noise_decay, noise_min: as :class:`DDPG`; ``noise_min`` defaults to 0.
      tau: :math:`\tau`, in (0, 1].
      policy_noise: :math:`\tilde\sigma`, >= 0; default a fifth of half the widest action range.
      noise_clip: :math:`c`, >= 0; default half of half the widest action range.
      policy_delay: critic steps per actor step, >= 1.

    Reference:
      S. Fujimoto, H. van Hoof, D. Meger, "Addressing function approximation error in
      actor-critic methods", ICML 2018.
    """

    update_on_first_step = True

    PARAMETERS = {
        **DDPG.PARAMETERS,
        "policy_noise": Real(0.0),
        "noise_clip": Real(0.0),
        "policy_delay": Int(),
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
        experience_replay_buffer_size: int = 10000,
        experience_replay_batch_size: int = 100,
        experience_replay_steps: int = 1,
        discount: Scalar = 0.99,
        noise: Scalar | None = None,
        noise_decay: Scalar = 1.0,
        noise_min: Scalar = 0.0,
        tau: Scalar = 0.005,
        policy_noise: Scalar | None = None,
        noise_clip: Scalar | None = None,
        policy_delay: int = 2,
    ) -> None:
        ac = actor_critic(self, locals(), late=("noise", "noise_min", "policy_noise", "noise_clip"))
        scaled = partial(or_scaled, self)
        noise, noise_min, policy_noise, noise_clip = validate(
            self.PARAMETERS,
            noise=scaled(noise, 0.1),
            noise_min=noise_min,
            policy_noise=scaled(policy_noise, 0.2),
            noise_clip=scaled(noise_clip, 0.5),
        ).values()
        p = ac.p
        self.init = jax.jit(partial(self.init, fields=ac.init_fields, noise=noise))
        self.update = jax.jit(
            partial(
                self.update,
                er=ac.er,
                rounds=p["experience_replay_steps"],
                noise_decay=p["noise_decay"],
                noise_min=noise_min,
                tau=p["tau"],
                policy_delay=p["policy_delay"],
                target_fn=partial(
                    _target,
                    q_network=q_network,
                    **ac.actor,
                    discount=p["discount"],
                    policy_noise=policy_noise,
                    noise_clip=noise_clip,
                ),
                q_step=ac.q_step(twin_critic_loss),
                a_step=ac.a_step(ddpg_actor_loss),
            )
        )
        self.sample = jax.jit(partial(self.sample, **ac.actor))
        self.sample_greedy = jax.jit(partial(self.sample_greedy, **ac.actor))

    update_observation_space = DDPG.update_observation_space  # the observations and actions of DDPG
    sample_observation_space = DDPG.sample_observation_space
    action_space = DDPG.action_space

    @staticmethod
    def init(key: PRNGKey, *, fields: Callable[[PRNGKey], dict], noise: float) -> TD3State:
        """Two fresh critics and an actor (targets equal to them), optimizers and an empty buffer."""
        return TD3State(
            **fields(key), noise=jnp.asarray(noise, jnp.float32), step=jnp.zeros((), jnp.int32)
        )

    @staticmethod
    def update(
        state: TD3State,
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
        noise_decay: float,
        noise_min: float,
        tau: float,
        policy_delay: int,
        target_fn,
        q_step,
        a_step,
    ) -> TD3State:
        """Store the transition that led to ``env_state``; train once the buffer holds a batch
        (observations as :meth:`DDPG.update`)."""
        state = store_transition(
            er, state, env_state, action, reward, terminal, truncated, episode_start
        )
        state = state.replace(noise=decayed(state.noise, noise_decay, noise_min))

        def actor_step(state: TD3State, key: PRNGKey, batch: Batch) -> TD3State:
            actor, _ = a_step(
                state.actor, key=key, batch=batch, critic=_twin.first_critic(state.critic)
            )
            return state.replace(
                actor=update_target(actor, tau=tau), critic=update_target(state.critic, tau=tau)
            )

        def train_step(state: TD3State, step_key: PRNGKey) -> TD3State:
            batch_key, target_key, q_key, a_key = jax.random.split(step_key, 4)
            batch = er.sample(state.replay_buffer, batch_key)
            critic, _ = q_step(
                state.critic, key=q_key, batch=batch, target=target_fn(state, target_key, batch)
            )
            state = state.replace(critic=critic, step=state.step + 1)
            return jax.lax.cond(
                state.step % policy_delay == 0,
                partial(actor_step, key=a_key, batch=batch),
                lambda s: s,
                state,
            )

        return train_when_ready(train_step, state, key, er=er, rounds=rounds)

    sample = staticmethod(DDPG.sample)
    sample_greedy = staticmethod(DDPG.sample_greedy)
