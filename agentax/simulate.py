"""Compiled agent–environment loops over the built-in problems of :mod:`agentax.envs`.

Each run is one :func:`jax.lax.scan` that feeds the agent through an extension exactly as the
facade does, so it sits beside the facade, above the extensions and the environments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from chex import Array, PRNGKey

from agentax.agents.base import BaseAgent
from agentax.envs import wifi
from agentax.envs.bandit import BanditProblem
from agentax.envs.contextual import LinearContextualProblem
from agentax.extensions.base import BaseExt
from agentax.extensions.basic_mab import BasicMab
from agentax.extensions.observations import plan_observations
from agentax.extensions.wifi import IEEE_802_11_ax_RA

__all__ = ["Trajectory", "simulate", "simulate_contextual", "simulate_wifi"]


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


def _scan_agent(
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
    update_plan = plan_observations(
        agent.update_observation_space, ext, given, f"{name}.update", agent.update
    )
    sample_plan = plan_observations(
        agent.sample_observation_space, ext, given, f"{name}.sample", agent.sample
    )
    init_key, key = jax.random.split(key)

    def step(carry, t):
        state, key = carry
        key, sample_key, env_key, update_key = jax.random.split(key, 4)
        raw, means = observe(env_key, t)
        action = agent.sample(state, sample_key, **sample_plan.build(raw, None))
        raw = respond(env_key, t, raw, action)
        state = agent.update(state, update_key, **update_plan.build(raw, action))
        best = jnp.max(means)
        return (state, key), Trajectory(
            action, raw["reward"], best - means[action], means[action] == best
        )

    _, trajectory = jax.lax.scan(step, (agent.init(init_key), key), jnp.arange(n_steps))
    return trajectory


def simulate(
    agent: BaseAgent,
    problem: BanditProblem,
    n_steps: int,
    key: PRNGKey,
    ext: BaseExt | None = None,
) -> Trajectory:
    """Run ``agent`` on ``problem`` for ``n_steps`` inside one :func:`jax.lax.scan`.

    Each step samples an arm, draws its reward and updates the agent, with the agent's
    observations computed by ``ext`` (default ``BasicMab(n_arms)``) from the reward and the last
    action. Jit it with ``n_steps`` static, or vmap it over keys for independent runs.
    """
    ext = ext if ext is not None else BasicMab(problem.n_arms)
    given = {"reward": gym.spaces.Box(-np.inf, np.inf, (1,), float)}

    def observe(key, t):
        return {"reward": jnp.float32(0.0)}, problem.means_at(t)

    def respond(key, t, raw, action):
        return {"reward": problem.reward(key, t, action)}

    return _scan_agent(agent, ext, given, n_steps, key, observe, respond)


def simulate_contextual(
    agent: BaseAgent,
    problem: LinearContextualProblem,
    n_steps: int,
    key: PRNGKey,
    ext: BaseExt | None = None,
) -> Trajectory:
    """Run ``agent`` on ``problem`` for ``n_steps`` inside one :func:`jax.lax.scan`.

    Each step draws every arm's features, gives them to ``sample`` as ``context``, draws the
    chosen arm's reward, and updates the agent with ``action``, ``reward`` and
    ``action_context`` (the chosen arm's features). Observations go to the agent by name, so a
    context-blind bandit (which takes only ``action`` and ``reward``) runs here too; ``ext``
    optionally computes others (e.g. :class:`~agentax.extensions.BasicMab` for Thompson sampling).
    Jit it with ``n_steps`` static, or vmap it over keys for independent runs.

    Returns:
      The :class:`Trajectory`; ``regret`` is the best arm's expected reward minus the
      chosen arm's, given the step's features.
    """
    placeholders = {
        "action_context": jnp.zeros(problem.n_features, jnp.float32),
        "reward": jnp.float32(0.0),
    }

    def observe(key, t):
        context = problem.context(jax.random.split(key)[0])
        return {"context": context, **placeholders}, problem.means(context)

    def respond(key, t, raw, action):
        reward = problem.reward(jax.random.split(key)[1], raw["context"], action)
        return {
            "context": raw["context"],
            "action_context": raw["context"][action],
            "reward": reward,
        }

    return _scan_agent(agent, ext, problem.spaces(), n_steps, key, observe, respond)


def _wifi_policy(agent: BaseAgent, ext: BaseExt) -> wifi.Policy:
    """The agent fed by ``ext`` as the facade feeds it: update from the last TXOP, then sample."""
    name = type(agent).__name__
    given = dict(ext.observation_space.spaces)
    update_plan = plan_observations(
        agent.update_observation_space, ext, given, f"{name}.update", agent.update
    )
    sample_plan = plan_observations(
        agent.sample_observation_space, ext, given, f"{name}.sample", agent.sample
    )

    def start(key, observation):
        init_key, sample_key = jax.random.split(key)
        state = agent.init(init_key)
        return state, agent.sample(state, sample_key, **sample_plan.build(observation, None))

    def choose(state, key, observation, action, env_state):
        update_key, sample_key = jax.random.split(key)
        state = agent.update(state, update_key, **update_plan.build(observation, action))
        return state, agent.sample(state, sample_key, **sample_plan.build(observation, action))

    return start, choose


def simulate_wifi(
    agent: BaseAgent,
    station: wifi.Station,
    n_steps: int,
    key: PRNGKey,
    params: wifi.WifiParams = wifi.WifiParams(),
    ext: BaseExt | None = None,
) -> wifi.Record:
    """Run ``agent`` as the rate manager of one station for ``n_steps`` TXOPs in one scan.

    The agent's observations come from ``ext`` (default
    :class:`~agentax.extensions.IEEE_802_11_ax_RA`) through the facade's own observation plan.
    Jit with ``n_steps`` static; vmap over ``station`` and ``key`` for many stations and seeds.
    """
    policy = _wifi_policy(agent, ext if ext is not None else IEEE_802_11_ax_RA())
    return wifi.rollout(params, station, n_steps, key, policy)
