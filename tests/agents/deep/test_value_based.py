"""DQN, DDQN and ExpectedSarsa: updates, episode boundaries, exploration and validation, by hand.

The hand-worked cases use a linear Q-network without bias on one-dimensional observations,
Q(s) = s * W with W of shape (1, 2), so every number can be followed on paper.
"""

import chex
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import linen as nn

from agentax import RLib
from agentax.agents.deep import DDQN, DQN, ExpectedSarsa
from agentax.errors import NetworkOutputError
from agentax.extensions import Gymnasium

LINEAR = nn.Dense(2, use_bias=False)
ONLINE, TARGET = (
    jnp.array([[1.0, 2.0]]),
    jnp.array([[3.0, -1.0]]),
)  # Q(s) = [s, 2s], Q-(s) = [3s, -s]
KEY = jax.random.PRNGKey(0)


def _linear_agent(agent_type, **params):
    defaults = dict(
        optimizer=optax.sgd(0.1),
        experience_replay_buffer_size=1,
        experience_replay_batch_size=1,
        discount=0.5,
        loss="l2",
    )
    agent = agent_type(LINEAR, (1,), 2, **{**defaults, **params})
    init = agent.init(KEY)
    state = init.replace(
        network=init.network.replace(params={"kernel": ONLINE}, target_params={"kernel": TARGET})
    )
    return agent, state


def _step(agent, state, obs, action=0, reward=0.0, terminal=False, truncated=False):
    return agent.update(
        state,
        KEY,
        env_state=jnp.array([obs]),
        action=action,
        reward=reward,
        terminal=terminal,
        truncated=truncated,
    )


def _one_transition(agent, state):
    """Record s = 1, then learn from (s = 1, a = 0, r = 1, not terminal, s' = 2)."""
    state = _step(agent, state, 1.0)
    return _step(agent, state, 2.0, action=0, reward=1.0)


def test_dqn_update_by_hand():
    # q_tm1 = Q(1)[0] = 1; the target network values s' = 2 at [6, -2], max 6:
    # target = 1 + 0.5 * 6 = 4, error 3. L2 loss e^2 / 2, dL/dW00 = -e * s = -3, so SGD(0.1)
    # gives W00 = 1 + 0.1 * 3 = 1.3. Then the target refresh with tau 0.5:
    # W- = 0.5 * [1.3, 2] + 0.5 * [3, -1] = [2.15, 0.5].
    agent, state = _linear_agent(DQN, tau=0.5, target_update_freq=1)
    state = _one_transition(agent, state)
    np.testing.assert_allclose(state.network.params["kernel"], [[1.3, 2.0]], rtol=1e-6)
    np.testing.assert_allclose(state.network.target_params["kernel"], [[2.15, 0.5]], rtol=1e-6)
    assert int(state.n_updates) == 1


def test_ddqn_update_by_hand():
    # The online network picks the next action: Q(2) = [2, 4], argmax 1; the target network
    # values it: Q-(2)[1] = -2. Target = 1 + 0.5 * (-2) = 0, error 0 - 1 = -1, dL/dW00 = 1,
    # W00 = 1 - 0.1 = 0.9 (DQN's max over the target values would have raised it to 1.3).
    agent, state = _linear_agent(DDQN, tau=0.5, target_update_freq=1)
    state = _one_transition(agent, state)
    np.testing.assert_allclose(state.network.params["kernel"], [[0.9, 2.0]], rtol=1e-6)
    np.testing.assert_allclose(
        state.network.target_params["kernel"], [[0.5 * (0.9 + 3.0), 0.5 * (2.0 - 1.0)]], rtol=1e-6
    )


def test_expected_sarsa_update_by_hand():
    # Policy at s' = 2: softmax(Q(2) / tau) = softmax([2, 4]) = [1, e^2] / (1 + e^2); the target
    # network's values [6, -2] average to E = (6 - 2 e^2) / (1 + e^2) = -1.0464...
    # Target = 1 + 0.5 E, error = 0.5 E, W00 = 1 + 0.1 * 0.5 E. target_update_freq 1 copies W.
    agent, state = _linear_agent(ExpectedSarsa, tau=1.0, target_update_freq=1)
    state = _one_transition(agent, state)
    e2 = np.exp(2.0)
    expectation = (6.0 - 2.0 * e2) / (1.0 + e2)
    np.testing.assert_allclose(
        state.network.params["kernel"], [[1.0 + 0.05 * expectation, 2.0]], rtol=1e-5
    )
    np.testing.assert_allclose(
        state.network.target_params["kernel"], state.network.params["kernel"]
    )


def test_huber_loss_clips_the_gradient():
    # The error 3 of the DQN case lies beyond Huber's delta 1: the gradient is -1, W00 = 1.1.
    agent, state = _linear_agent(DQN, loss="huber", target_update_freq=100)
    state = _one_transition(agent, state)
    np.testing.assert_allclose(state.network.params["kernel"], [[1.1, 2.0]], rtol=1e-6)
    np.testing.assert_allclose(state.network.target_params["kernel"], TARGET)  # not refreshed yet


def test_the_target_is_copied_every_target_update_freq_steps():
    # tau = 1: after the first gradient step the target is unchanged, after the second it is a copy.
    agent, state = _linear_agent(DQN, tau=1.0, target_update_freq=2)
    state = _one_transition(agent, state)
    np.testing.assert_allclose(state.network.target_params["kernel"], TARGET)
    state = _step(agent, state, 3.0)
    assert int(state.n_updates) == 2
    chex.assert_trees_all_equal(state.network.target_params, state.network.params)


def test_terminal_transitions_do_not_bootstrap():
    # (s = 1, a = 0, r = 1, terminal, s' = 2): target = r = 1, error 1 - 1 = 0, nothing moves.
    agent, state = _linear_agent(DQN, target_update_freq=100)
    state = _step(agent, _step(agent, state, 1.0), 2.0, action=0, reward=1.0, terminal=True)
    np.testing.assert_allclose(state.network.params["kernel"], ONLINE)


def test_episode_boundaries_in_the_buffer():
    # Episode 1: 1 -> 2 -> 3 (terminal). Episode 2: 10 -> 11 (truncated). Episode 3 starts at 20.
    # Stored: (1, 2), (2, 3, terminal), (10, 11, not terminal: truncation bootstraps).
    # Never stored: (3, 10) and (11, 20), which join two episodes; a batch of 8 keeps it from training.
    agent = DQN(LINEAR, (1,), 2, experience_replay_buffer_size=8, experience_replay_batch_size=8)
    state = agent.init(KEY)
    assert bool(state.episode_ended)  # a new agent waits for a first observation
    for obs, terminal, truncated in [
        (1, 0, 0),
        (2, 0, 0),
        (3, 1, 0),
        (10, 0, 0),
        (11, 0, 1),
        (20, 0, 0),
    ]:
        state = _step(
            agent,
            state,
            float(obs),
            action=obs % 2,
            reward=obs,
            terminal=bool(terminal),
            truncated=bool(truncated),
        )
        assert bool(state.episode_ended) == bool(terminal or truncated)
    buffer = state.replay_buffer
    assert int(buffer.size) == 3
    np.testing.assert_array_equal(buffer.observations[:3, 0], [1, 2, 10])
    np.testing.assert_array_equal(buffer.next_observations[:3, 0], [2, 3, 11])
    np.testing.assert_array_equal(buffer.actions[:3], [0, 1, 1])
    np.testing.assert_array_equal(buffer.rewards[:3], [2, 3, 11])
    np.testing.assert_array_equal(buffer.terminals[:3], [False, True, False])
    np.testing.assert_array_equal(state.prev_env_state, [20.0])


def test_episode_start_cuts_an_episode_without_flags():
    # 1 -> 2, then a reset to 10 without a terminal or truncated flag (the user gave up on the
    # episode): with episode_start, (2, 10) is not stored; 10 -> 11 is.
    agent = DQN(LINEAR, (1,), 2, experience_replay_buffer_size=8, experience_replay_batch_size=8)
    state = agent.init(KEY)
    for obs, start in [(1, True), (2, False), (10, True), (11, False)]:
        state = agent.update(
            state,
            KEY,
            env_state=jnp.array([float(obs)]),
            action=0,
            reward=0.0,
            terminal=False,
            truncated=False,
            episode_start=start,
        )
    buffer = state.replay_buffer
    assert int(buffer.size) == 2
    np.testing.assert_array_equal(buffer.observations[:2, 0], [1, 10])
    np.testing.assert_array_equal(buffer.next_observations[:2, 0], [2, 11])


def test_epsilon_decays_to_its_floor():
    # 0.5 -> 0.45 -> 0.405 -> max(0.3645, 0.4) = 0.4
    agent = DQN(LINEAR, (1,), 2, epsilon=0.5, epsilon_decay=0.9, epsilon_min=0.4)
    state = agent.init(KEY)
    for expected in [0.45, 0.405, 0.4]:
        state = _step(agent, state, 1.0)
        np.testing.assert_allclose(state.epsilon, expected, rtol=1e-6)
        assert state.epsilon.dtype == jnp.float32


def _action_frequency(agent, state, obs, action=1, n=4000):
    keys = jax.random.split(jax.random.PRNGKey(1), n)
    actions = jax.vmap(lambda k: agent.sample(state, k, env_state=jnp.array([obs])))(keys)
    return float(jnp.mean(actions == action))


def test_epsilon_greedy_sampling():
    agent, state = _linear_agent(DQN)
    greedy = state.replace(epsilon=jnp.float32(0.0))
    assert _action_frequency(agent, greedy, 1.0) == 1.0  # Q(1) = [1, 2]
    assert _action_frequency(agent, greedy, -1.0) == 0.0  # Q(-1) = [-1, -2]
    # epsilon 0.5: action 1 with probability 0.5 + 0.5 / 2 = 0.75 (4000 draws: sd 0.007)
    assert abs(_action_frequency(agent, state.replace(epsilon=jnp.float32(0.5)), 1.0) - 0.75) < 0.03
    assert abs(_action_frequency(agent, state.replace(epsilon=jnp.float32(1.0)), 1.0) - 0.5) < 0.03


@pytest.mark.parametrize("agent_type", [DQN, ExpectedSarsa])
def test_sample_greedy_takes_the_best_action(agent_type):
    agent, state = _linear_agent(agent_type)
    assert int(agent.sample_greedy(state, KEY, env_state=jnp.array([1.0]))) == 1  # Q(1) = [1, 2]
    assert (
        int(agent.sample_greedy(state, KEY, env_state=jnp.array([-1.0]))) == 0
    )  # Q(-1) = [-1, -2]


def test_expected_sarsa_samples_from_the_softmax():
    # Q(1) = [1, 2], tau 0.5: P(1) = 1 / (1 + e^{-(2 - 1) / 0.5}) = 1 / (1 + e^-2) = 0.881
    agent, state = _linear_agent(ExpectedSarsa, tau=0.5)
    assert abs(_action_frequency(agent, state, 1.0) - 1.0 / (1.0 + np.exp(-2.0))) < 0.03


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(act_space_size=0), "act_space_size"),
        (dict(obs_space_shape=(0,)), "obs_space_shape"),
        (dict(obs_space_shape="4"), "obs_space_shape"),
        (dict(discount=1.5), "discount"),
        (dict(epsilon=1.5), "epsilon"),
        (dict(epsilon=0.1, epsilon_min=0.2), "epsilon_min"),
        (dict(epsilon_decay=-0.1), "epsilon_decay"),
        (dict(tau=0.0), "tau"),
        (dict(target_update_freq=0), "target_update_freq"),
        (dict(experience_replay_steps=0), "experience_replay_steps"),
        (
            dict(experience_replay_buffer_size=8, experience_replay_batch_size=16),
            "experience_replay_batch_size",
        ),
        (dict(loss="l1"), "loss"),
    ],
)
def test_bad_hyperparameters_name_themselves(params, name):
    with pytest.raises(ValueError, match=name):
        DQN(**{"q_network": nn.Dense(2), "obs_space_shape": (4,), "act_space_size": 2, **params})


def test_expected_sarsa_temperature_must_be_positive():
    with pytest.raises(ValueError, match="tau"):
        ExpectedSarsa(nn.Dense(2), (4,), 2, tau=0.0)


def test_a_network_of_the_wrong_width_is_named():
    with pytest.raises(
        NetworkOutputError,
        match=r"q_network returns shape \(1, 3\).*expected \(1, act_space_size\)",
    ):
        DDQN(nn.Dense(3), (4,), 2)


def test_an_integer_observation_shape_means_a_vector():
    agent = DQN(nn.Dense(2), 4, 2)
    assert agent.obs_space_shape == (4,)
    assert agent.sample_observation_space["env_state"].shape == (4,)


def test_the_facade_records_the_first_observation_of_a_gymnasium_episode():
    rl = RLib(
        agent_type=DDQN,
        agent_params={"q_network": LINEAR},
        ext_type=Gymnasium,
        ext_params={"env_id": "CartPole-v1"},
    )
    env = gym.make("CartPole-v1")
    first, info = env.reset(seed=0)
    action = rl.sample(first, info)
    state = rl.state(0)
    np.testing.assert_allclose(state.prev_env_state, first)
    assert int(state.replay_buffer.size) == 0 and not bool(state.episode_ended)
    second, reward, terminal, truncated, info = env.step(action)
    rl.sample(second, reward, terminal, truncated, info)
    buffer = rl.state(0).replay_buffer
    assert int(buffer.size) == 1
    np.testing.assert_allclose(buffer.observations[0], first)
    np.testing.assert_allclose(buffer.next_observations[0], second)
    assert int(buffer.actions[0]) == int(action) and float(buffer.rewards[0]) == 1.0
