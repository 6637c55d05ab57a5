"""KL-UCB, SW-UCB and the change detectors against hand-worked numbers; their errors; the facade."""

import jax
import numpy as np
import pytest
from scipy.optimize import brentq

from agentax.agents.mab import (
    CUSUM,
    CUSUMUCB,
    GLR,
    KLUCB,
    SWUCB,
    UCB,
    GLRklUCB,
    Restarting,
    ThompsonSampling,
)
from agentax.agents.mab._kl import kl_bernoulli, kl_upper_bound
from agentax.agents.mab.kl_ucb import klucb_indices
from agentax.errors import UnsupportedAgentError
from tests.agents.mab.helpers import KEY, drive_facade, updated


def _kl(p, q):
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def test_kl_bernoulli_matches_the_formula():
    # kl(0.5, 0.75) = 0.5 ln(0.5 / 0.75) + 0.5 ln(0.5 / 0.25) = 0.5 (-0.405465 + 0.693147) = 0.143841
    np.testing.assert_allclose(kl_bernoulli(0.5, 0.75), 0.143841, rtol=1e-5)
    np.testing.assert_allclose(kl_bernoulli(0.3, 0.3), 0.0, atol=1e-7)


@pytest.mark.parametrize(("mean", "level"), [(0.2, 0.1), (0.5, 0.01), (0.9, 0.3), (0.0, 2.0)])
def test_kl_upper_bound_solves_the_equation(mean, level):
    # The root of kl(mean, q) = level on [mean, 1), found by scipy to 1e-12.
    exact = brentq(lambda q: _kl(max(mean, 1e-12), q) - level, mean + 1e-12, 1 - 1e-12)
    bound = float(kl_upper_bound(np.float32(mean), np.float32(level), 20))
    assert exact <= bound + 1e-6 and bound - exact < 2.0**-20 + 1e-6


def test_klucb_index_hand_computed():
    agent = KLUCB(3)
    state = updated(agent, [(0, 1.0), (0, 0.0), (1, 1.0), (2, 0.0)])
    np.testing.assert_allclose(state.R, [1.0, 1.0, 0.0])
    np.testing.assert_allclose(state.N, [2.0, 1.0, 1.0])
    # t = 4, level of arm a = ln 4 / N_a.
    # arm 0: mean 1/2, kl(1/2, q) = -ln(4 q (1 - q)) / 2 = ln 4 / 2  <=>  q (1 - q) = 1/16
    #        q = (1 + sqrt(3/4)) / 2 = 0.9330127
    # arm 1: mean 1, the bound is 1.
    # arm 2: mean 0, kl(0, q) = -ln(1 - q) = ln 4  <=>  q = 0.75
    indices = klucb_indices(state.R, state.N, 0.0, 20)
    np.testing.assert_allclose(indices, [0.9330127, 1.0, 0.75], atol=2e-6)
    assert int(agent.sample(state, KEY)) == 1


def test_klucb_log_log_term():
    # c = 3, t = 20: level = ln 20 + 3 ln ln 20 = 2.995732 + 3 * 1.097189 = 6.287300; N = 10, mean 0.5.
    R, N = np.array([5.0, 5.0], np.float32), np.array([10.0, 10.0], np.float32)
    exact = brentq(lambda q: _kl(0.5, q) - 0.6287300, 0.5, 1 - 1e-12)
    np.testing.assert_allclose(klucb_indices(R, N, 3.0, 30), [exact, exact], atol=1e-6)


def test_klucb_tries_every_arm_first():
    agent = KLUCB(3)
    state = updated(agent, [(0, 1.0), (2, 1.0)])
    assert int(agent.sample(state, KEY)) == 1


def test_sliding_window_forgets_the_oldest_step():
    agent = SWUCB(3, window=3, c=1.0)
    state = updated(agent, [(0, 1.0), (1, 0.0), (0, 0.5), (2, 1.0)])
    # The 4th step overwrote the 1st: the window holds (1, 0), (0, 0.5), (2, 1).
    np.testing.assert_array_equal(state.actions, [2, 1, 0])
    np.testing.assert_allclose(state.rewards, [1.0, 0.0, 0.5])
    np.testing.assert_allclose(state.R, [0.5, 0.0, 1.0])
    np.testing.assert_allclose(state.N, [1.0, 1.0, 1.0])
    assert int(state.position) == 1


@pytest.mark.parametrize(("c", "best"), [(0.0, 0), (1.2, 0), (1.4, 1)])
def test_sliding_window_index_hand_computed(c, best):
    # Window 3 after (0, 1), (0, 1), (1, 0.6), (0, 1): the first step left, so R = [2, 0.6],
    # N = [2, 1], n = 3, ln 3 = 1.098612:
    #   index 0 = 1   + c sqrt(1.098612 / 2) = 1   + 0.741153 c
    #   index 1 = 0.6 + c sqrt(1.098612 / 1) = 0.6 + 1.048147 c
    # arm 1 overtakes at c = 0.4 / 0.306994 = 1.302958.
    agent = SWUCB(2, window=3, c=c)
    state = updated(agent, [(0, 1.0), (0, 1.0), (1, 0.6), (0, 1.0)])
    np.testing.assert_allclose(state.R, [2.0, 0.6])
    np.testing.assert_allclose(state.N, [2.0, 1.0])
    assert int(agent.sample(state, KEY)) == best


def _feed(detector, steps, n_arms=2):
    """The detector state and the alarms after ``(arm, reward)`` steps."""
    state, alarms = detector.init(n_arms), []
    for arm, reward in steps:
        state, alarm = detector.update(state, np.int32(arm), np.float32(reward))
        alarms.append(bool(alarm))
    return state, alarms


def test_cusum_statistics_hand_computed():
    # m = 2, epsilon = 0.1, h = 0.5. Arm 0 gets 1, 0 (reference mean 0.5), then 1, 1:
    #   3rd: g+ = max(0, 0 + 1 - 0.5 - 0.1) = 0.4, g- = max(0, 0 + 0.5 - 1 - 0.1) = 0
    #   4th: g+ = 0.4 + 0.4 = 0.8 > h: alarm.  Arm 1's one reward only enters its reference sum.
    detector = CUSUM(h=0.5, epsilon=0.1, m=2)
    state, alarms = _feed(detector, [(0, 1.0), (1, 0.3), (0, 0.0), (0, 1.0)])
    np.testing.assert_array_equal(state.count, [3, 1])
    np.testing.assert_allclose(state.reference_sum, [1.0, 0.3])
    np.testing.assert_allclose(state.g_up, [0.4, 0.0], rtol=1e-6)
    np.testing.assert_allclose(state.g_down, [0.0, 0.0])
    state, alarm = detector.update(state, np.int32(0), np.float32(1.0))
    np.testing.assert_allclose(state.g_up, [0.8, 0.0], rtol=1e-6)
    assert bool(alarm) and alarms == [False, False, False, False]
    # A drop: after the reference 1, 1 (mean 1), rewards 0.5 give g- = 0.4, 0.8: alarm at the 2nd.
    _, alarms = _feed(detector, [(1, 1.0), (1, 1.0), (1, 0.5), (1, 0.5)])
    assert alarms == [False, False, False, True]
    reset = detector.reset(state, np.array([True, False]))
    np.testing.assert_array_equal(reset.count, [0, 1])
    np.testing.assert_allclose(reset.g_up, [0.0, 0.0])


def test_glr_statistic_hand_computed():
    # Arm 0 gets 0, 0, 0, 1, 1, 1 (n = 6, mean 1/2). The best split is after the 3rd reward:
    #   3 kl(0, 1/2) + 3 kl(1, 1/2) = 6 ln 2 = 4.158883;  after the 2nd: 2 ln 2 + 4 kl(3/4, 1/2)
    #   = 1.386294 + 4 (0.75 ln 1.5 + 0.25 ln 0.5) = 1.909533.
    # A history of 4 (the ring wrapped around) still holds splits with 1 to 4 rewards after.
    detector = GLR(delta=0.5, history=4)
    steps = [(0, r) for r in (0.0, 0.0, 0.0, 1.0, 1.0, 1.0)]
    state, alarms = _feed(detector, steps)
    np.testing.assert_allclose(detector.statistic(state, 0), 6 * np.log(2), rtol=1e-5)
    np.testing.assert_allclose(
        state.recent[0], [1.0, 1.0, 0.0, 1.0]
    )  # slots 0, 1 rewritten by rewards 5, 6
    # beta(6, delta) = ln(3 * 6^1.5 / delta) = 1.098612 + 2.687639 - ln delta = 3.786251 - ln delta:
    # 4.479398 for delta = 0.5 (no alarm), 3.891612 for delta = 0.9 (alarm at the 6th reward). At
    # the 5th (0, 0, 0, 1, 1, mean 0.4) the best split gives 3 ln(1/0.6) + 2 ln(1/0.4) = 3.365058,
    # below beta(5, 0.9) = 1.098612 + 2.414157 + 0.105361 = 3.618130.
    assert not any(alarms)
    np.testing.assert_allclose(detector.threshold(6.0), 3.786251 + np.log(2), rtol=1e-6)
    _, alarms = _feed(GLR(delta=0.9, history=4), steps)
    assert alarms == [False] * 5 + [True]


def test_restarting_restarts_the_whole_agent_on_an_alarm():
    agent = Restarting(UCB(2, c=1.0), CUSUM(h=0.5, epsilon=0.1, m=2))
    state = agent.init(KEY)
    for arm, reward in [(1, 0.3), (0, 1.0), (0, 0.0), (0, 1.0)]:
        state = agent.update(state, KEY, action=arm, reward=reward)
    np.testing.assert_allclose(state.agent_state.N, [3.0, 1.0])
    assert int(state.restarts) == 0
    state = agent.update(state, KEY, action=0, reward=1.0)  # the CUSUM alarm of the test above
    np.testing.assert_allclose(state.agent_state.N, [0.0, 0.0])  # UCB's fresh state
    np.testing.assert_array_equal(state.detector.count, [0, 0])
    assert int(state.restarts) == 1


def test_restarting_explores_with_probability_alpha():
    agent = Restarting(UCB(4, c=0.0), GLR(delta=0.1), alpha=0.2)
    state = agent.init(KEY)
    for arm, reward in [(0, 1.0), (1, 0.0), (2, 0.0), (3, 0.0)]:
        state = agent.update(state, KEY, action=arm, reward=reward)
    actions = np.asarray(jax.vmap(lambda k: agent.sample(state, k))(jax.random.split(KEY, 8000)))
    share = np.bincount(actions, minlength=4) / 8000
    # Greedy UCB picks arm 0; exploration adds alpha / 4 = 0.05 to every arm (std 0.0025).
    np.testing.assert_allclose(share, [0.85, 0.05, 0.05, 0.05], atol=0.012)


def test_cusum_ucb_restarts_only_the_changed_arm():
    agent = CUSUMUCB(2, h=0.5, alpha=0.0, epsilon=0.1, m=2)
    state = updated(agent, [(1, 0.3), (0, 1.0), (0, 0.0), (0, 1.0)])
    np.testing.assert_allclose(state.R, [2.0, 0.3])
    state = agent.update(state, KEY, action=0, reward=1.0)
    np.testing.assert_allclose(state.R, [0.0, 0.3])
    np.testing.assert_allclose(state.N, [0.0, 1.0])
    assert int(state.restarts) == 1
    assert int(agent.sample(state, KEY)) == 0  # restarted, so untried: played first


def test_glr_klucb_forced_exploration_schedule():
    # K = 2, alpha = 0.5: a period of floor(2 / 0.5) = 4 steps, the first 2 forced to arms 0, 1.
    agent = GLRklUCB(2, delta=0.01, alpha=0.5)
    state = updated(agent, [(1, 1.0), (0, 0.0)] * 4)  # 8 steps: arm 1 is better
    picks = []
    for step in range(8, 16):
        picks.append(int(agent.sample(state.replace(since_restart=np.int32(step)), KEY)))
    assert picks == [0, 1, 1, 1, 0, 1, 1, 1]


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: KLUCB(2, c=-1.0), "c"),
        (lambda: KLUCB(2, n_iterations=0), "n_iterations"),
        (lambda: SWUCB(2, window=0), "window"),
        (lambda: SWUCB(2, window=5, c=float("nan")), "c"),
        (lambda: CUSUMUCB(2, h=0.0, alpha=0.1), "h"),
        (lambda: CUSUMUCB(2, h=1.0, alpha=1.5), "alpha"),
        (lambda: CUSUMUCB(2, h=1.0, alpha=0.1, epsilon=-0.1), "epsilon"),
        (lambda: CUSUMUCB(2, h=1.0, alpha=0.1, m=0), "m"),
        (lambda: GLRklUCB(2, delta=1.0, alpha=0.1), "delta"),
        (lambda: GLRklUCB(2, delta=0.1, alpha=0.1, history=1), "history"),
        (lambda: Restarting(UCB(2, c=1.0), CUSUM(1.0, 0.1, 5), alpha=-0.5), "alpha"),
    ],
)
def test_bad_hyperparameters_name_the_parameter(build, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        build()


def test_restarting_refuses_what_it_cannot_wrap():
    with pytest.raises(UnsupportedAgentError, match="learns from action and reward"):
        Restarting(ThompsonSampling(2, decay=0.0), GLR(0.1))  # learns from n_successful, n_failed
    with pytest.raises(UnsupportedAgentError, match="change detector"):
        Restarting(UCB(2, c=1.0), detector="cusum")


@pytest.mark.parametrize(
    ("agent_type", "params"),
    [
        (KLUCB, {}),
        (SWUCB, {"window": 200}),
        (CUSUMUCB, {"h": 5.0, "alpha": 0.02}),
        (GLRklUCB, {"delta": 0.01, "alpha": 0.02}),
    ],
)
def test_through_the_facade(agent_type, params):
    # Bernoulli arms 0.2 and 0.8 through RLib + BasicMab: the better arm dominates the last 200 steps.
    actions = drive_facade(agent_type, {"n_arms": 2, **params}, [0.2, 0.8], 600)
    assert (actions[-200:] == 1).mean() > 0.85
