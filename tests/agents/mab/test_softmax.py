"""Softmax (gradient bandit): preferences and baseline against hand-worked numbers, sampling, learning."""

import jax
import numpy as np
import pytest

from agentax.agents.mab import Softmax
from tests.agents.mab.helpers import (
    FOUR_ARMS,
    drive_facade,
    optimal_share,
    run_seeds,
    sample_many,
    updated,
)


def test_first_reward_is_the_baseline_then_the_average():
    agent = Softmax(3, lr=0.5)
    # 1st: baseline = R = 2, advantage 0: H stays 0; baseline 2 + (1/1)(2 - 2) = 2
    state = updated(agent, [(0, 2.0)])
    np.testing.assert_allclose(state.H, [0.0, 0.0, 0.0])
    np.testing.assert_allclose(state.r, 2.0)
    # 2nd: pi uniform (1/3 each), advantage 5 - 2 = 3:
    #   H = 0 + 0.5 * 3 * ([0, 1, 0] - 1/3) = [-0.5, 1.0, -0.5]; baseline 2 + (1/2)(5 - 2) = 3.5
    state = updated(agent, [(0, 2.0), (1, 5)])
    np.testing.assert_allclose(state.H, [-0.5, 1.0, -0.5], rtol=1e-6)
    np.testing.assert_allclose(state.r, 3.5)
    # 3rd: pi = softmax([-0.5, 1, -0.5]) = [e^-.5, e^1, e^-.5] / 3.931343 = [0.154281, 0.691438, 0.154281],
    #   advantage 0.5 - 3.5 = -3: H += 0.5 * (-3) * ([0, 0, 1] - pi)
    #   = [-0.5 + 0.231421, 1 + 1.037158, -0.5 - 1.268579] = [-0.268579, 2.037158, -1.768579];
    #   baseline 3.5 + (1/3)(0.5 - 3.5) = 2.5, the average of 2, 5 and 0.5
    state = updated(agent, [(0, 2.0), (1, 5), (2, 0.5)])
    np.testing.assert_allclose(state.H, [-0.268579, 2.037158, -1.768579], rtol=1e-5)
    np.testing.assert_allclose(state.r, 2.5, rtol=1e-6)
    np.testing.assert_array_equal(state.n, 3)


def test_recency_weighted_baseline_multiplier_and_temperature():
    agent = Softmax(3, lr=0.5, alpha=0.25, tau=2.0, multiplier=2.0)
    # 1st: R = 2 * 1 = 2 is the baseline: H stays 0; baseline 2 + 0.25 * 0 = 2
    # 2nd: R = 2 * 3 = 6, advantage 4, pi uniform: H = 0.5 * 4 * ([1, 0, 0] - 1/3) = [4/3, -2/3, -2/3];
    #   baseline 2 + 0.25 * 4 = 3
    state = updated(agent, [(1, 1.0), (0, 3.0)])
    np.testing.assert_allclose(state.H, [4 / 3, -2 / 3, -2 / 3], rtol=1e-6)
    np.testing.assert_allclose(state.r, 3.0)
    # 3rd: R = 0, advantage -3, pi = softmax(H / 2) = [e^(2/3), e^(-1/3), e^(-1/3)] / 3.380797
    #   = [0.576117, 0.211942, 0.211942]; H += 0.5 * (-3) * ([1, 0, 0] - pi)
    #   = [4/3 - 0.635825, -2/3 + 0.317912, -2/3 + 0.317912] = [0.697509, -0.348754, -0.348754];
    #   baseline 3 + 0.25 * (0 - 3) = 2.25
    state = updated(agent, [(1, 1.0), (0, 3.0), (0, 0.0)])
    np.testing.assert_allclose(state.H, [0.697509, -0.348754, -0.348754], rtol=1e-5)
    np.testing.assert_allclose(state.r, 2.25)


def test_samples_follow_the_softmax_of_preferences_over_temperature():
    agent = Softmax(3, lr=0.5, tau=2.0)
    state = updated(
        agent, [(1, 1.0), (0, 3.0)]
    )  # H = 0.5 * 2 * ([1, 0, 0] - 1/3) = [2/3, -1/3, -1/3]
    # pi = softmax(H / 2) = [e^(1/3), e^(-1/6), e^(-1/6)] / 3.088 = [0.4519, 0.2741, 0.2741]
    counts = np.bincount(sample_many(agent, state), minlength=3) / 4000
    np.testing.assert_allclose(
        counts, [0.4519, 0.2741, 0.2741], atol=0.03
    )  # std of a share <= 0.008


def test_finds_the_best_arm():
    # The policy has no exploration floor: once the best arm's preference leads, pi(best) -> 1.
    # Over the last 500 of 2000 steps 0.9 leaves room for a policy still converging on a slow seed.
    share = optimal_share(run_seeds(Softmax(4, lr=0.1), FOUR_ARMS, 2000), 1500)
    assert share.min() > 0.9, share


def test_through_the_facade():
    actions = drive_facade(Softmax, {"lr": 0.5}, [0.2, 0.5, 0.9], 400)
    assert np.mean(actions[-200:] == 2) > 0.85


def test_one_arm_is_always_picked():
    agent = Softmax(1, lr=1.0)
    state = updated(agent, [(0, 1.0), (0, 3.0)])
    np.testing.assert_allclose(state.H, [0.0])  # 1 - pi(0) = 0: nothing to prefer
    assert int(agent.sample(state, jax.random.PRNGKey(3))) == 0


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("n_arms", dict(n_arms=0, lr=0.1)),
        ("lr", dict(n_arms=2, lr=0.0)),
        ("lr", dict(n_arms=2, lr=float("inf"))),
        ("alpha", dict(n_arms=2, lr=0.1, alpha=1.5)),
        ("alpha", dict(n_arms=2, lr=0.1, alpha=-0.5)),
        ("tau", dict(n_arms=2, lr=0.1, tau=0.0)),
        ("multiplier", dict(n_arms=2, lr=0.1, multiplier=-1.0)),
        ("multiplier", dict(n_arms=2, lr=0.1, multiplier=None)),
    ],
)
def test_bad_hyperparameters_are_named(name, kwargs):
    with pytest.raises(ValueError, match=name):
        Softmax(**kwargs)
