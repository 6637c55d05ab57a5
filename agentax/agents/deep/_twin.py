"""What the twin-critic agents (TD3, SAC) share on top of :mod:`~agentax.agents.deep.core`: two
critics trained as one stacked network, their loss and the construction checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from chex import Array, ArrayTree, PRNGKey
from flax import linen as nn

from agentax.agents.deep._shapes import action_bounds
from agentax.agents.deep.core import NetworkState, agent_replay
from agentax.agents.deep.networks import check_network_output
from agentax.utils import ExperienceReplay, forward, init

__all__: list[str] = []


def init_twin(
    network: nn.Module, optimizer: optax.GradientTransformation, key: PRNGKey, *inputs: Any
) -> NetworkState:
    """Two independently initialized copies of ``network``, stacked on a leading axis of 2, one
    optimizer state over both, and targets equal to them."""
    params, net_state = jax.vmap(lambda k: init(network, k, *inputs))(jax.random.split(key))
    return NetworkState(
        params=params,
        net_state=net_state,
        opt_state=optimizer.init(params),
        target_params=params,
        target_net_state=net_state,
    )


def twin_values(
    network: nn.Module, params: ArrayTree, net_state: ArrayTree, key: PRNGKey, *inputs: Array
) -> Array:
    """Both critics' values of a batch of ``inputs``, shape ``(2, batch)`` (their state updates are dropped)."""
    values, _ = jax.vmap(lambda p, s: forward(network, p, s, key, *inputs))(params, net_state)
    return jnp.reshape(values, (2, -1))


def first_critic(critic: NetworkState) -> NetworkState:
    """The first of the twin critics, online variables only."""
    params, net_state = jax.tree.map(lambda leaf: leaf[0], (critic.params, critic.net_state))
    return NetworkState(params=params, net_state=net_state, opt_state=())


def setup(
    agent,
    q_network: nn.Module,
    a_network: nn.Module,
    actor_output: Callable,
    actor_expected: str,
    p: Mapping[str, Any],
) -> ExperienceReplay:
    """Set what a twin-critic agent is built with, from its parameters ``p`` (validated against
    its ``PARAMETERS``), and return its replay buffer.

    Sets ``agent.obs_space_shape``, ``act_space_shape``, ``min_action`` and ``max_action``; checks
    that the critic gives one value and that ``actor_output(shapes)`` holds for the actor's output.
    """
    agent.obs_space_shape, agent.act_space_shape = p["obs_space_shape"], p["act_space_shape"]
    agent.min_action, agent.max_action = action_bounds(
        p["min_action"], p["max_action"], agent.act_space_shape
    )
    er = agent_replay(
        buffer_size=p["experience_replay_buffer_size"],
        batch_size=p["experience_replay_batch_size"],
        obs_shape=agent.obs_space_shape,
        act_shape=agent.act_space_shape,
    )
    obs, action = jnp.zeros(agent.obs_space_shape), jnp.zeros(agent.act_space_shape)
    check_network_output("a_network", a_network, (obs,), actor_output, actor_expected)
    check_network_output(
        "q_network",
        q_network,
        (obs, action),
        lambda out: out in ((), (1,)),
        "one value, of shape () or (1,)",
    )
    return er


def half_range(agent) -> float:
    """Half the widest action range, the scale of the default noises."""
    return 0.5 * float(np.max(agent.max_action - agent.min_action))
