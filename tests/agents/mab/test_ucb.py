"""UCB: discounted sums against hand-worked numbers, the index formula, learning, tracking a switch."""

import jax
import numpy as np
import pytest

from agentax.agents.mab import UCB
from agentax.envs import BanditProblem
from tests.agents.mab.helpers import (
    FOUR_ARMS,
    drive_facade,
    optimal_share,
    run_seeds,
    sample_many,
    updated,
)


def test_discounted_sums_and_counts():
    state = updated(UCB(3, c=1.0, gamma=0.5), [(0, 1.0), (1, 2), (0, 0.0)])
    # 1st (arm 0, r = 1): R = [1, 0, 0],                          N = [1, 0, 0]
    # 2nd (arm 1, r = 2): R = 0.5 * [1, 0, 0] + [0, 2, 0] = [0.5, 2, 0], N = [0.5, 1, 0]
    # 3rd (arm 0, r = 0): R = 0.5 * [0.5, 2, 0] = [0.25, 1, 0],    N = 0.5 * [0.5, 1, 0] + [1, 0, 0] = [1.25, 0.5, 0]
    np.testing.assert_allclose(state.R, [0.25, 1.0, 0.0])
    np.testing.assert_allclose(state.N, [1.25, 0.5, 0.0])


def test_without_discount_sums_and_counts_are_plain():
    state = updated(UCB(2, c=1.0), [(0, 1.0), (0, 0.5), (1, 3.0), (0, 1.5)])
    np.testing.assert_allclose(state.R, [3.0, 3.0])  # 1 + 0.5 + 1.5 and 3
    np.testing.assert_allclose(state.N, [3.0, 1.0])


def test_untried_arms_come_first_with_ties_broken_at_random():
    agent = UCB(4, c=0.0)
    state = updated(agent, [(0, 5.0), (1, 5.0)])  # arms 2 and 3 never tried
    counts = np.bincount(sample_many(agent, state), minlength=4) / 4000
    assert counts[0] == counts[1] == 0
    assert abs(counts[2] - 0.5) < 0.04  # std of a share: sqrt(0.25 / 4000) = 0.008
    initial = np.bincount(sample_many(agent, agent.init(jax.random.PRNGKey(0))), minlength=4) / 4000
    np.testing.assert_allclose(initial, 0.25, atol=0.03)  # nothing tried: uniform


@pytest.mark.parametrize(("c", "best"), [(0.0, 0), (0.39, 0), (0.41, 1), (1.0, 1)])
def test_index_formula_decides_where_hand_computed(c, best):
    # Q = [3/3, 0.8/1] = [1, 0.8], N = [3, 1], ln(3 + 1) = 1.386294:
    #   index 0 = 1   + c sqrt(1.386294 / 3) = 1   + 0.679778 c
    #   index 1 = 0.8 + c sqrt(1.386294 / 1) = 0.8 + 1.177410 c
    # arm 1 overtakes arm 0 at c = 0.2 / (1.177410 - 0.679778) = 0.401903.
    agent = UCB(2, c=c)
    state = updated(agent, [(0, 1.0), (0, 1.0), (0, 1.0), (1, 0.8)])
    assert int(agent.sample(state, jax.random.PRNGKey(1))) == best


@pytest.mark.parametrize(("gamma", "c", "best"), [(0.5, 1.0, 1), (0.5, 0.2, 2), (1.0, 1.0, 2)])
def test_discounted_index_where_hand_computed(gamma, c, best):
    # Updates (arm 0, 1), (arm 1, 0), (arm 0, 0), (arm 2, 0.5). With gamma = 0.5:
    #   R = [1, 0, 0] -> [0.5, 0, 0] -> [0.25, 0, 0] -> [0.125, 0, 0.5]
    #   N = [1, 0, 0] -> [0.5, 1, 0] -> [1.25, 0.5, 0] -> [0.625, 0.25, 1], ln(1.875) = 0.628609
    #   Q = [0.2, 0, 0.5], sqrt(0.628609 / N) = [1.002883, 1.585697, 0.792848]
    #   c = 1:   [1.202883, 1.585697, 1.292848] -> arm 1 (pulled long ago: small N, big bonus)
    #   c = 0.2: [0.400577, 0.317139, 0.658570] -> arm 2
    # With gamma = 1: R = [1, 0, 0.5], N = [2, 1, 1], ln 4 = 1.386294, Q = [0.5, 0, 0.5],
    #   c = 1: [0.5 + 0.832555, 0 + 1.177410, 0.5 + 1.177410] = [1.332555, 1.177410, 1.677410] -> arm 2
    agent = UCB(3, c=c, gamma=gamma)
    state = updated(agent, [(0, 1.0), (1, 0.0), (0, 0.0), (2, 0.5)])
    assert int(agent.sample(state, jax.random.PRNGKey(1))) == best


def test_finds_the_best_arm():
    # With c = 1 a suboptimal arm 0.2 below the best is pulled about ln(t) / 0.2^2 times by step t;
    # from step 1500 to 2000 that adds ln(2000 / 1500) / 0.04 = 7 pulls for each of the 3 arms,
    # about 21 of 500 steps: a share near 0.96. 0.9 leaves room for noise.
    share = optimal_share(run_seeds(UCB(4, c=1.0), FOUR_ARMS, 2000), 1500)
    assert share.min() > 0.9, share


def test_discounting_follows_a_switch():
    # Arm 0 is best (0.9) for 2000 steps, then arm 2 (0.7) while arm 0 falls to 0.3. Plain UCB has
    # ~1800 pulls of arm 0 averaging 0.9 and needs k > 900 pulls at 0.3 before its average drops
    # below 0.7 ((1620 + 0.3 k) / (1800 + k) < 0.7): it keeps pulling arm 0 most of the last 1000
    # steps. Discounted UCB with gamma = 0.99 remembers about 1 / (1 - gamma) = 100 pulls, so it
    # forgets the old means within a few hundred steps.
    problem = BanditProblem.switching([[0.9, 0.5, 0.1], [0.3, 0.5, 0.7]], [0, 2000])
    plain = run_seeds(UCB(3, c=0.5), problem, 3000)
    discounted = run_seeds(UCB(3, c=0.5, gamma=0.99), problem, 3000)
    assert optimal_share(discounted, 1000, 2000).min() > 0.8  # it still exploits a stationary phase
    after_plain, after_discounted = optimal_share(plain, 2000), optimal_share(discounted, 2000)
    assert after_plain.mean() < 0.5, after_plain
    assert after_discounted.mean() > 0.7, after_discounted
    assert after_discounted.mean() - after_plain.mean() > 0.4


def test_through_the_facade():
    actions = drive_facade(UCB, {"c": 0.5}, [0.2, 0.5, 0.9], 400)
    assert np.mean(actions[-200:] == 2) > 0.85


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("n_arms", dict(n_arms=-1, c=1.0)),
        ("c", dict(n_arms=2, c=-0.1)),
        ("c", dict(n_arms=2, c=float("inf"))),
        ("c", dict(n_arms=2, c=float("nan"))),
        ("gamma", dict(n_arms=2, c=1.0, gamma=0.0)),
        ("gamma", dict(n_arms=2, c=1.0, gamma=1.01)),
    ],
)
def test_bad_hyperparameters_are_named(name, kwargs):
    with pytest.raises(ValueError, match=name):
        UCB(**kwargs)
