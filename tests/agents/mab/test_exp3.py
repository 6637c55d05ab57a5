"""Exp3: log-space weights against hand-worked numbers and raw weights, a million updates, learning."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.agents.mab import Exp3
from tests.agents.mab.helpers import (
    FOUR_ARMS,
    drive_facade,
    optimal_share,
    run_seeds,
    sample_many,
    updated,
)


def policy(state, gamma):
    """The documented Exp3 probabilities, read back from the state."""
    weights = np.exp(np.asarray(state.log_weights, np.float64))
    return (1 - gamma) * weights + gamma / weights.size


def test_updates_where_hand_computed():
    agent = Exp3(2, gamma=0.5, min_reward=0.0, max_reward=2.0)
    # Start: w = [1, 1], p = 0.5 * [0.5, 0.5] + 0.5 / 2 = [0.5, 0.5].
    np.testing.assert_allclose(policy(agent.init(jax.random.PRNGKey(0)), 0.5), [0.5, 0.5])
    # (arm 0, r = 2): x = 2 / 2 = 1, w_0 *= exp(0.5 * 1 / (2 * 0.5)) = e^0.5 = 1.648721;
    #   normalised w = [1.648721, 1] / 2.648721 = [0.622459, 0.377541], log = [-0.474077, -0.974077],
    #   p = 0.5 w + 0.25 = [0.561230, 0.438770]
    state = updated(agent, [(0, 2.0)])
    np.testing.assert_allclose(state.log_weights, [-0.474077, -0.974077], rtol=1e-5)
    np.testing.assert_allclose(policy(state, 0.5), [0.561230, 0.438770], rtol=1e-5)
    # (arm 1, r = 1): x = 0.5, w_1 *= exp(0.5 * 0.5 / (2 * 0.438770)) = e^0.284887 = 1.329612;
    #   w = [1.648721, 1.329612] / 2.978333 = [0.553572, 0.446428], p = [0.526786, 0.473214]
    steps = [(0, 2.0), (1, 1)]
    np.testing.assert_allclose(policy(updated(agent, steps), 0.5), [0.526786, 0.473214], rtol=1e-5)
    # (arm 1, r = 5): clipped to x = 1, w_1 *= exp(0.5 / (2 * 0.473214)) = e^0.528302:
    #   w = [1.648721, 2.255088] / 3.903809 = [0.422336, 0.577664], p = [0.461168, 0.538832]
    steps.append((1, 5.0))
    np.testing.assert_allclose(policy(updated(agent, steps), 0.5), [0.461168, 0.538832], rtol=1e-5)
    # (arm 0, r = -3): clipped to x = 0, w_0 *= e^0: nothing changes
    np.testing.assert_allclose(
        updated(agent, [*steps, (0, -3.0)]).log_weights, updated(agent, steps).log_weights
    )


def test_log_space_matches_raw_weights():
    # Exp3 written directly on raw weights in float64 (fine for a few hundred steps).
    gamma, n_arms, low, high = 0.2, 4, -1.0, 3.0
    rng = np.random.default_rng(0)
    steps = [(int(rng.integers(n_arms)), float(rng.uniform(low, high))) for _ in range(200)]
    weights = np.ones(n_arms)
    for action, reward in steps:
        p = (1 - gamma) * weights / weights.sum() + gamma / n_arms
        weights[action] *= math.exp(gamma * (reward - low) / (high - low) / (n_arms * p[action]))
    expected = (1 - gamma) * weights / weights.sum() + gamma / n_arms
    state = updated(Exp3(n_arms, gamma, low, high), steps)
    np.testing.assert_allclose(policy(state, gamma), expected, rtol=1e-4)


def test_samples_follow_the_policy():
    agent = Exp3(2, gamma=0.5, min_reward=0.0, max_reward=2.0)
    state = updated(agent, [(0, 2.0), (1, 1), (1, 5.0)])  # p = [0.461168, 0.538832] above
    counts = np.bincount(sample_many(agent, state), minlength=2) / 4000
    np.testing.assert_allclose(counts, [0.461168, 0.538832], atol=0.03)  # std of a share: 0.008


def test_a_million_updates_stay_finite():
    # The agent plays its own picks; arm 0 always pays max_reward, the others min_reward. The best
    # arm's raw weight grows by about gamma / K per update, so raw weights would pass float32's
    # largest value (e^88.7) within a few thousand updates.
    gamma, n_arms, n_updates = 0.1, 3, 1_000_000
    agent = Exp3(n_arms, gamma, min_reward=-1.0, max_reward=1.0)

    def step(_, carry):
        state, key = carry
        key, sample_key = jax.random.split(key)
        action = agent.sample(state, sample_key)
        return agent.update(
            state, key, action=action, reward=jnp.where(action == 0, 1.0, -1.0)
        ), key

    run = jax.jit(lambda key: jax.lax.fori_loop(0, n_updates, step, (agent.init(key), key))[0])
    state = run(jax.random.PRNGKey(0))
    log_weights = np.asarray(state.log_weights, np.float64)
    assert np.all(np.isfinite(log_weights)), log_weights
    assert abs(np.logaddexp.reduce(log_weights)) < 1e-5  # still normalised
    # The unnormalised best weight would be e^(gap) times another arm's (>= its start 1): overflow.
    assert log_weights[0] - log_weights[1:].max() > 89 + math.log(n_arms)
    p = policy(state, gamma)
    assert np.all(p >= gamma / n_arms * (1 - 1e-6)) and abs(p.sum() - 1) < 1e-6, p
    np.testing.assert_allclose(p[0], 1 - gamma + gamma / n_arms, rtol=1e-6)  # converged on arm 0


def test_finds_the_best_arm():
    # The log-weight gap between two arms grows in expectation by gamma * (mean gap) / K per step,
    # here 0.1 * 0.2 / 4 = 0.005: by step 1500 the best arm weighs e^7.5 ~ 1800 times the next, so
    # it is picked with probability near 1 - 0.1 + 0.1 / 4 = 0.925 (std of a 500-step share: 0.012).
    share = optimal_share(
        run_seeds(Exp3(4, gamma=0.1, min_reward=0.0, max_reward=1.0), FOUR_ARMS, 2000), 1500
    )
    assert share.min() > 0.85, share


def test_through_the_facade():
    # Gap growth 0.1 * 0.4 / 3 = 0.013 per step: the best arm leads by e^5 after ~400 steps and is
    # then picked with probability about 0.9 (at most 1 - 0.1 + 0.1 / 3 = 0.933).
    actions = drive_facade(
        Exp3, {"gamma": 0.1, "min_reward": 0.0, "max_reward": 1.0}, [0.2, 0.5, 0.9], 600
    )
    assert np.mean(actions[-200:] == 2) > 0.75


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("n_arms", dict(n_arms=0, gamma=0.1, min_reward=0.0, max_reward=1.0)),
        ("gamma", dict(n_arms=2, gamma=0.0, min_reward=0.0, max_reward=1.0)),
        ("gamma", dict(n_arms=2, gamma=1.5, min_reward=0.0, max_reward=1.0)),
        ("min_reward", dict(n_arms=2, gamma=0.1, min_reward=float("-inf"), max_reward=1.0)),
        ("min_reward", dict(n_arms=2, gamma=0.1, min_reward=float("nan"), max_reward=1.0)),
        ("max_reward", dict(n_arms=2, gamma=0.1, min_reward=1.0, max_reward=1.0)),
        ("max_reward", dict(n_arms=2, gamma=0.1, min_reward=1.0, max_reward=0.0)),
        ("max_reward", dict(n_arms=2, gamma=0.1, min_reward=0.0, max_reward=float("inf"))),
    ],
)
def test_bad_hyperparameters_are_named(name, kwargs):
    with pytest.raises(ValueError, match=name):
        Exp3(**kwargs)
