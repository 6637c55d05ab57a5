r"""Proximal policy optimization over vectorized environments, for discrete and continuous actions.

:class:`PPODiscrete` and :class:`PPOContinuous` share the algorithm and differ in their policy
(:func:`~agentax.agents.deep.categorical_policy`, :func:`~agentax.agents.deep.clipped_gaussian_policy`).
Every ``update`` records one transition per environment in a rollout buffer
(:mod:`agentax.utils.rollout_buffer`); when ``rollout_length`` updates are recorded, the advantages
are estimated with GAE (:func:`~agentax.agents.deep.rollout_advantages`) and the network takes
``num_epochs`` passes of minibatch gradient steps on :func:`~agentax.agents.deep.ppo_loss` over the
rollout, in a new random order each pass, then the rollout starts again empty.

Episode boundaries: a terminated transition does not bootstrap, a truncated one bootstraps from
the value of the truncated state, and the step after an episode ends (gymnasium's automatic
reset, or the first observation given after a manual reset) only records the new episode's first
observation. The network's parameters change only in the training rounds, so the
log-probabilities and values recomputed in ``update`` are those of the policy that acted.

Refused, nothing clipped: through :class:`agentax.RLib`, an observation or reward that is not
finite in float32, and a flag other than ``True``/``False`` (or 0/1), raise
:class:`~agentax.errors.ObservationError` (also when an extension computes them); an update
that would make a network, optimizer or buffer entry non-finite raises
:class:`~agentax.errors.NonFiniteStateError`. Either way the instance is kept as it was.

References:
  J. Schulman, F. Wolski, P. Dhariwal, A. Radford, O. Klimov, "Proximal policy optimization
  algorithms", arXiv:1707.06347, 2017. J. Schulman, P. Moritz, S. Levine, M. Jordan, P. Abbeel,
  "High-dimensional continuous control using generalized advantage estimation", ICLR 2016.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import optax
from chex import Array, Numeric, PRNGKey, Scalar, Shape, dataclass
from flax import linen as nn

from agentax._validation import ArrayShape, Flag, Int, Real, Reals, declared, validate
from agentax.agents.base import AgentState, BaseAgent
from agentax.agents.deep._shapes import action_bounds
from agentax.agents.deep.core import (
    NetworkState,
    apply_gradient,
    apply_network,
    episode_boundary,
    gradient_steps,
    init_network,
)
from agentax.agents.deep.losses import ppo_loss, rollout_advantages
from agentax.agents.deep.networks import check_network_output
from agentax.agents.deep.policies import Policy, categorical_policy, clipped_gaussian_policy
from agentax.utils import RolloutBuffer, RolloutMemory, rollout_buffer

__all__ = ["PPOState", "PPODiscrete", "PPOContinuous"]


@dataclass
class PPOState(AgentState):
    """State of :class:`PPODiscrete` and :class:`PPOContinuous`.

    Attributes:
      network: the actor-critic network and its optimizer state (no target).
      rollout_buffer: the transitions gathered since the last training round.
      prev_env_states: the observations the last actions were taken in, ``(num_envs, *obs_shape)``.
      episode_ended: whether each environment's episode ended at ``prev_env_states``, ``(num_envs,)``;
        the next update then only records the first observation of the new episode (a new agent
        starts with every flag set, so its first update records the first observations).
    """

    network: NetworkState
    rollout_buffer: RolloutBuffer
    prev_env_states: Array
    episode_ended: Array


def _is_heads(shapes: Any, n: int) -> bool:
    return (
        isinstance(shapes, (tuple, list))
        and len(shapes) == n
        and all(isinstance(x, tuple) for x in shapes)
    )


def _is_values(shape: tuple[int, ...], n: int) -> bool:
    return shape in ((n,), (n, 1))


def _broadcasts(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


_CHECKED_FIRST = ("obs_space_shape", "num_envs", "clip_grad")  # clip_grad may be None
_LOSS = ("normalize_advantage", "clip_coef", "clip_value", "entropy_coef", "value_coef")


class _PPO(BaseAgent):
    """What both PPO agents share: building, the rollout, training rounds and sampling (see the module doc)."""

    update_on_first_step = True  # the first update records the first observations

    PARAMETERS = {
        "obs_space_shape": ArrayShape(),
        "discount": Real(0.0, 1.0),
        "lambda_gae": Real(0.0, 1.0),
        "normalize_advantage": Flag(),
        "clip_coef": Real(0.0),
        "clip_value": Flag(),
        "clip_grad": Real(0.0, low_open=True),
        "entropy_coef": Real(0.0),
        "value_coef": Real(0.0),
        "rollout_length": Int(),
        "num_envs": Int(),
        "batch_size": Int(),
        "num_epochs": Int(),
    }

    def _bind(
        self,
        network: nn.Module,
        policy: Policy,
        act_shape: tuple[int, ...],
        act_dtype: jnp.dtype,
        arguments: Mapping[str, Any],
    ) -> None:
        """Validate the shared hyperparameters among a constructor's ``arguments`` (its
        ``locals()``) and jit ``init``, ``update`` and the samplers once."""
        p = validate(_PPO.PARAMETERS, **declared(_PPO.PARAMETERS, arguments, skip=_CHECKED_FIRST))
        optimizer, clip_grad = arguments["optimizer"], arguments["clip_grad"]
        if optimizer is None:
            optimizer = optax.adam(3e-4, eps=1e-5)
        if clip_grad is not None:
            clip_grad = validate(_PPO.PARAMETERS, clip_grad=clip_grad)["clip_grad"]
            optimizer = optax.chain(optax.clip_by_global_norm(clip_grad), optimizer)
        memory = rollout_buffer(
            p["rollout_length"],
            self.num_envs,
            p["batch_size"],
            self.obs_space_shape,
            act_shape,
            act_dtype,
        )
        loss_fn = partial(
            ppo_loss, network=network, policy=policy, **{name: p[name] for name in _LOSS}
        )
        self.init = jax.jit(
            partial(
                _PPO.init,
                network=network,
                optimizer=optimizer,
                memory=memory,
                obs_space_shape=self.obs_space_shape,
                num_envs=self.num_envs,
            )
        )
        self.update = jax.jit(
            partial(
                _PPO.update,
                network=network,
                policy=policy,
                memory=memory,
                step=partial(apply_gradient, optimizer=optimizer, loss_fn=loss_fn),
                **{name: p[name] for name in ("num_epochs", "discount", "lambda_gae")},
            )
        )
        self.sample = jax.jit(partial(_PPO.sample, network=network, policy=policy))
        self.sample_greedy = jax.jit(partial(_PPO.sample_greedy, network=network, policy=policy))

    @property
    def _observed_actions_space(self) -> gym.spaces.Space:
        """The space of the ``actions`` given to ``update``."""
        return self.action_space

    def _env_states_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(-jnp.inf, jnp.inf, (self.num_envs, *self.obs_space_shape), np.float32)

    @property
    def update_observation_space(self) -> gym.spaces.Dict:
        flags = gym.spaces.Box(0, 1, (self.num_envs,), bool)
        return gym.spaces.Dict(
            {
                "env_states": self._env_states_space(),
                "actions": self._observed_actions_space,
                "rewards": gym.spaces.Box(-jnp.inf, jnp.inf, (self.num_envs,), np.float32),
                "terminals": flags,
                "truncated": flags,
                "episode_starts": flags,
            }
        )

    @property
    def sample_observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({"env_states": self._env_states_space()})

    @staticmethod
    def init(
        key: PRNGKey,
        network: nn.Module,
        optimizer: optax.GradientTransformation,
        memory: RolloutMemory,
        obs_space_shape: tuple[int, ...],
        num_envs: int,
    ) -> PPOState:
        """Fresh network and optimizer, an empty rollout; the first update only records observations."""
        env_states = jnp.zeros((num_envs, *obs_space_shape), jnp.float32)
        return PPOState(
            network=init_network(network, optimizer, key, env_states, target=False),
            rollout_buffer=memory.init(),
            prev_env_states=env_states,
            episode_ended=jnp.ones(num_envs, bool),
        )

    @staticmethod
    def update(
        state: PPOState,
        key: PRNGKey,
        env_states: Array,
        actions: Array,
        rewards: Array,
        terminals: Array,
        truncated: Array,
        episode_starts: Array = False,
        *,
        network: nn.Module,
        policy: Policy,
        memory: RolloutMemory,
        **training: Any,
    ) -> PPOState:
        """Record the transitions that led to ``env_states``; train when the rollout is full.

        Args:
          env_states: the observations after the actions, ``(num_envs, *obs_shape)``.
          actions: the actions ``sample`` returned for the previous observations.
          rewards: the rewards of those actions, ``(num_envs,)``.
          terminals: whether each episode terminated at ``env_states`` (no bootstrapping).
          truncated: whether each episode was cut at ``env_states`` (bootstrapping from it).
          episode_starts: whether ``env_states`` begins an episode (after ``reset``): no transition
            leads to it. Optional; the Gymnasium extensions supply it.
        """
        shape = state.episode_ended.shape
        rewards = jnp.reshape(jnp.asarray(rewards, jnp.float32), shape)
        terminals = jnp.reshape(jnp.asarray(terminals, bool), shape)
        truncated = jnp.reshape(jnp.asarray(truncated, bool), shape)
        starts = jnp.broadcast_to(jnp.asarray(episode_starts, bool), shape)
        stored = state.rollout_buffer.actions
        actions = jnp.reshape(actions, stored.shape[1:]).astype(stored.dtype)
        forward_key, train_key = jax.random.split(key)
        outputs, net_state = apply_network(
            network, state.network, forward_key, state.prev_env_states
        )
        log_prob, _, value = policy.evaluate(outputs, actions)
        valid, ended = episode_boundary(state.episode_ended, terminals, truncated, starts)
        buffer = memory.append(
            state.rollout_buffer,
            state.prev_env_states,
            actions,
            rewards,
            terminals,
            truncated,
            value,
            log_prob,
            valid,
        )
        state = state.replace(
            network=state.network.replace(net_state=net_state),
            rollout_buffer=buffer,
            prev_env_states=jnp.reshape(env_states, state.prev_env_states.shape).astype(
                jnp.float32
            ),
            episode_ended=ended,
        )
        train = partial(_PPO._train, network=network, memory=memory, **training)
        return jax.lax.cond(memory.is_ready(buffer), train, lambda s, _: s, state, train_key)

    @staticmethod
    def _train(
        state: PPOState, key: PRNGKey, *, network, memory, step, num_epochs, discount, lambda_gae
    ) -> PPOState:
        """``num_epochs`` passes of minibatch gradient steps over the full rollout, then empty it."""
        value_key, epochs_key = jax.random.split(key)
        outputs, net_state = apply_network(network, state.network, value_key, state.prev_env_states)
        last_values = jnp.reshape(outputs[-1], state.episode_ended.shape)
        advantages = rollout_advantages(
            state.rollout_buffer, last_values, discount=discount, lambda_gae=lambda_gae
        )
        batch = memory.get(state.rollout_buffer, advantages)

        def minibatch_step(trained: NetworkState, xs) -> NetworkState:
            minibatch, step_key = xs
            return step(trained, key=step_key, batch=minibatch)[0]

        def epoch(trained: NetworkState, epoch_key: PRNGKey) -> NetworkState:
            shuffle_key, steps_key = jax.random.split(epoch_key)
            minibatches = memory.minibatches(batch, shuffle_key)
            step_keys = jax.random.split(steps_key, minibatches.valid.shape[0])
            return gradient_steps(minibatch_step, trained, (minibatches, step_keys))

        epoch_keys = jax.random.split(epochs_key, num_epochs)
        trained = gradient_steps(epoch, state.network.replace(net_state=net_state), epoch_keys)
        return state.replace(network=trained, rollout_buffer=memory.init())

    @staticmethod
    def sample(
        state: PPOState, key: PRNGKey, env_states: Array, network: nn.Module, policy: Policy
    ) -> Array:
        """Draw one action per environment from the current policy."""
        network_key, action_key = jax.random.split(key)
        env_states = jnp.reshape(env_states, state.prev_env_states.shape)
        return policy.sample(
            apply_network(network, state.network, network_key, env_states)[0], action_key
        )

    @staticmethod
    def sample_greedy(
        state: PPOState, key: PRNGKey, env_states: Array, network: nn.Module, policy: Policy
    ) -> Array:
        """The policy's most likely action in each environment (the clipped mean, if continuous)."""
        env_states = jnp.reshape(env_states, state.prev_env_states.shape)
        return policy.greedy(apply_network(network, state.network, key, env_states)[0])


class PPODiscrete(_PPO):
    r"""PPO with a categorical policy, for discrete actions, over ``num_envs`` environments.

    The network maps a batch of observations to ``(logits, values)`` of shapes
    ``(batch, act_space_size)`` and ``(batch,)`` (e.g. :class:`~agentax.agents.deep.DiscreteActorCritic`).
    The algorithm, and the inputs refused, are described in :mod:`agentax.agents.deep.ppo`, the loss
    in :func:`~agentax.agents.deep.ppo_loss`.

    Args:
      network: the actor-critic flax module.
      obs_space_shape: shape of one observation.
      act_space_size: number of actions.
      optimizer: an optax optimizer; default Adam with learning rate 3e-4 and eps 1e-5.
      discount: :math:`\gamma`, in [0, 1].
      lambda_gae: GAE's :math:`\lambda`, in [0, 1].
      normalize_advantage: normalize the advantages of each minibatch.
      clip_coef: :math:`\epsilon` of the clipped objective (and of the value clipping), >= 0.
      clip_value: clip the value loss.
      clip_grad: the largest global gradient norm, > 0; ``None`` does not clip.
      entropy_coef: weight :math:`c_e` of the entropy bonus, >= 0.
      value_coef: weight :math:`c_v` of the value loss, >= 0.
      rollout_length: updates (steps of all environments) per training round.
      num_envs: number of environments stepped together.
      batch_size: transitions per minibatch; must divide ``rollout_length * num_envs``.
      num_epochs: passes over each rollout.

    Observations: ``update(env_states, actions, rewards, terminals, truncated)`` and
    ``sample(env_states)``, each with a leading axis of ``num_envs``; the action is one integer per
    environment. ``sample_greedy`` takes the most likely actions.

    With these defaults and :class:`~agentax.agents.deep.DiscreteActorCritic`, eight CartPole-v1 copies reach a
    20-episode mean return of 475 in about 70 to 165 thousand environment steps (the seeds tried).
    """

    def __init__(
        self,
        network: nn.Module,
        obs_space_shape: Shape,
        act_space_size: int,
        optimizer: optax.GradientTransformation | None = None,
        discount: Scalar = 0.99,
        lambda_gae: Scalar = 0.95,
        normalize_advantage: bool = True,
        clip_coef: Scalar = 0.2,
        clip_value: bool = True,
        clip_grad: Scalar | None = 0.5,
        entropy_coef: Scalar = 0.01,
        value_coef: Scalar = 0.5,
        rollout_length: int = 128,
        num_envs: int = 1,
        batch_size: int = 64,
        num_epochs: int = 4,
    ) -> None:
        self.obs_space_shape, self.act_space_size, self.num_envs = validate(
            self.PARAMETERS,
            obs_space_shape=obs_space_shape,
            act_space_size=act_space_size,
            num_envs=num_envs,
        ).values()
        n, size = self.num_envs, self.act_space_size
        check_network_output(
            "network",
            network,
            (jnp.zeros((n, *self.obs_space_shape)),),
            lambda out: _is_heads(out, 2) and out[0] == (n, size) and _is_values(out[1], n),
            f"a pair (logits of shape {(n, size)}, values of shape {(n,)})",
        )
        self._bind(network, categorical_policy(), (), jnp.int32, locals())

    PARAMETERS = {**_PPO.PARAMETERS, "act_space_size": Int()}

    @property
    def action_space(self) -> gym.spaces.MultiDiscrete:
        return gym.spaces.MultiDiscrete([self.act_space_size] * self.num_envs)


class PPOContinuous(_PPO):
    r"""PPO with a Gaussian policy whose actions are clipped to bounds, over ``num_envs`` environments.

    The network maps a batch of observations to ``(mean, log_std, values)``: the mean of shape
    ``(batch, *act_space_shape)``, a log standard deviation that broadcasts to it, and values of
    shape ``(batch,)`` (e.g. :class:`~agentax.agents.deep.GaussianActorCritic`). Actions are drawn from
    :math:`\mathcal{N}(\mu, \sigma^2)` and clipped to ``[min_action, max_action]``; the
    log-probability of a clipped action is the Gaussian's mass beyond the bound, so the policy
    gradient is that of the actions the environment receives (Fujita and Maeda, "Clipped action
    policy gradient", ICML 2018). The algorithm, and the inputs refused, are described in
    :mod:`agentax.agents.deep.ppo`.

    Args:
      network: the actor-critic flax module.
      obs_space_shape: shape of one observation.
      act_space_shape: shape of one action.
      min_action, max_action: bounds of the actions (scalars or arrays of ``act_space_shape``).
      others: ``optimizer``, ``discount``, ``lambda_gae``, ``normalize_advantage``,
        ``clip_coef``, ``clip_value``, ``clip_grad``, ``entropy_coef``, ``value_coef``,
        ``rollout_length``, ``num_envs``, ``batch_size`` and ``num_epochs`` are as in
        :class:`PPODiscrete`.
    """

    def __init__(
        self,
        network: nn.Module,
        obs_space_shape: Shape,
        act_space_shape: Shape,
        min_action: Numeric,
        max_action: Numeric,
        optimizer: optax.GradientTransformation | None = None,
        discount: Scalar = 0.99,
        lambda_gae: Scalar = 0.95,
        normalize_advantage: bool = True,
        clip_coef: Scalar = 0.2,
        clip_value: bool = True,
        clip_grad: Scalar | None = 0.5,
        entropy_coef: Scalar = 0.0,
        value_coef: Scalar = 0.5,
        rollout_length: int = 256,
        num_envs: int = 1,
        batch_size: int = 64,
        num_epochs: int = 10,
    ) -> None:
        self.obs_space_shape, self.act_space_shape, self.num_envs = validate(
            self.PARAMETERS,
            obs_space_shape=obs_space_shape,
            act_space_shape=act_space_shape,
            num_envs=num_envs,
        ).values()
        self.min_action, self.max_action = action_bounds(
            min_action, max_action, self.act_space_shape
        )
        n, mean_shape = self.num_envs, (self.num_envs, *self.act_space_shape)
        check_network_output(
            "network",
            network,
            (jnp.zeros((n, *self.obs_space_shape)),),
            lambda out: (
                _is_heads(out, 3)
                and out[0] == mean_shape
                and _broadcasts(out[1], mean_shape)
                and _is_values(out[2], n)
            ),
            f"a triple (mean of shape {mean_shape}, log_std broadcasting to it, values of shape {(n,)})",
        )
        policy = clipped_gaussian_policy(self.min_action, self.max_action)
        self._bind(network, policy, self.act_space_shape, jnp.float32, locals())

    PARAMETERS = {
        **_PPO.PARAMETERS,
        "act_space_shape": ArrayShape(),
        "min_action": Reals(),
        "max_action": Reals(),
    }

    @property
    def _observed_actions_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(-jnp.inf, jnp.inf, (self.num_envs, *self.act_space_shape), np.float32)

    @property
    def action_space(self) -> gym.spaces.Box:
        shape = (self.num_envs, *self.act_space_shape)
        return gym.spaces.Box(
            np.broadcast_to(self.min_action, shape),
            np.broadcast_to(self.max_action, shape),
            shape,
            np.float32,
        )
