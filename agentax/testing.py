"""The conformance suite every agent passes; use it on your own agents too.

:func:`check_agent` runs an agent's ``init``, ``update`` and ``sample`` the three ways agentax
uses them (plain jitted calls, :func:`jax.vmap` over instances, :func:`jax.lax.scan` over steps)
and checks that they agree, do not retrace, keep the state's structure and dtypes, are
deterministic for a fixed key and give finite values. Observations are drawn from the agent's
spaces unless given.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import chex
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from agentax.agents.base import AgentState, BaseAgent
from agentax.spaces import example

__all__ = ["check_agent", "count_traces", "example_observations"]

_TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"


@contextlib.contextmanager
def count_traces() -> Iterator[list[int]]:
    """Count how many times JAX traces a function inside the ``with`` block.

    Yields a one-element list whose element is the running count, e.g.::

        with count_traces() as traces:
            agent.update(state, key, action=1, reward=0.5)
        assert traces[0] == 0
    """
    count = [0]

    def listener(event: str, duration: float, **kwargs: Any) -> None:
        if event == _TRACE_EVENT:
            count[0] += 1

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield count
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def example_observations(
    space: gym.spaces.Space | None, n_steps: int, seed: int = 0
) -> dict[str, Any]:
    """``n_steps`` valid observations of ``space`` stacked along a leading axis."""
    if space is None:
        return {}
    steps = [example(space, seed + step) for step in range(n_steps)]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *steps) if steps[0] else {}


def _step(agent: BaseAgent, state, key, update_obs, sample_obs):
    update_key, sample_key = jax.random.split(key)
    state = agent.update(state, update_key, **update_obs)
    return state, agent.sample(state, sample_key, **sample_obs)


def _assert_finite(tree, what: str) -> None:
    for leaf in jax.tree.leaves(tree):
        leaf = np.asarray(leaf)
        if leaf.dtype.kind == "f" and not np.all(np.isfinite(leaf)):
            raise AssertionError(f"{what} has non-finite values: {leaf}")


def check_agent(
    agent: BaseAgent,
    update_observations: dict[str, Any] | None = None,
    sample_observations: dict[str, Any] | None = None,
    *,
    n_steps: int = 4,
    n_instances: int = 3,
    seed: int = 0,
) -> None:
    """Assert that ``agent`` honours the agent contract.

    Args:
      agent: a constructed agent.
      update_observations, sample_observations: per-step observations with a leading axis of
        ``n_steps``; drawn from the agent's spaces when omitted.
      n_steps: how many update/sample steps to run.
      n_instances: how many instances to vmap over.
      seed: seed of the keys and drawn observations.

    Raises:
      AssertionError: naming the property that does not hold.
    """
    if update_observations is None:
        update_observations = example_observations(agent.update_observation_space, n_steps, seed)
    if sample_observations is None:
        sample_observations = example_observations(
            agent.sample_observation_space, n_steps, seed + 1000
        )
    key = jax.random.PRNGKey(seed)
    at = lambda tree, t: jax.tree.map(lambda x: x[t], tree)  # noqa: E731

    state = agent.init(key)
    assert isinstance(state, AgentState), f"init returned {type(state).__name__}, not an AgentState"
    chex.assert_trees_all_equal(state, agent.init(key))  # determinism of init
    _assert_finite(state, "the initial state")

    # Plain jitted calls, step by step; the reference for the other two paths. The first step
    # compiles; later steps, with new values of the same types, must not trace again.
    keys = jax.random.split(jax.random.PRNGKey(seed + 1), n_steps)
    step_keys = [tuple(jax.random.split(keys[t])) for t in range(n_steps)]
    per_step = [(at(update_observations, t), at(sample_observations, t)) for t in range(n_steps)]
    states, actions, repeats = [state], [], []
    with count_traces() as traces:
        for t in range(n_steps):
            if t == 1:
                traces[0] = 0
            new_state, action = _step(agent, states[-1], keys[t], *per_step[t])
            repeats.append(agent.sample(new_state, step_keys[t][1], **per_step[t][1]))
            states.append(new_state)
            actions.append(action)
    assert traces[0] == 0, (
        f"{type(agent).__name__} traced {traces[0]} more times after its first step"
    )
    for t, (new_state, action, repeat) in enumerate(zip(states[1:], actions, repeats, strict=True)):
        chex.assert_trees_all_equal(repeat, action)  # sample is deterministic for a fixed key
        chex.assert_trees_all_equal_structs(new_state, state)
        chex.assert_trees_all_equal_shapes_and_dtypes(new_state, state)
        _assert_finite(new_state, f"the state after update {t}")
        _assert_finite(action, f"action {t}")
        if agent.action_space is not None:
            assert agent.action_space.contains(_as_space_value(action, agent.action_space)), (
                f"action {action} is not in {agent.action_space}"
            )

    # lax.scan over steps gives the same trajectory.
    def body(carry, xs):
        k, u, s = xs
        carry, action = _step(agent, carry, k, u, s)
        return carry, action

    final, scanned = jax.lax.scan(body, state, (keys, update_observations, sample_observations))
    chex.assert_trees_all_close(final, states[-1], rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(
        scanned, jax.tree.map(lambda *a: jnp.stack(a), *actions), rtol=1e-5, atol=1e-6
    )

    # vmap over instances gives what each instance gives alone.
    instance_keys = jax.random.split(jax.random.PRNGKey(seed + 2), n_instances)
    batched = jax.vmap(agent.init)(instance_keys)

    def first(tree):
        return jax.tree.map(lambda x: jnp.broadcast_to(x[0], (n_instances, *x.shape[1:])), tree)

    batched, batched_actions = jax.vmap(lambda s, k, u, o: _step(agent, s, k, u, o))(
        batched, instance_keys, first(update_observations), first(sample_observations)
    )
    for i in range(n_instances):
        alone, alone_action = _step(
            agent,
            agent.init(instance_keys[i]),
            instance_keys[i],
            at(update_observations, 0),
            at(sample_observations, 0),
        )
        chex.assert_trees_all_close(at(batched, i), alone, rtol=1e-5, atol=1e-6)
        chex.assert_trees_all_close(at(batched_actions, i), alone_action, rtol=1e-5, atol=1e-6)


def _as_space_value(action, space: gym.spaces.Space):
    action = np.asarray(action)
    if isinstance(space, gym.spaces.Discrete):
        return np.int64(action)
    if isinstance(space, gym.spaces.Box):
        return action.reshape(space.shape).astype(space.dtype)
    return action
