"""Soft actor-critic (SAC) with twin critics and automatic entropy tuning, for continuous actions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import optax
from chex import Array, Numeric, PRNGKey, Scalar, Shape, dataclass
from flax import linen as nn

from agentax.agents._checks import check_range
from agentax.agents.base import AgentState, BaseAgent
from agentax.agents.deep import _off_policy as op
from agentax.agents.deep.ddpg import DDPG
from agentax.utils import Batch, ExperienceReplay, ReplayBuffer, forward, gradient_step, init

__all__ = ["SACState", "SAC", "SACActor", "tanh_gaussian", "sac_target", "sac_actor_loss", "sac_alpha_loss"]


@dataclass
class SACState(AgentState):
    """State of :class:`SAC`.

    Attributes:
      critic: the twin critics (parameters stacked on a leading axis of 2), their targets and optimizer.
      a_params, a_net_state, a_opt_state: the actor's parameters, other variables and optimizer state.
      log_alpha, alpha_opt_state: :math:`\\log \\alpha` and its optimizer's state.
      replay_buffer: the experience replay buffer.
      prev_env_state: the observation the last action was taken in.
      episode_ended: whether the episode ended at ``prev_env_state``.
    """

    critic: op.NetworkState
    a_params: dict
    a_net_state: dict
    a_opt_state: optax.OptState
    log_alpha: Array
    alpha_opt_state: optax.OptState
    replay_buffer: ReplayBuffer
    prev_env_state: Array
    episode_ended: Array


def tanh_gaussian(mean: Array, log_std: Array, epsilon: Array, low: Array, high: Array) -> tuple[Array, Array]:
    r"""One action of a Gaussian squashed into the bounds, and its log-probability.

    .. math::
        u = \mu + \sigma \epsilon, \quad a = c + h \tanh u, \quad
        \log \pi(a) = \sum_i \log \mathcal{N}(u_i; \mu_i, \sigma_i^2) - \log h_i - \log(1 - \tanh^2 u_i)

    with :math:`c, h` the centre and half-width of ``[low, high]`` and
    :math:`\log(1 - \tanh^2 u) = 2 (\log 2 - u - \mathrm{softplus}(-2u))`.

    Args:
      mean, log_std: :math:`\mu` and :math:`\log \sigma`, of one action's shape.
      epsilon: a standard normal draw of that shape.
      low, high: the bounds.

    Returns:
      ``(action, log_prob)``.
    """
    centre, half = 0.5 * (high + low), 0.5 * (high - low)
    u = mean + jnp.exp(log_std) * epsilon
    log_normal = -0.5 * epsilon**2 - log_std - 0.5 * math.log(2.0 * math.pi)
    log_det = jnp.log(half) + 2.0 * (math.log(2.0) - u - jax.nn.softplus(-2.0 * u))
    return centre + half * jnp.tanh(u), jnp.sum(log_normal - log_det)


def sac_target(r_t: Array, discount_t: Array, q_target_t: Array, log_prob_t: Array, alpha: Array) -> Array:
    r"""The soft target :math:`y_t = r_t + \gamma_t (\min_{i=1,2} Q'_i(s_t, a_t) - \alpha \log \pi(a_t | s_t))`,
    :math:`a_t \sim \pi(\cdot | s_t)`.

    Args:
      r_t, discount_t: rewards and discounts (0 where :math:`s_t` is terminal), shape ``(batch,)``.
      q_target_t: both target critics' values of :math:`a_t`, shape ``(2, batch)``.
      log_prob_t: :math:`\log \pi(a_t | s_t)`, shape ``(batch,)``.
      alpha: the entropy coefficient :math:`\alpha`.
    """
    return r_t + discount_t * (jnp.min(q_target_t, axis=0) - alpha * log_prob_t)


def _policy(a_network, a_params, a_net_state, key, obs, epsilon, low, high) -> tuple[Array, Array, dict]:
    """:func:`tanh_gaussian` actions of a batch of observations and standard normal draws ``epsilon``,
    their log-probabilities, and the actor's new state."""
    (mean, log_std), a_net_state = forward(a_network, a_params, a_net_state, key, obs)
    log_std = jnp.broadcast_to(log_std, mean.shape)
    actions, log_probs = jax.vmap(tanh_gaussian, in_axes=(0, 0, 0, None, None))(mean, log_std, epsilon, low, high)
    return actions, log_probs, a_net_state


def _draw(policy, act_shape, a_params, a_net_state, key, obs):
    """``policy`` with fresh standard normal draws, one action per observation."""
    network_key, noise_key = jax.random.split(key)
    epsilon = jax.random.normal(noise_key, (obs.shape[0], *act_shape))
    return policy(a_params, a_net_state, network_key, obs, epsilon)


def sac_actor_loss(a_params: dict, key: PRNGKey, a_net_state: dict, obs: Array, epsilon: Array, q_params: dict,
                   q_net_state: dict, alpha: Array, a_network: nn.Module, q_network: nn.Module, low: Array,
                   high: Array) -> tuple[Array, tuple[dict, Array]]:
    r"""Mean of :math:`\alpha \log \pi_\phi(a | s) - \min_{i=1,2} Q_i(s, a)` over a batch of observations
    (minimized in :math:`\phi`), with :math:`a` reparameterized by the standard normal draws
    ``epsilon`` (:func:`tanh_gaussian`).

    Returns:
      ``(loss, (a_net_state, log_probs))``.
    """
    policy_key, critic_key = jax.random.split(key)
    actions, log_probs, a_net_state = _policy(a_network, a_params, a_net_state, policy_key, obs, epsilon, low, high)
    q = op.twin_forward(q_network, q_params, q_net_state, critic_key, obs, actions)
    return jnp.mean(alpha * log_probs - jnp.min(q, axis=0)), (a_net_state, log_probs)


def sac_alpha_loss(log_alpha: Array, log_probs: Array, target_entropy: float) -> tuple[Array, None]:
    r"""The temperature's loss :math:`-\alpha\, \mathrm{mean}(\log \pi(a | s) + \bar{\mathcal{H}})`,
    :math:`\alpha = e^{\log \alpha}`: :math:`\alpha` grows while the policy's entropy is below
    :math:`\bar{\mathcal{H}}` and shrinks while above.

    Returns:
      ``(loss, None)``.
    """
    return -jnp.exp(log_alpha) * jnp.mean(jax.lax.stop_gradient(log_probs) + target_entropy), None


class SACActor(nn.Module):
    """A ReLU MLP giving the mean and log standard deviation of a tanh-squashed Gaussian (:func:`tanh_gaussian`).

    Attributes:
      act_space_shape: shape of one action.
      hidden_sizes: widths of the hidden layers.
      log_std_min, log_std_max: the range :math:`\\log \\sigma` is squashed into.
    """

    act_space_shape: Sequence[int]
    hidden_sizes: Sequence[int] = (256, 256)
    log_std_min: float = -5.0
    log_std_max: float = 2.0

    @nn.compact
    def __call__(self, obs: Array) -> tuple[Array, Array]:
        x, shape = obs, tuple(self.act_space_shape)
        for size in self.hidden_sizes:
            x = nn.relu(nn.Dense(size)(x))
        mean, log_std = (nn.Dense(math.prod(shape))(x).reshape(*obs.shape[:-1], *shape) for _ in range(2))
        return mean, self.log_std_min + 0.5 * (self.log_std_max - self.log_std_min) * (nn.tanh(log_std) + 1.0)


class SAC(BaseAgent):
    r"""Soft actor-critic: a stochastic tanh-Gaussian actor, twin critics, a tuned entropy coefficient.

    Each ``update`` stores the transition (episode boundaries as :class:`DDPG`) and, once the
    buffer holds a batch, takes ``experience_replay_steps`` rounds of: sample a batch; one step
    of both critics on :func:`~agentax.agents.deep.twin_critic_loss` towards :func:`sac_target`
    (actions of the current actor, values of the target critics); one actor step on
    :func:`sac_actor_loss`; if ``autotune``, one step of :math:`\log \alpha` on
    :func:`sac_alpha_loss`; and the Polyak average of the critics' targets. ``sample`` draws from
    the policy; ``sample_greedy`` returns :math:`c + h \tanh \mu(s)`.

    Args:
      q_network: one critic, called as ``q_network(obs, action)`` (e.g. :class:`DDPGCritic`);
        two independent copies are initialized.
      a_network: the actor, called as ``a_network(obs)`` and returning ``(mean, log_std)`` of
        the action's shape each (e.g. :class:`SACActor`).
      obs_space_shape, act_space_shape, min_action, max_action, experience_replay_buffer_size,
      experience_replay_batch_size, experience_replay_steps, discount: as :class:`DDPG`.
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
        er, replay_steps, discount, tau = op.build_off_policy(
            self, q_network, a_network, lambda out: out == (self.act_space_shape,) * 2,
            f"(mean, log_std), each of shape act_space_shape = {tuple(act_space_shape)}", obs_space_shape,
            act_space_shape, min_action, max_action, experience_replay_buffer_size, experience_replay_batch_size,
            experience_replay_steps, discount, tau)
        alpha = check_range("alpha", alpha, 0.0, low_open=True)
        if not isinstance(autotune, (bool, np.bool_)):
            raise ValueError(f"autotune must be True or False, got {autotune!r}")
        target_entropy = -float(math.prod(self.act_space_shape)) if target_entropy is None else target_entropy
        target_entropy = check_range("target_entropy", target_entropy)
        q_optimizer = optax.adam(1e-3) if q_optimizer is None else q_optimizer
        a_optimizer = optax.adam(3e-4) if a_optimizer is None else a_optimizer
        alpha_optimizer = optax.adam(1e-3) if alpha_optimizer is None else alpha_optimizer
        low, high = jnp.asarray(self.min_action), jnp.asarray(self.max_action)
        policy = partial(_draw, partial(_policy, a_network, low=low, high=high), self.act_space_shape)

        def target_fn(state: SACState, key: PRNGKey, batch: Batch) -> Array:
            policy_key, critic_key = jax.random.split(key)
            a_t, log_prob_t, _ = policy(state.a_params, state.a_net_state, policy_key, batch.next_obs)
            q_t = op.twin_forward(q_network, state.critic.target_params, state.critic.target_net_state, critic_key,
                                  batch.next_obs, a_t)
            discount_t = discount * (1.0 - batch.terminal.astype(jnp.float32))
            return sac_target(batch.reward, discount_t, q_t, log_prob_t, jnp.exp(state.log_alpha))

        self.init = jax.jit(partial(self.init, q_network=q_network, a_network=a_network, q_optimizer=q_optimizer,
                                    a_optimizer=a_optimizer, alpha_optimizer=alpha_optimizer, er=er,
                                    obs_space_shape=self.obs_space_shape, act_space_shape=self.act_space_shape,
                                    alpha=alpha))
        self.update = jax.jit(partial(
            self.update, er=er, target_fn=target_fn,
            q_step_fn=partial(gradient_step, optimizer=q_optimizer,
                              loss_fn=partial(op.twin_critic_loss, q_network=q_network)),
            a_step_fn=partial(gradient_step, optimizer=a_optimizer,
                              loss_fn=partial(sac_actor_loss, a_network=a_network, q_network=q_network, low=low,
                                              high=high)),
            alpha_step_fn=partial(gradient_step, optimizer=alpha_optimizer,
                                  loss_fn=partial(sac_alpha_loss, target_entropy=target_entropy)) if autotune else None,
            experience_replay_steps=replay_steps, tau=tau,
        ))
        self.sample = jax.jit(partial(self.sample, policy=policy))
        self.sample_greedy = jax.jit(partial(self.sample_greedy, a_network=a_network, low=low, high=high))

    @staticmethod
    def parameter_space() -> gym.spaces.Dict:
        ddpg = DDPG.parameter_space().spaces
        return gym.spaces.Dict({
            **{name: ddpg[name] for name in ("obs_space_shape", "act_space_shape", "min_action", "max_action",
                                             "experience_replay_buffer_size", "experience_replay_batch_size",
                                             "experience_replay_steps", "discount")},
            "tau": gym.spaces.Box(np.nextafter(0.0, 1.0), 1.0, (1,), float),
            "alpha": gym.spaces.Box(np.nextafter(0.0, 1.0), np.inf, (1,), float),
            "autotune": gym.spaces.MultiBinary(1),
            "target_entropy": gym.spaces.Box(-np.inf, np.inf, (1,), float),
        })

    update_observation_space = DDPG.update_observation_space
    sample_observation_space = DDPG.sample_observation_space
    action_space = DDPG.action_space

    @staticmethod
    def init(key: PRNGKey, q_network: nn.Module, a_network: nn.Module, q_optimizer: optax.GradientTransformation,
             a_optimizer: optax.GradientTransformation, alpha_optimizer: optax.GradientTransformation,
             er: ExperienceReplay, obs_space_shape: tuple[int, ...], act_space_shape: tuple[int, ...],
             alpha: float) -> SACState:
        """Two fresh critics (targets equal to them) and an actor, optimizers and an empty buffer."""
        q_key, a_key = jax.random.split(key)
        obs, action = jnp.zeros(obs_space_shape, jnp.float32), jnp.zeros(act_space_shape, jnp.float32)
        a_params, a_net_state = init(a_network, a_key, obs)
        log_alpha = jnp.asarray(math.log(alpha), jnp.float32)
        return SACState(
            critic=op.init_network(q_network, q_optimizer, q_key, obs, action, twin=True),
            a_params=a_params, a_net_state=a_net_state, a_opt_state=a_optimizer.init(a_params),
            log_alpha=log_alpha, alpha_opt_state=alpha_optimizer.init(log_alpha),
            replay_buffer=er.init(), prev_env_state=obs, episode_ended=jnp.ones((), bool),
        )

    @staticmethod
    def update(state: SACState, key: PRNGKey, env_state: Array, action: Array, reward: Scalar, terminal: Array,
               truncated: Array, er: ExperienceReplay, target_fn, q_step_fn, a_step_fn, alpha_step_fn,
               experience_replay_steps: int, tau: float, episode_start: Array = False) -> SACState:
        """Store the transition that led to ``env_state``; train once the buffer holds a batch
        (arguments as :meth:`DDPG.update`)."""
        buffer, env_state, ended = op.store(er, state.replay_buffer, state.prev_env_state, state.episode_ended,
                                            env_state, action, reward, terminal, truncated, episode_start)
        state = state.replace(replay_buffer=buffer, prev_env_state=env_state, episode_ended=ended)

        def train_step(state: SACState, step_key: PRNGKey) -> SACState:
            batch_key, target_key, q_key, a_key, noise_key = jax.random.split(step_key, 5)
            batch = er.sample(state.replay_buffer, batch_key)
            target = target_fn(state, target_key, batch)
            critic = state.critic
            params, net_state, opt_state, _ = q_step_fn(critic.params, (q_key, critic.net_state, batch, target),
                                                        critic.opt_state)
            critic = op.polyak(critic.replace(params=params, net_state=net_state, opt_state=opt_state), tau)
            a_params, (a_net_state, log_probs), a_opt_state, _ = a_step_fn(
                state.a_params, (a_key, state.a_net_state, batch.obs, jax.random.normal(noise_key, batch.action.shape),
                                 params, net_state, jnp.exp(state.log_alpha)),
                state.a_opt_state)
            state = state.replace(critic=critic, a_params=a_params, a_net_state=a_net_state, a_opt_state=a_opt_state)
            if alpha_step_fn is None:
                return state
            log_alpha, _, alpha_opt_state, _ = alpha_step_fn(state.log_alpha, (log_probs,), state.alpha_opt_state)
            return state.replace(log_alpha=log_alpha, alpha_opt_state=alpha_opt_state)

        return op.train_rounds(train_step, state, key, experience_replay_steps, er.is_ready(buffer))

    @staticmethod
    def sample(state: SACState, key: PRNGKey, env_state: Array, policy) -> Array:
        """An action drawn from the policy."""
        obs = jnp.reshape(env_state, (1, *state.prev_env_state.shape))
        return policy(state.a_params, state.a_net_state, key, obs)[0][0]

    @staticmethod
    def sample_greedy(state: SACState, key: PRNGKey, env_state: Array, a_network: nn.Module, low: Array,
                      high: Array) -> Array:
        """The policy's mean action squashed into the bounds, :math:`c + h \\tanh \\mu(s)`."""
        mean, _ = op.act(a_network, state.a_params, state.a_net_state, key, env_state, state.prev_env_state.shape)
        return 0.5 * (high + low) + 0.5 * (high - low) * jnp.tanh(mean)
