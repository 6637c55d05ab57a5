"""The facade's four ways to step instances, and creating many instances in one call.

One id is stepped in place (``"one"``), every instance without indexing (``"all"``), consecutive
ids as a slice (``"range"``), any other list of ids by gather and scatter (``"some"``). All give
the same actions and states for the same instances, compile once each, and a refused step changes
no instance.
"""

import chex
import jax
import numpy as np
import pytest

from agentax import RLib
from agentax.agents.deep import DQN
from agentax.agents.mab import UCB, EGreedy
from agentax.errors import AgentaxError, NonFiniteStateError, ObservationError
from agentax.extensions import BasicMab
from agentax.testing import count_traces
from tests.agents.cases.deep import _SMALL, _TinyQ
from tests.test_robustness import assert_unchanged, refused, snapshot

N, STEPS = 4, 12


def egreedy(seeds=range(N)):
    rl = RLib(
        agent_type=EGreedy, agent_params={"e": 0.5}, ext_type=BasicMab, ext_params={"n_arms": 5}
    )
    for seed in seeds:
        rl.init(seed)
    return rl


def rewards():
    return np.random.default_rng(3).random((STEPS, N)).astype(np.float32)


def test_one_all_and_some_ids_give_the_same_actions_and_states():
    one, every, some = egreedy(), egreedy(), egreedy()
    order = np.array([2, 0, 3, 1])  # not 0..N-1: the gather-and-scatter path
    for r in rewards():
        alone = [one.sample(reward=r[i], agent_id=i) for i in range(N)]
        np.testing.assert_array_equal(every.sample(reward=r, agent_id=list(range(N))), alone)
        np.testing.assert_array_equal(
            some.sample(reward=r[order], agent_id=order), np.array(alone)[order]
        )
    for rl in (every, some):
        chex.assert_trees_all_equal(snapshot(rl), snapshot(one))


def test_the_random_stream_is_that_of_the_step_count():
    """An instance's actions depend on its seed and its steps, not on which path stepped it."""
    rl = egreedy()
    first = [rl.sample(reward=0.5, agent_id=0) for _ in range(STEPS)]
    again = egreedy()
    mixed = [
        again.sample(reward=np.full(N, 0.5, np.float32), agent_id=list(range(N)))[0]
        if s % 2
        else again.sample(reward=0.5, agent_id=0)
        for s in range(STEPS)
    ]
    assert first == mixed
    assert len(set(first)) > 1  # e = 0.5 explores


def test_a_range_of_ids_steps_as_each_instance_alone_and_refuses_as_a_whole():
    """``agent_id=range(1, 3)`` (a slice of the stack, ``"range"``) gives the actions and states
    the ``"one"`` path gives each instance, and a refused range step changes nothing."""
    ranged, alone = egreedy(), egreedy()
    for r in rewards():
        actions = ranged.sample(reward=r[1:3], agent_id=range(1, 3))
        np.testing.assert_array_equal(
            actions, [alone.sample(reward=r[i], agent_id=i) for i in (1, 2)]
        )
    chex.assert_trees_all_equal(snapshot(ranged), snapshot(alone))
    assert ranged._path(np.arange(1, 3), 2) == "range"
    refused(
        ranged,
        ObservationError,
        "reward",
        reward=np.array([0.5, np.nan], np.float32),
        agent_id=range(1, 3),
    )
    with pytest.raises(AgentaxError, match="instance"):
        ranged.sample(reward=np.zeros(2, np.float32), agent_id=range(N - 1, N + 1))


@pytest.mark.parametrize(
    "agent_id", [0, list(range(N)), [3, 1], range(1, 3)], ids=["one", "all", "some", "range"]
)
def test_each_path_compiles_once(agent_id):
    rl = egreedy()
    reward = 0.5 if agent_id == 0 else np.full(len(agent_id), 0.5, np.float32)
    for _ in range(2):  # the first step of an instance, then one with an update
        rl.sample(reward=reward, agent_id=agent_id)
    with count_traces() as traces:
        for _ in range(5):
            rl.sample(reward=reward, agent_id=agent_id)
    assert traces[0] == 0


@pytest.mark.parametrize(
    "agent_id", [0, [0, 1, 2], [2, 0], range(1, 3)], ids=["one", "all", "some", "range"]
)
def test_a_refused_step_changes_no_instance_on_every_path(agent_id):
    rl = RLib(agent_type=UCB, agent_params={"n_arms": 1, "c": 1.0}, no_ext_mode=True)
    rl.init(seed=[1, 2, 3])
    ids = np.atleast_1d(agent_id)
    rl.sample(reward=np.zeros(3, np.float32), agent_id=[0, 1, 2])
    rl.sample(reward=np.full(3, 3e38, np.float32), agent_id=[0, 1, 2])  # R = 3e38: finite
    bad = 3e38 if agent_id == 0 else np.full(len(ids), 3e38, np.float32)  # R would overflow
    refused(rl, NonFiniteStateError, "non-finite", reward=bad, agent_id=agent_id)
    before = snapshot(rl)
    rl.sample(reward=0.0 if agent_id == 0 else np.zeros(len(ids), np.float32), agent_id=agent_id)
    assert (snapshot(rl)[1][ids] == before[1][ids] + 1).all()  # and the next step goes through


def test_init_with_many_seeds_makes_each_instance_as_alone():
    seeds = [7, 0, 2**32 - 1, 2**40, -3, 10**30]
    alone = egreedy(seeds)
    many = RLib(
        agent_type=EGreedy, agent_params={"e": 0.5}, ext_type=BasicMab, ext_params={"n_arms": 5}
    )
    assert many.init(seeds[:1]) == [0]
    assert many.init(seed=np.array(seeds[1:3])) == [1, 2]
    assert many.init(seed=seeds[3:]) == [3, 4, 5]
    assert many.init(5) == 6 and many.init(seed=[]) == []
    alone.init(5)
    chex.assert_trees_all_equal(snapshot(many), snapshot(alone))
    r = np.linspace(0, 1, 7, dtype=np.float32)
    for _ in range(3):
        np.testing.assert_array_equal(
            many.sample(reward=r, agent_id=list(range(7))),
            alone.sample(reward=r, agent_id=list(range(7))),
        )


@pytest.mark.parametrize("seeds", [[1, 2.5], [1, True], ["1"]])
def test_init_with_many_seeds_refuses_a_non_integer_and_creates_none(seeds):
    rl = egreedy([0])
    with pytest.raises(AgentaxError, match="seed must be an integer"):
        rl.init(seed=seeds)
    assert rl.n_instances == 1


def test_stepping_all_after_adding_instances_one_by_one():
    """The stack has spare rows after ``init`` doubles it; stepping every instance still works."""
    rl = egreedy(range(3))  # capacity 4
    actions = rl.sample(reward=np.ones(3, np.float32), agent_id=[0, 1, 2])
    assert actions.shape == (3,) and len(jax.tree.leaves(rl._stack)[0]) == 3
    rl.init(9)
    assert rl.sample(reward=np.ones(4, np.float32), agent_id=[0, 1, 2, 3]).shape == (4,)


def dqn_instances(n=2):
    """``n`` tiny DQN instances past their first steps, with transitions in their replay buffers."""
    rl = RLib(
        agent_type=DQN,
        agent_params=dict(q_network=_TinyQ(2), obs_space_shape=3, act_space_size=2, **_SMALL),
        no_ext_mode=True,
    )
    for seed in range(n):
        rl.init(seed)
    for t in range(6):
        for i in range(n):
            rl.sample(
                env_state=np.full(3, 0.1 * t + i),
                reward=1.0,
                terminal=False,
                truncated=False,
                episode_start=False,
                agent_id=i,
            )
    return rl


def test_a_refused_deep_step_on_one_id_leaves_every_instance_and_its_replay_buffer_as_they_were():
    rl = dqn_instances()
    step = dict(
        env_state=np.full(3, 0.5), terminal=False, truncated=False, episode_start=False, agent_id=1
    )
    refused(
        rl, ObservationError, "'reward' is out of bounds", reward=float("nan"), **step
    )  # seen in the guard
    rl.sample(reward=3e38, **step)  # finite; once a batch draws it, the squared TD error overflows
    for _ in range(40):  # batches of 2 from a buffer of 4: drawn within a few steps
        before = snapshot(rl)
        try:
            rl.sample(reward=1.0, **step)
        except NonFiniteStateError:
            assert_unchanged(rl, before)
            break
    else:
        pytest.fail("no step was refused")
    rl = dqn_instances()
    before = snapshot(rl)
    rl.sample(
        reward=1.0, **step
    )  # and the next step goes through, writing instance 1's buffer only
    after = snapshot(rl)
    assert after[1].tolist() == [before[1][0], before[1][1] + 1]
    chex.assert_trees_all_equal(
        jax.tree.map(lambda x: x[0], after[0]), jax.tree.map(lambda x: x[0], before[0])
    )
    assert any(
        not np.array_equal(a[1], b[1])
        for a, b in zip(after[0].states, before[0].states, strict=True)
    )
