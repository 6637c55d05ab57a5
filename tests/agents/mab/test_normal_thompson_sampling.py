"""NormalThompsonSampling and LogNormalThompsonSampling: conjugate updates by hand, the posterior
draw, the log-normal sampling convention, learning, the facade, validation."""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from agentax import RLib
from agentax.agents.mab import (
    LogNormalThompsonSampling,
    NormalThompsonSampling,
    NormalThompsonSamplingState,
)
from agentax.agents.mab._normal_gamma import posterior_draw
from agentax.envs import BanditProblem
from agentax.errors import ObservationError
from agentax.extensions import BasicMab
from tests.agents.mab.helpers import KEY, drive_facade, optimal_share, run_seeds, sample_many

PRIOR = {"alpha": 1.0, "beta": 2.0, "lam": 1.0, "mu": 0.0}


def updated(agent, rewards, action=0):
    state = agent.init(KEY)
    for reward in rewards:
        new = agent.update(state, KEY, action=action, reward=reward)
        chex.assert_trees_all_equal_shapes_and_dtypes(new, state)
        state = new
    return state


# Prior alpha = 1, beta = 2, lam = 1, mu = 0; rewards 2, -1, 4 to arm 0:
#   x = 2:  alpha 1.5, beta = 2 + 1 (2 - 0)^2 / (2 * 2) = 3,            mu = (0 + 2) / 2 = 1,        lam 2
#   x = -1: alpha 2,   beta = 3 + 2 (-1 - 1)^2 / (2 * 3) = 13/3,       mu = (2 * 1 - 1) / 3 = 1/3,  lam 3
#   x = 4:  alpha 2.5, beta = 13/3 + 3 (4 - 1/3)^2 / (2 * 4) = 225/24,  mu = (3 * 1/3 + 4) / 4 = 5/4, lam 4
# Check with the batch formulas (n = 3, mean 5/3): beta = 2 + (1/9 + 64/9 + 49/9) / 2 + 1 * 3 * (5/3)^2 / (2 * 4)
#   = 2 + 57/9 + 75/72 = 9.375 = 225/24.
EXPECTED = {"alpha": [2.5, 1.0], "beta": [225 / 24, 2.0], "lam": [4.0, 1.0], "mu": [1.25, 0.0]}


def test_conjugate_update_by_hand():
    state = updated(NormalThompsonSampling(2, **PRIOR), [2.0, -1, 4.0])
    for name, values in EXPECTED.items():
        np.testing.assert_allclose(getattr(state, name), values, rtol=1e-6, err_msg=name)


def test_lognormal_updates_with_the_log_of_the_reward():
    state = updated(LogNormalThompsonSampling(2, **PRIOR), [math.e**2, math.e**-1, math.e**4])
    assert isinstance(state, NormalThompsonSamplingState)
    for name, values in EXPECTED.items():
        np.testing.assert_allclose(getattr(state, name), values, rtol=1e-5, err_msg=name)


def test_posterior_mean_draws_follow_the_student_t_marginal():
    # Under NIG(mu, lam, alpha, beta) the mean is Student-t with 2 alpha degrees of freedom,
    # location mu and scale sqrt(beta / (alpha lam)) (Murphy 2007).
    state = NormalThompsonSamplingState(
        alpha=jnp.full(10, 2.5),
        beta=jnp.full(10, 225 / 24),
        lam=jnp.full(10, 4.0),
        mu=jnp.full(10, 1.25),
    )
    draw_means = jax.jit(
        jax.vmap(lambda k: state.mu + jnp.prod(jnp.stack(posterior_draw(state, k)), axis=0))
    )
    draws = draw_means(jax.random.split(jax.random.PRNGKey(1), 5000))
    t = stats.t(df=5.0, loc=1.25, scale=math.sqrt(225 / 24 / (2.5 * 4.0)))
    assert stats.kstest(np.asarray(draws).ravel(), t.cdf).pvalue > 1e-3


def test_lognormal_plays_the_largest_lognormal_mean_not_log_mean():
    # Arm 0: log-mean ~1.0, variance ~0.01; arm 1: log-mean ~0.5, variance ~2 (alpha = 1000 keeps
    # sigma^2 = beta / Gamma(alpha) within a few % of beta / alpha, lam = 1e6 pins the means).
    # Log-normal means: e^(1 + 0.005) = 2.73 < e^(0.5 + 1) = 4.48, so LogNormalTS plays arm 1,
    # while NormalTS, on the same state, plays the larger mean: arm 0.
    state = NormalThompsonSamplingState(
        alpha=jnp.full(2, 1000.0),
        beta=jnp.array([10.0, 2000.0]),
        lam=jnp.full(2, 1e6),
        mu=jnp.array([1.0, 0.5]),
    )
    np.testing.assert_array_equal(sample_many(LogNormalThompsonSampling(2, **PRIOR), state, 500), 1)
    np.testing.assert_array_equal(sample_many(NormalThompsonSampling(2, **PRIOR), state, 500), 0)


def test_normal_finds_the_best_arm():
    # Gaussian rewards (std 1), means 0.5 apart. 1500-2000 steps: the best arm nearly always
    # (about 0.98 measured); 0.9 leaves room.
    problem = BanditProblem.stationary([0.0, 0.5, 1.0, 1.5], noise="gaussian", std=1.0)
    share = optimal_share(
        run_seeds(NormalThompsonSampling(4, alpha=1.0, beta=1.0, lam=1.0, mu=0.0), problem, 2000),
        1500,
    )
    assert share.min() > 0.9, share


def test_lognormal_finds_the_best_arm():
    # Positive rewards: Gaussian with means 5..8 and std 0.5 (float32 normals stay within 5.5
    # stds, so every reward is at least 5 - 2.75 > 0). In log space the arms are 0.13 to 0.29 apart
    # with spread about 0.07.
    problem = BanditProblem.stationary([5.0, 6.0, 7.0, 8.0], noise="gaussian", std=0.5)
    agent = LogNormalThompsonSampling(4, alpha=1.0, beta=1.0, lam=1.0, mu=0.0)
    trajectory = run_seeds(agent, problem, 1000)
    assert trajectory.rewards.min() > 0
    assert optimal_share(trajectory, 500).min() > 0.9


def test_normal_through_the_facade():
    actions = drive_facade(
        NormalThompsonSampling,
        {"alpha": 1.0, "beta": 1.0, "lam": 1.0, "mu": 0.0},
        [0.1, 0.3, 0.5, 0.9],
        300,
    )
    assert np.mean(actions[-100:] == 3) > 0.8


def test_lognormal_through_the_facade():
    rl = RLib(
        agent_type=LogNormalThompsonSampling,
        agent_params={"alpha": 1.0, "beta": 1.0, "lam": 1.0, "mu": 0.0},
        ext_type=BasicMab,
        ext_params={"n_arms": 3},
    )
    rng = np.random.default_rng(0)
    medians = np.array([1.0, 2.0, 4.0])  # log-normal rewards, log-std 0.3
    action, actions = rl.sample(reward=1.0), []
    for _ in range(200):
        action = int(rl.sample(reward=float(medians[action] * np.exp(0.3 * rng.standard_normal()))))
        actions.append(action)
    assert np.mean(np.array(actions[-50:]) == 2) > 0.8


def test_lognormal_rejects_a_non_positive_reward_given_by_name():
    rl = RLib(
        agent_type=LogNormalThompsonSampling, agent_params={"n_arms": 2, **PRIOR}, no_ext_mode=True
    )
    rl.sample(reward=1.0)  # the first call only samples
    with pytest.raises(ObservationError, match="reward"):
        rl.sample(reward=0.0)


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"n_arms": 0}, "n_arms"),
        ({"alpha": 0.0}, "alpha"),
        ({"beta": -1.0}, "beta"),
        ({"lam": -0.5}, "lam"),
        ({"mu": float("nan")}, "mu"),
    ],
)
@pytest.mark.parametrize("agent_type", [NormalThompsonSampling, LogNormalThompsonSampling])
def test_bad_hyperparameters_are_named(agent_type, changes, name):
    with pytest.raises(ValueError, match=name):
        agent_type(**{"n_arms": 2, **PRIOR, **changes})
