"""Pieces shared by the off-policy actor-critic agents (TD3, SAC): a network with its target and
optimizer, twin critics, the episode-boundary rule of the replay buffer, rounds of training."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from chex import Array, PRNGKey, dataclass
from flax import linen as nn

from agentax.agents._checks import check_positive_int, check_range
from agentax.agents.deep._shapes import action_bounds, as_shape, check_outputs
from agentax.utils import Batch, ExperienceReplay, ReplayBuffer, experience_replay, forward, init

__all__ = ["NetworkState", "twin_critic_loss"]


@dataclass
class NetworkState:
    """A network's variables, its target copy's and its optimizer's state.

    Attributes:
      params, net_state: the parameters and other variables (stacked on a leading axis of 2 for
        twin critics).
      target_params, target_net_state: the target network's.
      opt_state: the optimizer's state.
    """

    params: dict
    net_state: dict
    target_params: dict
    target_net_state: dict
    opt_state: optax.OptState


def init_network(network: nn.Module, optimizer: optax.GradientTransformation, key: PRNGKey, *inputs: Array,
                 twin: bool = False) -> NetworkState:
    """Fresh variables (two independent sets, stacked, if ``twin``), the target equal to them."""
    if twin:
        params, net_state = jax.vmap(lambda k: init(network, k, *inputs))(jax.random.split(key))
    else:
        params, net_state = init(network, key, *inputs)
    return NetworkState(params=params, net_state=net_state, target_params=params, target_net_state=net_state,
                        opt_state=optimizer.init(params))


def polyak(network: NetworkState, tau: float) -> NetworkState:
    r"""The target moved towards the network, :math:`\theta' \leftarrow \tau \theta + (1 - \tau) \theta'`."""
    target_params, target_net_state = optax.incremental_update(
        (network.params, network.net_state), (network.target_params, network.target_net_state), tau)
    return network.replace(target_params=target_params, target_net_state=target_net_state)


def twin_forward(network: nn.Module, params: dict, net_state: dict, key: PRNGKey, *inputs: Array) -> Array:
    """Both critics' values of ``inputs``, shape ``(2, batch)`` (the critics' state updates are dropped)."""
    values, _ = jax.vmap(lambda p, s: forward(network, p, s, key, *inputs))(params, net_state)
    return jnp.reshape(values, (2, -1))


def act(network: nn.Module, params: dict, net_state: dict, key: PRNGKey, env_state: Array, obs_shape: tuple):
    """``network``'s output for one observation."""
    return forward(network, params, net_state, key, jnp.reshape(env_state, obs_shape))[0]


def first(tree: dict) -> dict:
    """The first of two stacked variable sets."""
    return jax.tree.map(lambda leaf: leaf[0], tree)


def twin_critic_loss(q_params: dict, key: PRNGKey, q_net_state: dict, batch: Batch, target: Array,
                     q_network: nn.Module) -> tuple[Array, dict]:
    r"""Sum over the two critics of the mean of :math:`\tfrac12 (Q_{\theta_i}(s_{t-1}, a_{t-1}) - y_t)^2`;
    ``target`` is :math:`y_t` (a constant for the gradient).

    Returns:
      ``(loss, q_net_state)``; the state is returned unchanged.
    """
    q_tm1 = twin_forward(q_network, q_params, q_net_state, key, batch.obs, batch.action)
    return jnp.sum(jnp.mean(0.5 * (q_tm1 - jnp.reshape(target, (1, -1))) ** 2, axis=1)), q_net_state


def store(er: ExperienceReplay, buffer: ReplayBuffer, prev_env_state: Array, episode_ended: Array, env_state: Array,
          action: Array, reward: Array, terminal: Array, truncated: Array,
          episode_start: Array) -> tuple[ReplayBuffer, Array, Array]:
    """Append ``(prev_env_state, action, reward, terminal, env_state)`` unless the previous episode
    ended at ``prev_env_state`` or ``env_state`` starts an episode.

    Returns:
      ``(buffer, env_state, episode_ended)``: the new buffer, observation and flag to remember.
    """
    terminal = jnp.reshape(jnp.asarray(terminal, bool), ())
    env_state = jnp.reshape(env_state, prev_env_state.shape).astype(jnp.float32)
    start = jnp.reshape(jnp.asarray(episode_start, bool), ())
    buffer = er.append(buffer, prev_env_state, action, reward, terminal, env_state, ~(episode_ended | start))
    return buffer, env_state, terminal | jnp.reshape(jnp.asarray(truncated, bool), ())


def train_rounds(step: Callable, state, key: PRNGKey, rounds: int, ready: Array):
    """``rounds`` applications of ``step(state, key) -> state``, each with its own key, if ``ready``."""
    def train(state):
        return jax.lax.scan(lambda s, k: (step(s, k), None), state, jax.random.split(key, rounds))[0]

    return jax.lax.cond(ready, train, lambda s: s, state)


def build_off_policy(agent, q_network: nn.Module, a_network: nn.Module, a_outputs: Callable, a_expected: str,
                     obs_space_shape, act_space_shape, min_action, max_action, buffer_size: int, batch_size: int,
                     replay_steps: int, discount: float, tau: float) -> tuple[ExperienceReplay, int, float, float]:
    """Validate and set what every off-policy actor-critic agent is built with.

    Sets ``agent.obs_space_shape``, ``act_space_shape``, ``min_action``, ``max_action``; checks
    the networks' outputs (``a_outputs(shapes)`` must hold for the actor's); returns the replay
    buffer's functions and the checked ``(replay_steps, discount, tau)``.
    """
    agent.obs_space_shape = as_shape("obs_space_shape", obs_space_shape)
    agent.act_space_shape = as_shape("act_space_shape", act_space_shape)
    agent.min_action, agent.max_action = action_bounds(min_action, max_action, agent.act_space_shape)
    buffer_size = check_positive_int("experience_replay_buffer_size", buffer_size)
    batch_size = check_positive_int("experience_replay_batch_size", batch_size)
    if batch_size > buffer_size:
        raise ValueError(f"experience_replay_batch_size must be at most experience_replay_buffer_size={buffer_size}, "
                         f"got {batch_size}")
    replay_steps = check_positive_int("experience_replay_steps", replay_steps)
    discount = check_range("discount", discount, 0.0, 1.0)
    tau = check_range("tau", tau, 0.0, 1.0, low_open=True)
    obs, action = jnp.zeros(agent.obs_space_shape), jnp.zeros(agent.act_space_shape)
    check_outputs("a_network", a_network, (obs,), a_outputs, a_expected)
    check_outputs("q_network", q_network, (obs, action), lambda out: out in ((), (1,)), "one value, of shape () or (1,)")
    er = experience_replay(buffer_size, batch_size, agent.obs_space_shape, agent.act_space_shape)
    return er, replay_steps, discount, tau


def half_range(agent) -> float:
    """Half the widest action range, the scale of the default noises."""
    return 0.5 * float(np.max(agent.max_action - agent.min_action))
