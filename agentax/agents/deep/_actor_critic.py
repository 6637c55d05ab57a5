"""What the off-policy actor-critics (DDPG, TD3, SAC) are built from: their validated parameters,
replay buffer, networks, optimizers and action bounds, and the partials their constructors bind."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from chex import Array, PRNGKey
from flax import linen as nn

from agentax._validation import declared, validate
from agentax.agents.deep._shapes import action_bounds
from agentax.agents.deep._twin import init_twin
from agentax.agents.deep.core import agent_replay, apply_gradient, init_network
from agentax.agents.deep.networks import check_network_output
from agentax.utils import ExperienceReplay

__all__: list[str] = []


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity, as a bound method may be
class ActorCritic:
    """One off-policy actor-critic's configuration, as :func:`actor_critic` builds it.

    Attributes:
      p: the validated constructor parameters (all of the agent's ``PARAMETERS`` but the late ones).
      er: the replay buffer.
      q_network, a_network: the critic and the actor.
      q_optimizer, a_optimizer: their optimizers.
      low, high: the action bounds, as arrays of the action's shape.
      twin: whether the critic is two stacked copies (:func:`~agentax.agents.deep._twin.init_twin`).
      actor_target: whether the actor has a target copy.
    """

    p: Mapping[str, Any]
    er: ExperienceReplay
    q_network: nn.Module
    a_network: nn.Module
    q_optimizer: optax.GradientTransformation
    a_optimizer: optax.GradientTransformation
    low: Array
    high: Array
    twin: bool
    actor_target: bool

    @property
    def actor(self) -> dict[str, Any]:
        """The keywords of the samplers: the actor and the bounds."""
        return dict(a_network=self.a_network, low=self.low, high=self.high)

    def init_fields(self, key: PRNGKey) -> dict[str, Any]:
        """The fields of a fresh state: new critic and actor (targets equal to them), their
        optimizer states, an empty buffer, and the first update marked as an episode's start."""
        q_key, a_key = jax.random.split(key)
        obs = jnp.zeros(self.p["obs_space_shape"], jnp.float32)
        action = jnp.zeros(self.p["act_space_shape"], jnp.float32)
        critic = (
            init_twin(self.q_network, self.q_optimizer, q_key, obs, action)
            if self.twin
            else init_network(self.q_network, self.q_optimizer, q_key, obs, action, target=True)
        )
        return dict(
            critic=critic,
            actor=init_network(
                self.a_network, self.a_optimizer, a_key, obs, target=self.actor_target
            ),
            replay_buffer=self.er.init(),
            prev_env_state=obs,
            episode_ended=jnp.ones((), bool),
        )

    def q_step(self, loss: Callable) -> Callable:
        """One critic optimizer step down ``loss`` (:func:`~agentax.agents.deep.apply_gradient`)."""
        return partial(
            apply_gradient,
            optimizer=self.q_optimizer,
            loss_fn=partial(loss, q_network=self.q_network),
        )

    def a_step(self, loss: Callable, **inputs: Any) -> Callable:
        """One actor optimizer step down ``loss`` of both networks (and ``inputs``)."""
        loss_fn = partial(loss, a_network=self.a_network, q_network=self.q_network, **inputs)
        return partial(apply_gradient, optimizer=self.a_optimizer, loss_fn=loss_fn)


def actor_critic(
    agent,
    arguments: Mapping[str, Any],
    *,
    late: tuple[str, ...] = (),
    gaussian_actor: bool = False,
    twin: bool = True,
    actor_target: bool = True,
    a_learning_rate: float = 1e-3,
) -> ActorCritic:
    """Validate an actor-critic's constructor ``arguments`` (its ``locals()``) and build it.

    Checks every parameter of ``agent.PARAMETERS`` but the ``late`` ones (those with defaults
    computed from the others, which the agent validates after); sets ``agent.obs_space_shape``,
    ``act_space_shape``, ``min_action`` and ``max_action``; checks that the critic gives one value
    and the actor an action (with ``gaussian_actor``: a pair ``(mean, log_std)``) of the action's
    shape. A ``None`` optimizer is Adam with learning rate 1e-3 (the actor's: ``a_learning_rate``).

    Raises:
      ValueError: a parameter out of range, or bounds that are not ordered.
      NetworkOutputError: a network whose output has the wrong shape.
    """
    p = validate(agent.PARAMETERS, **declared(agent.PARAMETERS, arguments, skip=late))
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
    q_network, a_network = arguments["q_network"], arguments["a_network"]
    obs, action = jnp.zeros(agent.obs_space_shape), jnp.zeros(agent.act_space_shape)
    shape = agent.act_space_shape
    check_network_output(
        "a_network",
        a_network,
        (obs,),
        lambda out: out == ((shape, shape) if gaussian_actor else shape),
        f"{'(mean, log_std), each' if gaussian_actor else 'an action'} of shape act_space_shape = {shape}",
    )
    check_network_output(
        "q_network",
        q_network,
        (obs, action),
        lambda out: out in ((), (1,)),
        "one value, of shape () or (1,)",
    )
    q_optimizer, a_optimizer = arguments["q_optimizer"], arguments["a_optimizer"]
    return ActorCritic(
        p=p,
        er=er,
        q_network=q_network,
        a_network=a_network,
        q_optimizer=optax.adam(1e-3) if q_optimizer is None else q_optimizer,
        a_optimizer=optax.adam(a_learning_rate) if a_optimizer is None else a_optimizer,
        low=jnp.asarray(agent.min_action),
        high=jnp.asarray(agent.max_action),
        twin=twin,
        actor_target=actor_target,
    )


def or_scaled(agent, value: float | None, fraction: float) -> float:
    """``value``, or if it is ``None`` that ``fraction`` of half the widest action range (the
    scale of the default noises)."""
    if value is not None:
        return value
    return fraction * (0.5 * float(np.max(agent.max_action - agent.min_action)))
