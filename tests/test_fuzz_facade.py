"""Hypothesis fuzz test of the facade: random sequences of valid and invalid calls (issue 7).

Each example takes a facade of one agent family (kept across examples, so that steps compile
once), creates instances and makes calls with values, shapes, dtypes, ids, names and flags drawn
from a mix of valid and hostile choices, and configuration changes on a facade without
instances. After every call:

* a call that raised raised an :class:`~agentax.errors.AgentaxError` (or a ``ValueError`` for a
  bad hyperparameter) and changed nothing: every instance's state, key, last action and step
  count, the number of instances, and the agent, extension and their parameters;
* a call that returned changed only the instances it was given (each by one step) or, for
  ``init``, added one instance;
* no instance's state holds a NaN or an infinity;
* no call took more than ``CALL_LIMIT`` seconds (a hang fails the test).

``AGENTAX_FUZZ_EXAMPLES`` sets the number of examples per family (CI runs the default).
"""

import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentax import RLib
from agentax.agents.deep import DQN
from agentax.agents.mab import UCB, EGreedy, LogNormalThompsonSampling, ThompsonSampling
from agentax.errors import AgentaxError
from agentax.extensions import BasicMab
from tests.agents.cases.deep import _SMALL, _TinyQ
from tests.time_limit import within

EXAMPLES = int(os.environ.get("AGENTAX_FUZZ_EXAMPLES", "6"))
CALLS = 6  # calls per example
CALL_LIMIT = 120  # seconds; generous, since a call may compile on a loaded machine

FLOATS = st.one_of(
    st.floats(-10, 10),
    st.sampled_from(
        [
            0.0,
            -0.0,
            1e-45,
            1e12,
            -1e12,
            3e38,
            -3e38,
            1e39,
            1e300,
            float("inf"),
            float("-inf"),
            float("nan"),
        ]
    ),
    st.integers(-3, 3),
    st.sampled_from([2**31, -(2**31) - 1, 2**63, 10**400]),
)
SCALARS = st.one_of(
    FLOATS,
    st.floats(allow_nan=True, allow_infinity=True).map(np.float64),
    st.integers(-3, 3).map(np.int64),
    st.booleans(),
    st.sampled_from(
        ["1.0", None, [1.0, 2.0], {"a": 1}, np.ones((2, 2)), jnp.float32(1.0), np.array([1.0])]
    ),
)
COUNTS = st.one_of(
    st.integers(0, 3),
    st.sampled_from([-1, 2**31 - 1, 2**31, 1.5, np.int64(2**31), np.uint32(7)]),
    SCALARS,
)
FLAGS = st.one_of(st.booleans(), st.sampled_from([0, 1, 0.5, 2, None, np.bool_(True), "yes"]))


def vectors(n):
    return st.one_of(
        st.lists(st.floats(-5, 5), min_size=n, max_size=n).map(np.array),
        st.sampled_from(
            [np.ones(n + 1), np.full(n, np.nan), np.full(n, 1e39), "abc", np.ones((n, 1))]
        ),
        SCALARS,
    )


def _dqn():
    return RLib(
        agent_type=DQN,
        agent_params=dict(q_network=_TinyQ(2), obs_space_shape=3, act_space_size=2, **_SMALL),
        no_ext_mode=True,
    )


# family: (build the facade, the observations by name with their strategies, can sample greedily)
FAMILIES = {
    "EGreedy+BasicMab": (
        lambda: RLib(
            agent_type=EGreedy, agent_params={"e": 0.2}, ext_type=BasicMab, ext_params={"n_arms": 3}
        ),
        {"reward": SCALARS},
    ),
    "ThompsonSampling": (
        lambda: RLib(
            agent_type=ThompsonSampling, agent_params={"n_arms": 3, "decay": 0.5}, no_ext_mode=True
        ),
        {"n_successful": COUNTS, "n_failed": COUNTS, "delta_time": SCALARS, "context": vectors(3)},
    ),
    "LogNormalTS+BasicMab": (
        lambda: RLib(
            agent_type=LogNormalThompsonSampling,
            agent_params={"alpha": 1.0, "beta": 1.0, "lam": 1.0, "mu": 0.0},
            ext_type=BasicMab,
            ext_params={"n_arms": 3},
        ),
        {"reward": SCALARS},
    ),
    "DQN": (
        _dqn,
        {
            "env_state": vectors(3),
            "reward": SCALARS,
            "terminal": FLAGS,
            "truncated": FLAGS,
            "episode_start": FLAGS,
        },
    ),
}
_facades = {}


def facade(family):
    if family not in _facades:
        _facades[family] = FAMILIES[family][0]()
    return _facades[family]


def snapshot(rl):
    n = rl.n_instances
    stack = jax.tree.map(lambda x: np.array(x[:n]), rl._stack) if n else None
    config = (
        rl.agent,
        rl._ext,
        rl._agent_type,
        dict(rl._agent_params),
        rl._ext_type,
        dict(rl._ext_params),
    )
    return stack, rl._steps[:n].copy(), n, config


def assert_rows_equal(after, before, rows):
    for new, old in zip(jax.tree.leaves(after), jax.tree.leaves(before), strict=True):
        np.testing.assert_array_equal(new[rows], old[rows])


def assert_finite(rl):
    for leaf in jax.tree.leaves(rl._stack[0]) if rl.n_instances else []:
        if jnp.issubdtype(leaf.dtype, jnp.inexact):
            assert np.all(np.isfinite(np.asarray(leaf[: rl.n_instances]))), (
                "a state holds NaN or inf"
            )


def call(record, function, *args, **kwargs):
    """Make one call with a time limit; ``(True, result)`` or ``(False, error)`` for an AgentaxError."""
    try:
        result = within(CALL_LIMIT, function, *args, **kwargs)
    except (AgentaxError, ValueError) as error:
        record["refused"] += 1
        return False, error
    record["accepted"] += 1
    return True, result


def id_choices(mine):
    """Ids among ``mine`` (the instances this example created), valid or not."""
    n = len(mine)
    index = st.integers(0, n - 1).map(lambda i: mine[i])
    valid = st.one_of(
        index,
        index.map(np.int64),
        index.map(jnp.int32),
        st.permutations(mine).map(
            lambda ids: ids[:2]
        ),  # up to 2 instances together: few compilations
    )
    invalid = st.sampled_from(
        [-1, 10**6, 0.0, "0", None, [mine[0], mine[0]], [], [[mine[0]]], True, np.array([10**6])]
    )
    return st.one_of(valid, valid, invalid)


def draw_sample_call(data, family, mine):
    observations = FAMILIES[family][1]
    agent_id = data.draw(id_choices(mine), label="agent_id")
    batch = len(agent_id) if isinstance(agent_id, list) else None
    kwargs = {name: VALID[name] for name in observations}
    # One observation per call is changed (or none), so that few sets of names (compilations) arise.
    name = data.draw(st.sampled_from(list(observations)), label="changed observation")
    change = data.draw(
        st.sampled_from(["none", "drawn", "drawn", "batched", "missing", "misspelled"]),
        label="change",
    )
    if change == "drawn":
        kwargs[name] = data.draw(observations[name], label=name)
    elif change == "batched" and batch:
        drawn = data.draw(observations[name], label=name)
        try:
            kwargs[name] = np.stack([np.asarray(drawn)] * batch)
        except ValueError:  # ragged: give it as drawn
            kwargs[name] = drawn
    elif change in ("missing", "misspelled"):
        value = kwargs.pop(name)
        if change == "misspelled":
            kwargs[name + "_"] = value
    kwargs["is_training"] = data.draw(st.sampled_from([True, True, False, None]))
    if data.draw(st.integers(0, 9)) == 0:
        kwargs["greedy"] = True
    return agent_id, kwargs


VALID = dict(
    reward=1.0,
    n_successful=1,
    n_failed=0,
    delta_time=1.0,
    context=np.ones(3),
    env_state=np.full(3, 0.5),
    terminal=False,
    truncated=False,
    episode_start=False,
)


def check_sample(rl, before, agent_id, ok):
    stack, steps, n, config = snapshot(rl)
    assert config == before[3] and n == before[2]
    if not ok:
        chex.assert_trees_all_equal(stack, before[0])
        np.testing.assert_array_equal(steps, before[1])
        return
    ids = np.atleast_1d(np.asarray(agent_id))
    others = np.setdiff1d(np.arange(n), ids)
    assert_rows_equal(stack, before[0], others)
    np.testing.assert_array_equal(steps[others], before[1][others])
    np.testing.assert_array_equal(steps[ids], before[1][ids] + 1)


def check_init(rl, before, ok):
    stack, steps, n, _ = snapshot(rl)
    if not ok:
        assert n == before[2]
        if n:
            chex.assert_trees_all_equal(stack, before[0])
        return
    assert n == before[2] + 1 and steps[-1] == 0
    if before[2]:
        assert_rows_equal(stack, before[0], np.arange(before[2]))


SEEDS = st.one_of(
    st.integers(-(2**70), 2**70), st.sampled_from([1.5, "7", None, True, np.int64(3)])
)
CONFIGS = st.sampled_from(
    [
        ("agent", EGreedy, {"e": 0.1}),
        ("agent", UCB, {}),
        ("agent", UCB, {"c": -1.0}),
        ("agent", UCB, {"c": 1.0}),
        ("agent", EGreedy, {"eps": 0.1}),
        ("agent", int, {}),
        ("ext", BasicMab, {"n_arms": 0}),
        ("ext", BasicMab, {"n_arms": 4}),
        ("ext", BasicMab, {"arms": 2}),
        ("ext", dict, {}),
    ]
)


def reconfigure(data, record):
    """A configuration change on a facade without instances: all or nothing."""
    rl = RLib(
        agent_type=EGreedy, agent_params={"e": 0.2}, ext_type=BasicMab, ext_params={"n_arms": 3}
    )
    for _ in range(3):
        what, kind, params = data.draw(CONFIGS, label="configuration")
        before = snapshot(rl)[3]
        ok, _ = call(record, rl.set_agent if what == "agent" else rl.set_ext, kind, params)
        if not ok:
            assert snapshot(rl)[3] == before
    assert rl.agent.n_arms == rl._ext.n


RECORDS = {family: {"examples": 0, "accepted": 0, "refused": 0} for family in FAMILIES}


def run_example(family, data):
    record = RECORDS[family]
    record["examples"] += 1
    rl = facade(family)
    mine = []  # the instances this example created: what it draws depends on nothing else
    for _ in range(data.draw(st.integers(1, 3), label="instances")):
        before = snapshot(rl)
        ok, instance = call(record, rl.init, data.draw(SEEDS, label="seed"))
        check_init(rl, before, ok)
        mine += [instance] if ok else []
    if family == "EGreedy+BasicMab":
        reconfigure(data, record)
    for _ in range(CALLS if mine else 0):
        agent_id, kwargs = draw_sample_call(data, family, mine)
        before = snapshot(rl)
        ok, _ = call(record, rl.sample, agent_id=agent_id, **kwargs)
        check_sample(rl, before, agent_id, ok)
        assert_finite(rl)
    print(f"{family}: {record}")


def _settings(examples):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.mark.slow
@pytest.mark.parametrize("family", [family for family in FAMILIES if family != "DQN"])
@_settings(EXAMPLES)
@given(data=st.data())
def test_bandit_facade_survives_random_calls(family, data):
    run_example(family, data)


@pytest.mark.slow
@_settings(max(1, EXAMPLES // 2))  # each new set of names or batch size compiles a DQN step: slow
@given(data=st.data())
def test_deep_facade_survives_random_calls(data):
    run_example("DQN", data)
