"""The compiled agent–environment loop shared by the built-in problems."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
from chex import Array, PRNGKey

from agentax.agents.base import BaseAgent
from agentax.extensions.base import BaseExt
from agentax.extensions.inference import plan_observations

__all__ = ["Trajectory", "scan_agent"]


class Trajectory(NamedTuple):
    """What a simulation records at every step (each field has a leading axis of steps).

    Attributes:
      actions: the arm chosen.
      rewards: the reward it gave.
      regret: the best arm's expected reward at that step minus the chosen arm's.
      optimal: whether the chosen arm was a best arm.
    """

    actions: Array
    rewards: Array
    regret: Array
    optimal: Array


Observe = Callable[[PRNGKey, Array], tuple[dict[str, Any], Array]]
Respond = Callable[[PRNGKey, Array, dict[str, Any], Array], dict[str, Any]]


def scan_agent(
    agent: BaseAgent,
    ext: BaseExt | None,
    given: Mapping[str, gym.spaces.Space | None],
    n_steps: int,
    key: PRNGKey,
    observe: Observe,
    respond: Respond,
) -> Trajectory:
    """Run ``agent`` for ``n_steps`` inside one :func:`jax.lax.scan`, as the facade would feed it.

    At step ``t``, with that step's environment key ``k``:

    1. ``observe(k, t) -> (raw, means)``: the raw observations before acting (named as in
       ``given``, placeholders for those only known after) and every arm's expected reward;
    2. the agent samples an action from the observations ``ext`` (or ``given`` by name) supplies;
    3. ``respond(k, t, raw, action) -> raw``: the raw observations after acting, with ``"reward"``;
    4. the agent is updated from them and the last action.

    Args:
      agent: the agent to run.
      ext: the extension computing the agent's observations, or ``None`` to pass them by name.
      given: the names of the raw observations and their spaces.
      n_steps: number of steps (static).
      key: PRNG key of the run.
      observe, respond: the environment, as above.
    """
    name = type(agent).__name__
    update_plan = plan_observations(agent.update_observation_space, ext, given, f"{name}.update", agent.update)
    sample_plan = plan_observations(agent.sample_observation_space, ext, given, f"{name}.sample", agent.sample)
    init_key, key = jax.random.split(key)

    def step(carry, t):
        state, key = carry
        key, sample_key, env_key, update_key = jax.random.split(key, 4)
        raw, means = observe(env_key, t)
        action = agent.sample(state, sample_key, **sample_plan.build(raw, None))
        raw = respond(env_key, t, raw, action)
        state = agent.update(state, update_key, **update_plan.build(raw, action))
        best = jnp.max(means)
        return (state, key), Trajectory(action, raw["reward"], best - means[action], means[action] == best)

    _, trajectory = jax.lax.scan(step, (agent.init(init_key), key), jnp.arange(n_steps))
    return trajectory
