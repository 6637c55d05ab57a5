"""Deep deterministic policy gradient: an actor and a critic with target networks, for continuous actions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import optax
from chex import Array, Numeric, PRNGKey, Scalar, Shape, dataclass
from flax import linen as nn

from agentax._validation import ArrayShape, Int, Real, Reals, validate
from agentax.agents._arms import decayed
from agentax.agents.base import AgentState, BaseAgent
from agentax.agents.deep._actor_critic import actor_critic, or_scaled
from agentax.agents.deep.core import (
    NetworkState,
    apply_network,
    store_transition,
    train_when_ready,
    update_target,
)
from agentax.agents.deep.losses import ddpg_actor_loss, ddpg_critic_loss, ddpg_target
from agentax.agents.deep.policies import gaussian_exploration
from agentax.utils import Batch, ExperienceReplay, ReplayBuffer

__all__ = ["DDPGState", "DDPG"]


@dataclass
class DDPGState(AgentState):
    """State of :class:`DDPG`.

    Attributes:
      critic: the critic, its target copy and its optimizer's state.
      actor: the actor, its target copy and its optimizer's state.
      replay_buffer: the experience replay buffer.
      prev_env_state: the observation the last action was taken in.
      episode_ended: whether the episode ended at ``prev_env_state``; the next update then only
        records the first observation of the new episode.
      noise: the current standard deviation of the exploration noise.
    """

    critic: NetworkState
    actor: NetworkState
    replay_buffer: ReplayBuffer
    prev_env_state: Array
    episode_ended: Array
    noise: Array


# -- the agent -----------------------------------------------------------------------------------


class DDPG(BaseAgent):
    r"""Deep deterministic policy gradient with Gaussian exploration noise and experience replay.

    Each ``update`` stores the transition :math:`(s_{t-1}, a_{t-1}, r_t, \text{terminal}_t, s_t)`;
    once the buffer holds a batch, it takes ``experience_replay_steps`` rounds of: sample a batch,
    one critic step on :func:`~agentax.agents.deep.ddpg_critic_loss` towards
    :math:`y_t = r_t + \gamma (1 - \text{terminal}_t)\, Q'(s_t, \mathrm{clip}(\pi'(s_t)))`, one actor
    step on :func:`~agentax.agents.deep.ddpg_actor_loss` with the updated critic, and the Polyak averages
    :math:`\theta' \leftarrow \tau \theta + (1 - \tau) \theta'` of both target networks. A
    truncated episode is not terminal (its last state is bootstrapped from), and the first
    observation of an episode is never joined to the last one of the previous episode. The noise
    decays as :math:`\sigma \leftarrow \max(\sigma \cdot \sigma_{decay}, \sigma_{min})` after every
    update. ``sample`` returns :math:`\mathrm{clip}(\pi(s) + \sigma \varepsilon, a_{min}, a_{max})`,
    :math:`\varepsilon \sim \mathcal{N}(0, I)`.

    Refused, nothing clipped: through :class:`agentax.RLib`, an observation or reward that is not
    finite in float32, and a flag other than ``True``/``False`` (or 0/1), raise
    :class:`~agentax.errors.ObservationError` (also when an extension computes them); an update
    that would make a network, optimizer or buffer entry non-finite raises
    :class:`~agentax.errors.NonFiniteStateError`. Either way the instance is kept as it was.

    Args:
      q_network: the critic, a flax module called as ``q_network(obs, action)`` (e.g.
        :class:`~agentax.agents.deep.DDPGCritic`).
      a_network: the actor, a flax module called as ``a_network(obs)`` (e.g.
        :class:`~agentax.agents.deep.DDPGActor`).
      obs_space_shape: shape of one observation.
      act_space_shape: shape of one action.
      min_action, max_action: bounds of the actions (scalars or arrays of ``act_space_shape``).
      q_optimizer: the critic's optax optimizer; default Adam with learning rate 1e-3.
      a_optimizer: the actor's optax optimizer; default Adam with learning rate 1e-3.
      experience_replay_buffer_size: capacity of the replay buffer, in transitions.
      experience_replay_batch_size: transitions per gradient step, at most the capacity.
      experience_replay_steps: gradient steps (of both networks) per update.
      discount: :math:`\gamma`, in [0, 1].
      noise: initial :math:`\sigma`, >= 0; default a tenth of half the widest action range.
      noise_decay: :math:`\sigma_{decay}`, in [0, 1].
      noise_min: :math:`\sigma_{min}`, in [0, noise].
      tau: :math:`\tau`, in [0, 1].

    Observations: ``update(env_state, action, reward, terminal, truncated)`` and
    ``sample(env_state)``; ``sample_greedy`` returns the actor's action without noise.

    With these defaults, :class:`~agentax.agents.deep.DDPGActor` and
    :class:`~agentax.agents.deep.DDPGCritic`, Pendulum-v1 returns reach about -150 after 30 to 40
    episodes (the seeds tried; a random policy gets about -1200).

    References:
      D. Silver, G. Lever, N. Heess, T. Degris, D. Wierstra, M. Riedmiller, "Deterministic policy
      gradient algorithms", ICML 2014. T. P. Lillicrap et al., "Continuous control with deep
      reinforcement learning", ICLR 2016.
    """

    update_on_first_step = True  # the first update records the first observation

    PARAMETERS = {
        "obs_space_shape": ArrayShape(),
        "act_space_shape": ArrayShape(),
        "min_action": Reals(),
        "max_action": Reals(),
        "experience_replay_buffer_size": Int(),
        "experience_replay_batch_size": Int(1, "experience_replay_buffer_size"),
        "experience_replay_steps": Int(),
        "discount": Real(0.0, 1.0),
        "noise": Real(0.0),
        "noise_decay": Real(0.0, 1.0),
        "noise_min": Real(0.0, "noise"),
        "tau": Real(0.0, 1.0, low_open=True),
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
        experience_replay_batch_size: int = 64,
        experience_replay_steps: int = 1,
        discount: Scalar = 0.99,
        noise: Scalar | None = None,
        noise_decay: Scalar = 1.0,
        noise_min: Scalar = 0.01,
        tau: Scalar = 0.005,
    ) -> None:
        ac = actor_critic(self, locals(), late=("noise", "noise_min"), twin=False)
        noise, noise_min = validate(
            self.PARAMETERS, noise=or_scaled(self, noise, 0.1), noise_min=noise_min
        ).values()
        p = ac.p
        self.init = jax.jit(partial(self.init, fields=ac.init_fields, noise=noise))
        self.update = jax.jit(
            partial(
                self.update,
                er=ac.er,
                critic_step=ac.q_step(ddpg_critic_loss),
                actor_step=ac.a_step(ddpg_actor_loss),
                target_fn=partial(
                    _batch_target, q_network=q_network, **ac.actor, discount=p["discount"]
                ),
                experience_replay_steps=p["experience_replay_steps"],
                noise_decay=p["noise_decay"],
                noise_min=noise_min,
                tau=p["tau"],
            )
        )
        self.sample = jax.jit(partial(self.sample, **ac.actor))
        self.sample_greedy = jax.jit(partial(self.sample_greedy, **ac.actor))

    @property
    def update_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict(
            {
                "env_state": gym.spaces.Box(-jnp.inf, jnp.inf, self.obs_space_shape, np.float32),
                "action": gym.spaces.Box(-jnp.inf, jnp.inf, self.act_space_shape, np.float32),
                "reward": gym.spaces.Box(-jnp.inf, jnp.inf, (1,), np.float32),
                "terminal": gym.spaces.Box(0, 1, (1,), bool),
                "truncated": gym.spaces.Box(0, 1, (1,), bool),
                "episode_start": gym.spaces.Box(0, 1, (1,), bool),
            }
        )

    @property
    def sample_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict(
            {"env_state": gym.spaces.Box(-jnp.inf, jnp.inf, self.obs_space_shape, np.float32)}
        )

    @property
    def action_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(self.min_action, self.max_action, self.act_space_shape, np.float32)

    @staticmethod
    def init(key: PRNGKey, *, fields: Callable[[PRNGKey], dict], noise: float) -> DDPGState:
        """Fresh networks (targets equal to them), optimizers and an empty buffer."""
        return DDPGState(**fields(key), noise=jnp.asarray(noise, jnp.float32))

    @staticmethod
    def update(
        state: DDPGState,
        key: PRNGKey,
        env_state: Array,
        action: Array,
        reward: Scalar,
        terminal: Array,
        truncated: Array,
        episode_start: Array = False,
        *,
        er: ExperienceReplay,
        critic_step: Callable[..., tuple[NetworkState, Array]],
        actor_step: Callable[..., tuple[NetworkState, Array]],
        target_fn: Callable[[DDPGState, PRNGKey, Batch], Array],
        experience_replay_steps: int,
        noise_decay: float,
        noise_min: float,
        tau: float,
    ) -> DDPGState:
        """Store the transition that led to ``env_state``; train once the buffer holds a batch.

        Args:
          env_state: the observation after the action.
          action: the action ``sample`` returned for the previous observation.
          reward: its reward.
          terminal: whether the episode terminated at ``env_state`` (no bootstrapping).
          truncated: whether the episode was cut at ``env_state`` (bootstrapping from it).
          episode_start: whether ``env_state`` begins an episode (after ``reset``): no transition
            leads to it. Optional; the Gymnasium extension supplies it.
        """
        state = store_transition(
            er, state, env_state, action, reward, terminal, truncated, episode_start
        )
        state = state.replace(noise=decayed(state.noise, noise_decay, noise_min))

        def train_step(state: DDPGState, step_key: PRNGKey) -> DDPGState:
            batch_key, target_key, q_key, a_key = jax.random.split(step_key, 4)
            batch = er.sample(state.replay_buffer, batch_key)
            critic, _ = critic_step(
                state.critic, key=q_key, batch=batch, target=target_fn(state, target_key, batch)
            )
            actor, _ = actor_step(state.actor, key=a_key, batch=batch, critic=critic)
            return state.replace(
                critic=update_target(critic, tau=tau), actor=update_target(actor, tau=tau)
            )

        return train_when_ready(train_step, state, key, er=er, rounds=experience_replay_steps)

    @staticmethod
    def sample(
        state: DDPGState,
        key: PRNGKey,
        env_state: Array,
        a_network: nn.Module,
        low: Array,
        high: Array,
    ) -> Array:
        """The actor's action plus Gaussian noise, clipped to the bounds."""
        network_key, noise_key = jax.random.split(key)
        env_state = jnp.reshape(env_state, state.prev_env_state.shape)
        action, _ = apply_network(a_network, state.actor, network_key, env_state)
        return gaussian_exploration(action, state.noise, noise_key, low, high)

    @staticmethod
    def sample_greedy(
        state: DDPGState,
        key: PRNGKey,
        env_state: Array,
        a_network: nn.Module,
        low: Array,
        high: Array,
    ) -> Array:
        """The actor's action without noise, clipped to the bounds."""
        env_state = jnp.reshape(env_state, state.prev_env_state.shape)
        return jnp.clip(apply_network(a_network, state.actor, key, env_state)[0], low, high)


def _batch_target(
    state: DDPGState,
    key: PRNGKey,
    batch: Batch,
    q_network: nn.Module,
    a_network: nn.Module,
    discount: float,
    low: Array,
    high: Array,
) -> Array:
    """:func:`~agentax.agents.deep.ddpg_target` of a batch, with the target actor's actions clipped to the bounds."""
    actor_key, critic_key = jax.random.split(key)
    next_actions, _ = apply_network(
        a_network, state.actor, actor_key, batch.next_observations, target=True
    )
    q_target_t, _ = apply_network(
        q_network,
        state.critic,
        critic_key,
        batch.next_observations,
        jnp.clip(next_actions, low, high),
        target=True,
    )
    discount_t = discount * (1.0 - batch.terminals.astype(jnp.float32))
    return ddpg_target(batch.rewards, discount_t, jnp.reshape(q_target_t, batch.rewards.shape))
