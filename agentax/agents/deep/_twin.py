"""What the twin-critic agents (TD3, SAC) share on top of :mod:`~agentax.agents.deep.core`: two
critics trained as one stacked network (construction: :mod:`~agentax.agents.deep._actor_critic`)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from chex import Array, ArrayTree, PRNGKey
from flax import linen as nn

from agentax.agents.deep.core import NetworkState
from agentax.utils import forward, init

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
