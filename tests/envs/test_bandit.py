"""The bandit problems' scenarios: abrupt switches and slow drift, Bernoulli and Gaussian, under jit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.envs import BanditProblem


def test_switching_means_change_at_each_start():
    problem = BanditProblem.switching([[0.2, 0.8], [0.9, 0.1]], [0, 100])
    means = jax.jit(jax.vmap(problem.means_at))(jnp.array([0, 99, 100, 500]))
    np.testing.assert_allclose(means, [[0.2, 0.8], [0.2, 0.8], [0.9, 0.1], [0.9, 0.1]])


def test_drifting_means_move_linearly_between_phases():
    problem = BanditProblem.drifting([[0.2, 0.8], [0.6, 0.4], [1.0, 0.0]], [0, 100, 300])
    means = jax.jit(jax.vmap(problem.means_at))(jnp.array([0, 50, 100, 200, 300, 1000]))
    # Step 50: halfway from phase 0 to 1, (0.2 + 0.6) / 2 = 0.4; step 200: halfway from 1 to 2
    # (over 200 steps), (0.6 + 1.0) / 2 = 0.8; from the last start on the means stay put.
    np.testing.assert_allclose(
        means, [[0.2, 0.8], [0.4, 0.6], [0.6, 0.4], [0.8, 0.2], [1.0, 0.0], [1.0, 0.0]], atol=1e-6
    )


@pytest.mark.parametrize("noise", ["bernoulli", "gaussian"])
def test_rewards_have_the_drifting_means(noise):
    problem = BanditProblem.drifting([[0.2, 0.9], [0.8, 0.1]], [0, 1000], noise=noise, std=0.5)
    keys = jax.random.split(jax.random.PRNGKey(0), 20000)
    rewards = jax.jit(jax.vmap(lambda key: problem.reward(key, 500, 1)))(
        keys
    )  # mean (0.9 + 0.1) / 2
    assert abs(float(rewards.mean()) - 0.5) < 0.015  # std of the mean <= 0.5 / sqrt(20000) = 0.0035


def test_drifting_is_checked_like_switching():
    with pytest.raises(ValueError, match="starts must begin at 0"):
        BanditProblem.drifting([[0.1], [0.2]], [5, 10])
    with pytest.raises(ValueError, match="Bernoulli means"):
        BanditProblem.drifting([[0.1], [1.5]], [0, 10])
