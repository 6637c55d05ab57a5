"""The contextual bandits through the facade, observations passed by name (no extension)."""

import re

import numpy as np
import pytest

from agentax import RLib
from agentax.agents.contextual import LinTS, LinUCB, NeuralEGreedy
from agentax.envs import LinearContextualProblem
from agentax.errors import ObservationError

PROBLEM = LinearContextualProblem.random(seed=0, n_arms=4, n_features=3, noise_std=0.3)
N_ARMS, N_FEATURES = PROBLEM.theta.shape
AGENTS = [
    pytest.param(LinUCB, {"alpha": 1.0, "lam": 1.0}, id="LinUCB"),
    pytest.param(LinTS, {"v": 0.3, "lam": 1.0}, id="LinTS"),
]
NEURAL = pytest.param(NeuralEGreedy, {}, id="NeuralEGreedy")


def play(rl, n_steps, seed=0):
    """Run ``rl`` on ``PROBLEM`` from Python; return the actions, played features and rewards.

    Each call gives the new ``context`` with the previous step's ``action_context`` and
    ``reward`` (placeholders on the first call, which only samples).
    """
    rng = np.random.default_rng(seed)
    theta, mean, std = (
        np.asarray(a) for a in (PROBLEM.theta, PROBLEM.context_mean, PROBLEM.context_std)
    )
    action_context, reward = np.zeros(N_FEATURES), 0.0
    actions, played, rewards, optimal = [], [], [], []
    for _ in range(n_steps):
        context = mean + std * rng.normal(size=(N_ARMS, N_FEATURES))
        action = rl.sample(context=context, action_context=action_context, reward=reward)
        means = np.einsum("ad,ad->a", context, theta)
        action_context, reward = context[action], means[action] + 0.3 * rng.normal()
        actions.append(action), played.append(action_context), rewards.append(reward)
        optimal.append(means[action] == means.max())
    return np.array(actions), np.array(played), np.array(rewards), np.array(optimal)


@pytest.mark.parametrize("agent_type, params", AGENTS)
def test_facade_learns_and_keeps_the_exact_ridge_models(agent_type, params):
    rl = RLib(
        agent_type=agent_type, agent_params={"n_arms": N_ARMS, "n_features": N_FEATURES, **params}
    )
    actions, played, rewards, optimal = play(rl, 300)
    assert optimal[-100:].mean() > 0.8  # a random arm is optimal a quarter of the time
    state = rl.state()
    # The last step's reward has not been given yet: the models hold the first 299 plays.
    for arm in range(N_ARMS):
        mine = actions[:-1] == arm
        x, r = played[:-1][mine].astype(np.float64), rewards[:-1][mine]
        A = params["lam"] * np.eye(N_FEATURES) + x.T @ x
        np.testing.assert_allclose(state.A_inv[arm], np.linalg.inv(A), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(
            state.theta[arm], np.linalg.solve(A, x.T @ r), rtol=1e-3, atol=1e-4
        )


def test_facade_trains_the_neural_bandit_on_the_plays_it_was_given():
    rl = RLib(
        agent_type=NeuralEGreedy,
        agent_params={"n_arms": N_ARMS, "n_features": N_FEATURES, "e": 0.05},
    )
    actions, played, rewards, optimal = play(rl, 400)
    assert (
        optimal[-100:].mean() > 0.75
    )  # seen: about 0.9; a random arm is optimal a quarter of the time
    # The replay buffer holds exactly the first 399 plays (the last reward is not given yet).
    buffer = rl.state().replay_buffer
    assert buffer.size == 399
    np.testing.assert_allclose(buffer.observations[:399], played[:-1], rtol=1e-6)
    np.testing.assert_array_equal(buffer.actions[:399], actions[:-1])
    np.testing.assert_allclose(buffer.rewards[:399], rewards[:-1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("agent_type, params", [*AGENTS, NEURAL])
@pytest.mark.parametrize(
    "name, shape",
    [
        ("context", (N_ARMS, N_FEATURES + 1)),
        ("context", (N_FEATURES,)),
        ("action_context", (N_ARMS, N_FEATURES)),
    ],
)
def test_a_context_of_the_wrong_shape_is_an_observation_error(agent_type, params, name, shape):
    rl = RLib(
        agent_type=agent_type, agent_params={"n_arms": N_ARMS, "n_features": N_FEATURES, **params}
    )
    given = {
        "context": np.zeros((N_ARMS, N_FEATURES)),
        "action_context": np.zeros(N_FEATURES),
        "reward": 0.0,
    }
    given[name] = np.zeros(shape)
    expected = (N_ARMS, N_FEATURES) if name == "context" else (N_FEATURES,)
    with pytest.raises(
        ObservationError, match=rf"'{name}' has shape .*expected shape {re.escape(str(expected))}"
    ):
        rl.sample(**given)


def test_instances_stepped_together_each_learn_from_their_own_context():
    rl = RLib(agent_type=LinUCB, agent_params={"n_arms": N_ARMS, "n_features": N_FEATURES})
    ids = [rl.init(seed) for seed in range(3)]
    rng = np.random.default_rng(0)
    first = rl.sample(
        agent_id=ids,
        context=rng.normal(size=(3, N_ARMS, N_FEATURES)),
        action_context=np.zeros((3, N_FEATURES)),
        reward=np.zeros(3),
    )
    played, rewards = rng.normal(size=(3, N_FEATURES)), np.array([1.0, 2.0, 3.0])
    rl.sample(
        agent_id=ids,
        context=rng.normal(size=(3, N_ARMS, N_FEATURES)),
        action_context=played,
        reward=rewards,
    )
    for k in ids:
        # One play of arm first[k] with features x_k and reward r_k: b = r_k x_k for that arm only.
        expected = np.zeros((N_ARMS, N_FEATURES))
        expected[first[k]] = rewards[k] * played[k]
        np.testing.assert_allclose(rl.state(k).b, expected, rtol=1e-6)
