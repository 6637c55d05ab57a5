"""Schedulers: round robin cycles exactly, random picks uniformly and independently."""

import chex
import jax
import numpy as np
import pytest

from agentax import RLib
from agentax.agents.mab import RandomScheduler, RoundRobinScheduler
from agentax.envs import BanditProblem
from agentax.extensions import BasicMab
from tests.agents.mab.helpers import FOUR_ARMS, KEY, drive_facade, run_seeds

THREE_ARMS = BanditProblem.stationary([0.2, 0.5, 0.8])


def test_round_robin_advances_on_update_only():
    agent = RoundRobinScheduler(3, initial_item=1)
    state = agent.init(KEY)
    keys = jax.random.split(jax.random.PRNGKey(1), 5)
    assert {int(agent.sample(state, key)) for key in keys} == {1}  # the key plays no part
    items = []
    for key in keys:
        state = agent.update(state, key)
        items.append(int(agent.sample(state, key)))
    assert items == [2, 0, 1, 2, 0]  # (1 + t) mod 3


def test_round_robin_cycles_exactly_in_a_simulation():
    actions = run_seeds(RoundRobinScheduler(3, initial_item=2), THREE_ARMS, 30, n_seeds=4).actions
    np.testing.assert_array_equal(actions, np.broadcast_to((2 + np.arange(30)) % 3, (4, 30)))


def test_random_scheduler_is_uniform_and_memoryless():
    agent = RandomScheduler(4)
    state = agent.init(KEY)
    chex.assert_trees_all_equal(agent.update(state, KEY), state)
    actions = run_seeds(agent, FOUR_ARMS, 4000).actions  # 8 runs: 32,000 picks
    shares = np.bincount(actions.ravel(), minlength=4) / actions.size
    # std of a share: sqrt(0.25 * 0.75 / 32000) = 0.0024; 0.01 is 4 std
    np.testing.assert_allclose(shares, 0.25, atol=0.01)
    # consecutive picks are independent: each of the 16 pairs has share 1/16 (std 0.0014; 0.006 is 4 std)
    pairs = (
        np.bincount((4 * actions[:, :-1] + actions[:, 1:]).ravel(), minlength=16)
        / actions[:, 1:].size
    )
    np.testing.assert_allclose(pairs, 1 / 16, atol=0.006)


def test_round_robin_through_the_facade():
    actions = drive_facade(RoundRobinScheduler, {"initial_item": 1}, [0.2, 0.5, 0.8], 7)
    np.testing.assert_array_equal(actions, [2, 0, 1, 2, 0, 1, 2])  # the first call returned 1
    rl = RLib(agent_type=RoundRobinScheduler, ext_type=BasicMab, ext_params={"n_arms": 3})
    assert [int(rl.sample(reward=1.0, is_training=False)) for _ in range(3)] == [
        0,
        0,
        0,
    ]  # no update


def test_random_scheduler_through_the_facade():
    actions = drive_facade(RandomScheduler, {}, [0.2, 0.5, 0.8, 0.1], 400)
    # each share 0.25 with std sqrt(0.25 * 0.75 / 400) = 0.022; 0.09 is 4 std
    np.testing.assert_allclose(np.bincount(actions, minlength=4) / 400, 0.25, atol=0.09)


@pytest.mark.parametrize(
    ("factory", "name", "kwargs"),
    [
        (RoundRobinScheduler, "n_arms", dict(n_arms=0)),
        (RoundRobinScheduler, "initial_item", dict(n_arms=3, initial_item=-1)),
        (RoundRobinScheduler, "initial_item", dict(n_arms=3, initial_item=3)),
        (RoundRobinScheduler, "initial_item", dict(n_arms=3, initial_item=1.5)),
        (RandomScheduler, "n_arms", dict(n_arms=0)),
        (RandomScheduler, "n_arms", dict(n_arms="3")),
    ],
)
def test_bad_hyperparameters_are_named(factory, name, kwargs):
    with pytest.raises(ValueError, match=name):
        factory(**kwargs)
