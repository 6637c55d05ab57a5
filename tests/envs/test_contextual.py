"""The synthetic linear contextual bandit and its compiled loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.agents.contextual import LinUCB
from agentax.agents.mab import EGreedy
from agentax.envs import LinearContextualProblem
from agentax.simulate import simulate_contextual

KEY = jax.random.PRNGKey(0)


def test_means_by_hand():
    problem = LinearContextualProblem.create([[1.0, 2.0], [0.0, -1.0]])
    # Arm 0: [1, 1] . [1, 2] = 3; arm 1: [2, 3] . [0, -1] = -3.
    np.testing.assert_allclose(problem.means(jnp.array([[1.0, 1.0], [2.0, 3.0]])), [3.0, -3.0])


def test_random_problem_has_a_constant_bias_feature():
    problem = LinearContextualProblem.random(seed=1, n_arms=3, n_features=4)
    contexts = jax.vmap(problem.context)(jax.random.split(KEY, 2_000))
    assert contexts.shape == (2_000, 3, 4)
    np.testing.assert_array_equal(contexts[..., 0], 1.0)
    np.testing.assert_allclose(contexts[..., 1:].mean(), 0.0, atol=0.02)
    np.testing.assert_allclose(contexts[..., 1:].std(), 1.0, atol=0.02)


def test_simulate_records_rewards_and_regret_of_the_chosen_arm():
    # Constant features [1, 2] for every arm: arm means [1*1 + 0*2, 0*1 + 1*2, -1*1 + 1*2] = [1, 2, 1].
    problem = LinearContextualProblem.create(
        [[1.0, 0.0], [0.0, 1.0], [-1.0, 1.0]],
        context_mean=[1.0, 2.0],
        context_std=[0.0, 0.0],
        noise_std=0.5,
    )
    trajectory = simulate_contextual(EGreedy(3, e=0.5), problem, 4_000, KEY)
    means = np.array([1.0, 2.0, 1.0])
    actions = np.asarray(trajectory.actions)
    np.testing.assert_allclose(trajectory.regret, 2.0 - means[actions], atol=1e-6)
    np.testing.assert_array_equal(trajectory.optimal, actions == 1)
    noise = np.asarray(trajectory.rewards) - means[actions]
    assert abs(noise.mean()) < 0.03 and abs(noise.std() - 0.5) < 0.02  # N(0, 0.5^2) reward noise


def test_the_agent_learns_from_the_chosen_arm_features():
    problem = LinearContextualProblem.random(seed=2, n_arms=3, n_features=3, noise_std=0.0)
    agent = LinUCB(3, 3, alpha=0.1, lam=1e-3)
    trajectory = jax.jit(lambda k: simulate_contextual(agent, problem, 300, k))(KEY)
    # Noise-free linear rewards and almost no ridge bias: once each arm's model has seen a few
    # feature vectors it is exact, and later mistakes are near-ties that the small exploration
    # bonus tips (seen: 0.011 over the last 200 steps, against about 7 over the first 100).
    regret = np.asarray(trajectory.regret)
    assert regret[-200:].sum() < 0.05 and regret[:100].sum() > 3.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"theta": [1.0, 2.0]}, "theta"),
        ({"theta": [[1.0, 2.0]], "context_mean": [0.0]}, "context_mean"),
        ({"theta": [[1.0, 2.0]], "context_std": [1.0, -1.0]}, "context_std"),
        ({"theta": [[1.0, 2.0]], "noise_std": -0.1}, "noise_std"),
    ],
)
def test_bad_problems_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LinearContextualProblem.create(**kwargs)
