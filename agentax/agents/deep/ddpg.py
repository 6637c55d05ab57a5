"""Deep deterministic policy gradient: an actor and a critic with target networks, for continuous actions."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import optax
from chex import Array, Numeric, PRNGKey, Scalar, Shape, dataclass
from flax import linen as nn

from agentax._validation import ArrayShape, Int, Real, Reals, validate
from agentax.agents.base import AgentState, BaseAgent
from agentax.agents.deep._shapes import action_bounds, check_outputs
from agentax.utils import Batch, ExperienceReplay, ReplayBuffer, experience_replay, forward, gradient_step, init

__all__ = ["DDPGState", "DDPG", "DDPGActor", "DDPGCritic", "ddpg_target", "ddpg_critic_loss", "ddpg_actor_loss"]


@dataclass
class DDPGState(AgentState):
    """State of :class:`DDPG`.

    Attributes:
      q_params, q_net_state: the critic's parameters and other variables.
      q_params_target, q_net_state_target: the target critic's.
      q_opt_state: the critic optimizer's state.
      a_params, a_net_state: the actor's parameters and other variables.
      a_params_target, a_net_state_target: the target actor's.
      a_opt_state: the actor optimizer's state.
      replay_buffer: the experience replay buffer.
      prev_env_state: the observation the last action was taken in.
      episode_ended: whether the episode ended at ``prev_env_state``; the next update then only
        records the first observation of the new episode.
      noise: the current standard deviation of the exploration noise.
    """

    q_params: dict
    q_net_state: dict
    q_params_target: dict
    q_net_state_target: dict
    q_opt_state: optax.OptState
    a_params: dict
    a_net_state: dict
    a_params_target: dict
    a_net_state_target: dict
    a_opt_state: optax.OptState
    replay_buffer: ReplayBuffer
    prev_env_state: Array
    episode_ended: Array
    noise: Array


# -- targets and losses ------------------------------------------------------------------------


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
    q_params: dict,
    key: PRNGKey,
    q_net_state: dict,
    batch: Batch,
    target: Array,
    q_network: nn.Module,
) -> tuple[Array, dict]:
    r"""Mean of :math:`\tfrac12 (Q_\theta(s_{t-1}, a_{t-1}) - y_t)^2` over a batch; ``target`` is
    :math:`y_t` from :func:`ddpg_target` (a constant for the gradient).

    Returns:
      ``(loss, q_net_state)``.
    """
    q_tm1, q_net_state = forward(q_network, q_params, q_net_state, key, batch.obs, batch.action)
    return jnp.mean(0.5 * (jnp.reshape(q_tm1, target.shape) - target) ** 2), q_net_state


def ddpg_actor_loss(
    a_params: dict,
    key: PRNGKey,
    a_net_state: dict,
    obs: Array,
    q_params: dict,
    q_net_state: dict,
    a_network: nn.Module,
    q_network: nn.Module,
) -> tuple[Array, dict]:
    r"""Mean of :math:`-Q(s, \pi_\phi(s))` over a batch of observations (minimized in :math:`\phi`).

    Returns:
      ``(loss, a_net_state)``.
    """
    actor_key, critic_key = jax.random.split(key)
    actions, a_net_state = forward(a_network, a_params, a_net_state, actor_key, obs)
    q, _ = forward(q_network, q_params, q_net_state, critic_key, obs, actions)
    return -jnp.mean(q), a_net_state


# -- networks ------------------------------------------------------------------------------------


def _relu_mlp(x: Array, hidden_sizes: Sequence[int]) -> Array:
    for size in hidden_sizes:
        x = nn.relu(nn.Dense(size)(x))
    return x


class DDPGActor(nn.Module):
    """A ReLU MLP whose tanh output is scaled to ``[min_action, max_action]``.

    Attributes:
      act_space_shape: shape of one action.
      min_action, max_action: bounds of the actions (numbers or nested sequences).
      hidden_sizes: widths of the hidden layers.
    """

    act_space_shape: Sequence[int]
    min_action: Numeric
    max_action: Numeric
    hidden_sizes: Sequence[int] = (256, 256)

    @nn.compact
    def __call__(self, obs: Array) -> Array:
        shape = tuple(self.act_space_shape)
        squashed = nn.tanh(nn.Dense(math.prod(shape))(_relu_mlp(obs, self.hidden_sizes)))
        low, high = jnp.asarray(self.min_action, jnp.float32), jnp.asarray(self.max_action, jnp.float32)
        return low + 0.5 * (squashed.reshape(*obs.shape[:-1], *shape) + 1.0) * (high - low)


class DDPGCritic(nn.Module):
    """A ReLU MLP of the concatenated observation and action, giving one value.

    Attributes:
      hidden_sizes: widths of the hidden layers.
    """

    hidden_sizes: Sequence[int] = (256, 256)

    @nn.compact
    def __call__(self, obs: Array, action: Array) -> Array:
        action = action.reshape(*obs.shape[:-1], -1)
        return nn.Dense(1)(_relu_mlp(jnp.concatenate([obs, action], axis=-1), self.hidden_sizes))[..., 0]


# -- the agent -----------------------------------------------------------------------------------


class DDPG(BaseAgent):
    r"""Deep deterministic policy gradient with Gaussian exploration noise and experience replay.

    Each ``update`` stores the transition :math:`(s_{t-1}, a_{t-1}, r_t, \text{terminal}_t, s_t)`;
    once the buffer holds a batch, it takes ``experience_replay_steps`` rounds of: sample a batch,
    one critic step on :func:`ddpg_critic_loss` towards
    :math:`y_t = r_t + \gamma (1 - \text{terminal}_t)\, Q'(s_t, \mathrm{clip}(\pi'(s_t)))`, one actor
    step on :func:`ddpg_actor_loss` with the updated critic, and the Polyak averages
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
      q_network: the critic, a flax module called as ``q_network(obs, action)`` (e.g. :class:`DDPGCritic`).
      a_network: the actor, a flax module called as ``a_network(obs)`` (e.g. :class:`DDPGActor`).
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

    With these defaults, :class:`DDPGActor` and :class:`DDPGCritic`, Pendulum-v1 returns reach
    about -150 after 30 to 40 episodes (the seeds tried; a random policy gets about -1200).

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
        self.obs_space_shape, self.act_space_shape, buffer_size, batch_size, replay_steps, discount, noise_decay, tau = (
            validate(
                self.PARAMETERS, obs_space_shape=obs_space_shape, act_space_shape=act_space_shape,
                experience_replay_buffer_size=experience_replay_buffer_size,
                experience_replay_batch_size=experience_replay_batch_size,
                experience_replay_steps=experience_replay_steps, discount=discount, noise_decay=noise_decay, tau=tau,
            ).values()
        )
        self.min_action, self.max_action = action_bounds(min_action, max_action, self.act_space_shape)
        if noise is None:
            noise = 0.05 * float(np.max(self.max_action - self.min_action))
        noise, noise_min = validate(self.PARAMETERS, noise=noise, noise_min=noise_min).values()
        q_optimizer = optax.adam(1e-3) if q_optimizer is None else q_optimizer
        a_optimizer = optax.adam(1e-3) if a_optimizer is None else a_optimizer

        obs, action = jnp.zeros(self.obs_space_shape), jnp.zeros(self.act_space_shape)
        check_outputs("a_network", a_network, (obs,), lambda out: out == self.act_space_shape,
                      f"an action of shape act_space_shape = {self.act_space_shape}")
        check_outputs("q_network", q_network, (obs, action), lambda out: out in ((), (1,)),
                      "one value, of shape () or (1,)")
        er = experience_replay(buffer_size, batch_size, self.obs_space_shape, self.act_space_shape)
        low, high = jnp.asarray(self.min_action), jnp.asarray(self.max_action)
        self.init = jax.jit(partial(
            self.init, q_network=q_network, a_network=a_network, q_optimizer=q_optimizer, a_optimizer=a_optimizer,
            er=er, obs_space_shape=self.obs_space_shape, act_space_shape=self.act_space_shape, noise=noise,
        ))
        self.update = jax.jit(partial(
            self.update,
            er=er,
            q_step_fn=partial(gradient_step, optimizer=q_optimizer,
                              loss_fn=partial(ddpg_critic_loss, q_network=q_network)),
            a_step_fn=partial(gradient_step, optimizer=a_optimizer,
                              loss_fn=partial(ddpg_actor_loss, a_network=a_network, q_network=q_network)),
            target_fn=partial(_batch_target, q_network=q_network, a_network=a_network, discount=discount,
                              low=low, high=high),
            experience_replay_steps=replay_steps, noise_decay=noise_decay, noise_min=noise_min, tau=tau,
        ))
        self.sample = jax.jit(partial(self.sample, a_network=a_network, low=low, high=high))
        self.sample_greedy = jax.jit(partial(self.sample_greedy, a_network=a_network, low=low, high=high))

    @property
    def update_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({
            "env_state": gym.spaces.Box(-jnp.inf, jnp.inf, self.obs_space_shape, np.float32),
            "action": gym.spaces.Box(-jnp.inf, jnp.inf, self.act_space_shape, np.float32),
            "reward": gym.spaces.Box(-jnp.inf, jnp.inf, (1,), np.float32),
            "terminal": gym.spaces.Box(0, 1, (1,), bool),
            "truncated": gym.spaces.Box(0, 1, (1,), bool),
            "episode_start": gym.spaces.Box(0, 1, (1,), bool),
        })

    @property
    def sample_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({"env_state": gym.spaces.Box(-jnp.inf, jnp.inf, self.obs_space_shape, np.float32)})

    @property
    def action_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(self.min_action, self.max_action, self.act_space_shape, np.float32)

    @staticmethod
    def init(
        key: PRNGKey,
        q_network: nn.Module,
        a_network: nn.Module,
        q_optimizer: optax.GradientTransformation,
        a_optimizer: optax.GradientTransformation,
        er: ExperienceReplay,
        obs_space_shape: tuple[int, ...],
        act_space_shape: tuple[int, ...],
        noise: float,
    ) -> DDPGState:
        """Fresh networks (targets equal to them), optimizers and an empty buffer."""
        q_key, a_key = jax.random.split(key)
        obs, action = jnp.zeros(obs_space_shape, jnp.float32), jnp.zeros(act_space_shape, jnp.float32)
        q_params, q_net_state = init(q_network, q_key, obs, action)
        a_params, a_net_state = init(a_network, a_key, obs)
        return DDPGState(
            q_params=q_params, q_net_state=q_net_state,
            q_params_target=q_params, q_net_state_target=q_net_state,
            q_opt_state=q_optimizer.init(q_params),
            a_params=a_params, a_net_state=a_net_state,
            a_params_target=a_params, a_net_state_target=a_net_state,
            a_opt_state=a_optimizer.init(a_params),
            replay_buffer=er.init(),
            prev_env_state=obs,
            episode_ended=jnp.ones((), bool),
            noise=jnp.asarray(noise, jnp.float32),
        )

    @staticmethod
    def update(
        state: DDPGState,
        key: PRNGKey,
        env_state: Array,
        action: Array,
        reward: Scalar,
        terminal: Array,
        truncated: Array,
        er: ExperienceReplay,
        q_step_fn: Callable,
        a_step_fn: Callable,
        target_fn: Callable,
        experience_replay_steps: int,
        noise_decay: float,
        noise_min: float,
        tau: float,
        episode_start: Array = False,
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
        terminal = jnp.reshape(jnp.asarray(terminal, bool), ())
        env_state = jnp.reshape(env_state, state.prev_env_state.shape).astype(jnp.float32)
        start = jnp.reshape(jnp.asarray(episode_start, bool), ())
        buffer = er.append(state.replay_buffer, state.prev_env_state, action, reward, terminal, env_state,
                           ~(state.episode_ended | start))
        state = state.replace(
            replay_buffer=buffer,
            prev_env_state=env_state,
            episode_ended=terminal | jnp.reshape(jnp.asarray(truncated, bool), ()),
            noise=jnp.maximum(state.noise * noise_decay, noise_min).astype(jnp.float32),
        )

        def train_step(state: DDPGState, step_key: PRNGKey) -> tuple[DDPGState, None]:
            batch_key, target_key, q_key, a_key = jax.random.split(step_key, 4)
            batch = er.sample(state.replay_buffer, batch_key)
            target = target_fn(state, target_key, batch)
            q_params, q_net_state, q_opt_state, _ = q_step_fn(
                state.q_params, (q_key, state.q_net_state, batch, target), state.q_opt_state)
            a_params, a_net_state, a_opt_state, _ = a_step_fn(
                state.a_params, (a_key, state.a_net_state, batch.obs, q_params, q_net_state), state.a_opt_state)
            q_target = optax.incremental_update((q_params, q_net_state),
                                                (state.q_params_target, state.q_net_state_target), tau)
            a_target = optax.incremental_update((a_params, a_net_state),
                                                (state.a_params_target, state.a_net_state_target), tau)
            return state.replace(
                q_params=q_params, q_net_state=q_net_state, q_opt_state=q_opt_state,
                q_params_target=q_target[0], q_net_state_target=q_target[1],
                a_params=a_params, a_net_state=a_net_state, a_opt_state=a_opt_state,
                a_params_target=a_target[0], a_net_state_target=a_target[1],
            ), None

        def train(state: DDPGState) -> DDPGState:
            return jax.lax.scan(train_step, state, jax.random.split(key, experience_replay_steps))[0]

        return jax.lax.cond(er.is_ready(buffer), train, lambda s: s, state)

    @staticmethod
    def sample(state: DDPGState, key: PRNGKey, env_state: Array, a_network: nn.Module, low: Array,
               high: Array) -> Array:
        """The actor's action plus Gaussian noise, clipped to the bounds."""
        network_key, noise_key = jax.random.split(key)
        env_state = jnp.reshape(env_state, state.prev_env_state.shape)
        action, _ = forward(a_network, state.a_params, state.a_net_state, network_key, env_state)
        return jnp.clip(action + state.noise * jax.random.normal(noise_key, action.shape), low, high)

    @staticmethod
    def sample_greedy(state: DDPGState, key: PRNGKey, env_state: Array, a_network: nn.Module, low: Array,
                      high: Array) -> Array:
        """The actor's action without noise, clipped to the bounds."""
        env_state = jnp.reshape(env_state, state.prev_env_state.shape)
        return jnp.clip(forward(a_network, state.a_params, state.a_net_state, key, env_state)[0], low, high)


def _batch_target(state: DDPGState, key: PRNGKey, batch: Batch, q_network: nn.Module, a_network: nn.Module,
                  discount: float, low: Array, high: Array) -> Array:
    """:func:`ddpg_target` of a batch, with the target actor's actions clipped to the bounds."""
    actor_key, critic_key = jax.random.split(key)
    next_actions, _ = forward(a_network, state.a_params_target, state.a_net_state_target, actor_key, batch.next_obs)
    q_target_t, _ = forward(q_network, state.q_params_target, state.q_net_state_target, critic_key, batch.next_obs,
                            jnp.clip(next_actions, low, high))
    discount_t = discount * (1.0 - batch.terminal.astype(jnp.float32))
    return ddpg_target(batch.reward, discount_t, jnp.reshape(q_target_t, batch.reward.shape))
