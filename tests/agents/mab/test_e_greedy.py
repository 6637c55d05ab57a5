"""EGreedy: update rules against hand-worked numbers, sampling, learning, the facade, validation."""

import jax
import numpy as np
import pytest

from agentax.agents.mab import EGreedy
from tests.agents.mab.helpers import (
    FOUR_ARMS,
    KEY,
    drive_facade,
    optimal_share,
    run_seeds,
    sample_many,
    updated,
)


def test_sample_average():
    state = updated(EGreedy(3, e=0.5), [(1, 2.0), (1, 5), (0, -1.0)])
    # arm 1: Q = 0 + (1/1)(2 - 0) = 2, then 2 + (1/2)(5 - 2) = 3.5
    # arm 0: Q = 0 + (1/1)(-1 - 0) = -1
    np.testing.assert_allclose(state.Q, [-1.0, 3.5, 0.0])
    np.testing.assert_array_equal(state.N, [1, 2, 0])
    np.testing.assert_allclose(state.e, 0.5)  # e_decay = 1 keeps it


def test_constant_step_size_from_an_optimistic_start():
    state = updated(EGreedy(3, e=0.1, optimistic_start=4.0, alpha=0.25), [(2, 0.0), (2, 8.0)])
    # arm 2: Q = 4 + 0.25 (0 - 4) = 3, then 3 + 0.25 (8 - 3) = 4.25; the others keep 4
    np.testing.assert_allclose(state.Q, [4.0, 4.0, 4.25])


def test_epsilon_decays_to_its_floor():
    agent = EGreedy(2, e=0.5, e_min=0.1, e_decay=0.5)
    # 0.5 -> 0.25 -> 0.125 -> max(0.0625, 0.1) = 0.1 -> max(0.05, 0.1) = 0.1
    expected = [0.25, 0.125, 0.1, 0.1]
    state = agent.init(KEY)
    for e in expected:
        state = agent.update(state, KEY, action=0, reward=1.0)
        np.testing.assert_allclose(state.e, e, rtol=1e-6)


def test_optimistic_start_tries_every_arm_first():
    # With e = 0 and Q = 10 everywhere, a pulled arm falls to its reward (1 < 10), so the greedy
    # agent moves on to an arm still at 10 until every arm has been pulled once.
    agent = EGreedy(3, e=0.0, optimistic_start=10.0)
    state, actions = agent.init(KEY), []
    for key in jax.random.split(jax.random.PRNGKey(1), 3):
        action = int(agent.sample(state, key))
        actions.append(action)
        state = agent.update(state, key, action=action, reward=1.0)
    assert sorted(actions) == [0, 1, 2]


def test_greedy_sampling_breaks_ties_at_random():
    agent = EGreedy(3, e=0.0)
    state = updated(agent, [(0, 1.0), (1, 1.0)])  # Q = [1, 1, 0]
    counts = np.bincount(sample_many(agent, state), minlength=3) / 4000
    # only the tied best arms, each about half the time (std of a share: sqrt(0.25 / 4000) = 0.008)
    assert counts[2] == 0 and abs(counts[0] - 0.5) < 0.04


def test_exploration_share():
    agent = EGreedy(4, e=0.4)
    state = updated(agent, [(3, 1.0)])  # arm 3 is the only best arm
    counts = np.bincount(sample_many(agent, state), minlength=4) / 4000
    # arm 3: 1 - e + e/4 = 0.7; each other arm e/4 = 0.1 (std of a share <= 0.008)
    np.testing.assert_allclose(counts, [0.1, 0.1, 0.1, 0.7], atol=0.03)


def test_finds_the_best_arm():
    # With e = 0.1 a learner that has found arm 3 picks it with probability 1 - 0.1 + 0.1/4 = 0.925;
    # over the last 500 of 2000 steps the share has std sqrt(0.925 * 0.075 / 500) = 0.012, so 0.85
    # is 6 std below it.
    share = optimal_share(run_seeds(EGreedy(4, e=0.1), FOUR_ARMS, 2000), 1500)
    assert share.min() > 0.85, share


def test_through_the_facade():
    actions = drive_facade(EGreedy, {"e": 0.05}, [0.2, 0.5, 0.9], 400)
    assert np.mean(actions[-200:] == 2) > 0.85


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("n_arms", dict(n_arms=0, e=0.1)),
        ("n_arms", dict(n_arms=2.5, e=0.1)),
        ("e", dict(n_arms=2, e=1.5)),
        ("e", dict(n_arms=2, e=float("nan"))),
        ("e_min", dict(n_arms=2, e=0.1, e_min=0.2)),
        ("e_decay", dict(n_arms=2, e=0.1, e_decay=1.1)),
        ("optimistic_start", dict(n_arms=2, e=0.1, optimistic_start="high")),
        ("alpha", dict(n_arms=2, e=0.1, alpha=-0.1)),
    ],
)
def test_bad_hyperparameters_are_named(name, kwargs):
    with pytest.raises(ValueError, match=name):
        EGreedy(**kwargs)
