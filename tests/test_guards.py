"""The in-step checks (``agentax._guards``) on every agent of the conformance table.

For each agent: valid observations and the state its update makes pass; each observation with a
value outside the agent's bounds (NaN or infinite for a float, below the lowest value otherwise)
is caught and named, for ``update`` and ``sample`` alike.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax import _guards
from agentax.spaces import array_dtype, example, value_bounds
from tests.agents.test_conformance import CASES


def _agent(factory):
    built = factory()
    return built[0] if isinstance(built, tuple) else built


def _values(space):
    return example(space) if space is not None else {}


def _checker(agent):
    """``problem(update_values, sample_values)``: the step's check after an update, compiled once."""

    @jax.jit
    def problem(update_values, sample_values):
        key = jax.random.PRNGKey(0)
        state = agent.update(agent.init(key), key, **update_values)
        return _guards.first_problem(
            agent.update_observation_space,
            update_values,
            jnp.bool_(True),
            agent.sample_observation_space,
            sample_values,
            tuple(jax.tree.leaves(state)),
        )

    return lambda update_values, sample_values: int(problem(update_values, sample_values))


def _outside(space):
    """A value of ``space``'s shape outside its bounds, or ``None`` (a flag cannot be)."""
    kind = array_dtype(space).kind
    if kind == "b":
        return None
    low, _ = value_bounds(space)
    value = np.full(low.shape, np.nan if kind == "f" else 0, array_dtype(space))
    if kind != "f":
        if low.min() <= np.iinfo(np.int32).min:
            return None
        value[...] = low - 1
    return value


@pytest.mark.parametrize("factory", CASES)
def test_guards_pass_valid_steps_and_name_each_bad_observation(factory):
    agent = _agent(factory)
    update_values, sample_values = (
        _values(agent.update_observation_space),
        _values(agent.sample_observation_space),
    )
    problem = _checker(agent)
    assert problem(update_values, sample_values) == -1
    state = agent.init(jax.random.PRNGKey(0))
    names = _guards.problem_names(
        agent.update_observation_space,
        update_values,
        agent.sample_observation_space,
        sample_values,
        state,
    )
    for index, (kind, name, space, _) in enumerate(names):
        if kind == "state" or (bad := _outside(space)) is None:
            continue
        values = {"update": dict(update_values), "sample": dict(sample_values)}
        path = name.split(".")
        target = values[kind]
        for key in path[:-1]:
            target[key] = dict(target[key])
            target = target[key]
        target[path[-1]] = bad
        assert problem(values["update"], values["sample"]) == index, f"{kind} {name} not caught"
