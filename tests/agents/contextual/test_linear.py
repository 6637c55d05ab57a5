"""LinUCB and LinTS: the update worked out by hand, exploration scores, numerical accuracy, learning."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.agents.contextual import LinTS, LinUCB
from agentax.agents.contextual._linear import mean_and_width
from agentax.agents.mab import UCB, EGreedy
from agentax.envs import LinearContextualProblem
from agentax.simulate import simulate_contextual

KEY = jax.random.PRNGKey(0)


def two_updates(agent):
    """Arm 0 played twice, lam = 1: x = [1, 0], r = 2, then x = [1, 1], r = 2."""
    state = agent.init(KEY)
    state = agent.update(state, KEY, action=0, reward=2.0, action_context=jnp.array([1.0, 0.0]))
    first = state
    state = agent.update(state, KEY, action=0, reward=2.0, action_context=jnp.array([1.0, 1.0]))
    return first, state


@pytest.mark.parametrize(
    "agent",
    [LinUCB(2, 2, alpha=1.0, lam=1.0), LinTS(2, 2, v=1.0, lam=1.0)],
    ids=["LinUCB", "LinTS"],
)
def test_two_updates_by_hand(agent):
    first, state = two_updates(agent)
    # After (x=[1,0], r=2): A = I + x x^T = [[2,0],[0,1]], A^-1 = [[0.5,0],[0,1]],
    # b = 2 [1,0] = [2,0], theta = A^-1 b = [1,0].
    np.testing.assert_allclose(first.A_inv[0], [[0.5, 0.0], [0.0, 1.0]], rtol=1e-6)
    np.testing.assert_allclose(first.b[0], [2.0, 0.0])
    np.testing.assert_allclose(first.theta[0], [1.0, 0.0], rtol=1e-6)
    # After (x=[1,1], r=2): A = [[2,0],[0,1]] + [[1,1],[1,1]] = [[3,1],[1,2]], det = 6 - 1 = 5,
    # A^-1 = [[2,-1],[-1,3]] / 5 = [[0.4,-0.2],[-0.2,0.6]]; b = [2,0] + 2 [1,1] = [4,2];
    # theta = [0.4*4 - 0.2*2, -0.2*4 + 0.6*2] = [1.2, 0.4].
    np.testing.assert_allclose(state.A_inv[0], [[0.4, -0.2], [-0.2, 0.6]], rtol=1e-6)
    np.testing.assert_allclose(state.b[0], [4.0, 2.0], rtol=1e-6)
    np.testing.assert_allclose(state.theta[0], [1.2, 0.4], rtol=1e-6)
    # Arm 1 was never played: A^-1 = I / lam, b = theta = 0.
    np.testing.assert_array_equal(state.A_inv[1], np.eye(2))
    np.testing.assert_array_equal(state.b[1], [0.0, 0.0])
    np.testing.assert_array_equal(state.theta[1], [0.0, 0.0])


def test_lam_scales_the_prior():
    state = LinUCB(2, 3, lam=4.0).init(KEY)
    # A = lam I = 4 I, so A^-1 = I / 4.
    np.testing.assert_allclose(state.A_inv, np.broadcast_to(np.eye(3) / 4.0, (2, 3, 3)))


CONTEXT = jnp.array([[0.0, 1.0], [1.0, 1.0]])


def test_ucb_scores_by_hand():
    _, state = two_updates(LinUCB(2, 2))
    mean, width = mean_and_width(state, CONTEXT)
    # Arm 0: x = [0,1], mean = x.theta = 0.4, width = sqrt(x^T A^-1 x) = sqrt(0.6) = 0.7746.
    # Arm 1: x = [1,1], mean = 0, width = sqrt(x^T I x) = sqrt(2) = 1.4142.
    np.testing.assert_allclose(mean, [0.4, 0.0], rtol=1e-6)
    np.testing.assert_allclose(width, [np.sqrt(0.6), np.sqrt(2.0)], rtol=1e-6)
    # alpha = 2: scores 0.4 + 1.549 = 1.949 and 0 + 2.828 = 2.828: arm 1.
    assert LinUCB(2, 2, alpha=2.0).sample(state, KEY, context=CONTEXT) == 1
    # alpha = 0.5: scores 0.4 + 0.387 = 0.787 and 0 + 0.707 = 0.707: arm 0.
    assert LinUCB(2, 2, alpha=0.5).sample(state, KEY, context=CONTEXT) == 0


def test_ucb_breaks_ties_at_random():
    state = LinUCB(3, 2).init(KEY)
    context = jnp.ones((3, 2))  # every arm scores 0 + alpha sqrt(2)
    actions = jax.vmap(lambda k: LinUCB(3, 2).sample(state, k, context=context))(
        jax.random.split(KEY, 300)
    )
    assert set(np.asarray(actions).tolist()) == {0, 1, 2}


def test_ts_picks_each_arm_with_its_posterior_probability():
    _, state = two_updates(LinTS(2, 2))
    # Scores: arm 0 ~ N(0.4, v^2 0.6), arm 1 ~ N(0, v^2 2), independent. With v = 1,
    # P(arm 1) = P(N(0, 0.6 + 2) > 0.4) = 1 - Phi(0.4 / sqrt(2.6)) = 1 - Phi(0.2481) = 0.4020.
    agent = LinTS(2, 2, v=1.0)
    actions = jax.vmap(lambda k: agent.sample(state, k, context=CONTEXT))(
        jax.random.split(KEY, 20_000)
    )
    expected = 0.5 * (1.0 - math.erf(0.4 / math.sqrt(2.6) / math.sqrt(2.0)))
    assert abs(np.mean(actions) - expected) < 0.012  # about 3.5 standard errors (0.0035)
    # v = 0 is greedy: arm 0 (mean 0.4 > 0).
    assert LinTS(2, 2, v=0.0).sample(state, KEY, context=CONTEXT) == 0


def test_sherman_morrison_stays_accurate_over_thousands_of_updates():
    """5,000 float32 updates of one arm agree with a float64 solve of the normal equations."""
    n, d, lam = 5_000, 6, 0.5
    rng = np.random.default_rng(1)
    # Badly scaled features (standard deviations from 0.01 to 10) plus a constant bias feature:
    # A's condition number grows to about 5e5.
    scales = np.logspace(-2, 1, d - 1)
    x = np.concatenate([np.ones((n, 1)), rng.normal(size=(n, d - 1)) * scales], axis=1).astype(
        np.float32
    )
    r = (x @ rng.normal(size=d) + 0.1 * rng.normal(size=n)).astype(np.float32)
    agent = LinUCB(1, d, lam=lam)

    def step(state, xr):
        return agent.update(state, KEY, action=0, reward=xr[1], action_context=xr[0]), None

    state, _ = jax.lax.scan(step, agent.init(KEY), (jnp.asarray(x), jnp.asarray(r)))
    x64, r64 = x.astype(np.float64), r.astype(np.float64)
    A = lam * np.eye(d) + x64.T @ x64
    assert np.linalg.cond(A) > 1e5
    A_inv = np.linalg.inv(A)
    theta = np.linalg.solve(A, x64.T @ r64)
    np.testing.assert_allclose(state.A_inv[0], A_inv, rtol=1e-3, atol=1e-4 * np.abs(A_inv).max())
    np.testing.assert_allclose(state.theta[0], theta, rtol=1e-3, atol=1e-4)
    # The confidence width of fresh feature vectors, what LinUCB acts on, to 0.1 %.
    probe = np.concatenate([np.ones((20, 1)), rng.normal(size=(20, d - 1)) * scales], axis=1)
    widths = jax.vmap(lambda p: mean_and_width(state, p[None])[1][0])(
        jnp.asarray(probe, jnp.float32)
    )
    np.testing.assert_allclose(
        widths, np.sqrt(np.einsum("nd,de,ne->n", probe, A_inv, probe)), rtol=1e-3
    )
    np.testing.assert_array_equal(state.A_inv[0], state.A_inv[0].T)  # exactly symmetric


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: LinUCB(0, 2), "n_arms"),
        (lambda: LinUCB(2, 0), "n_features"),
        (lambda: LinUCB(2, 2, alpha=-1.0), "alpha"),
        (lambda: LinUCB(2, 2, lam=0.0), "lam"),
        (lambda: LinTS(2, 2, v=-0.1), "v"),
        (lambda: LinTS(2, 2, lam=float("nan")), "lam"),
    ],
)
def test_bad_hyperparameters_name_the_parameter(make, message):
    with pytest.raises(ValueError, match=message):
        make()


PROBLEM = LinearContextualProblem.random(seed=0, n_arms=5, n_features=4, noise_std=0.5)
N_STEPS, N_RUNS = 1_500, 4


def total_regret(agent):
    """Cumulative regret of ``N_RUNS`` fixed-seed runs on ``PROBLEM``."""
    keys = jax.random.split(jax.random.PRNGKey(7), N_RUNS)
    trajectory = jax.jit(jax.vmap(lambda k: simulate_contextual(agent, PROBLEM, N_STEPS, k)))(keys)
    return np.asarray(trajectory.regret).sum(axis=1), np.asarray(trajectory.optimal)


@pytest.fixture(scope="module")
def blind_regret():
    """The better context-blind bandit: UCB or epsilon-greedy, which see only action and reward."""
    return min(total_regret(UCB(5, c=1.0))[0].mean(), total_regret(EGreedy(5, e=0.1))[0].mean())


@pytest.mark.slow
@pytest.mark.parametrize(
    "agent", [LinUCB(5, 4, alpha=1.0), LinTS(5, 4, v=0.5)], ids=["LinUCB", "LinTS"]
)
def test_beats_a_context_blind_bandit(agent, blind_regret):
    regret, optimal = total_regret(agent)
    # Seen with these seeds (4 runs): LinUCB 33 to 53, LinTS 43 to 61, UCB 618 to 696, EGreedy
    # 653 to 714.
    assert blind_regret > 500
    assert regret.max() < blind_regret / 5
    assert optimal[:, -500:].mean() > 0.85  # the right arm for the context, late in the run
