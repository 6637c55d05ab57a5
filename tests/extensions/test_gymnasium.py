"""Gymnasium extensions and the training loop, on real Gymnasium environments.

The agent here is a hand-written CartPole policy: ``sample`` explores (a random push) and
``sample_greedy`` leans the cart under the pole, which balances it; ``update`` counts what it saw,
so the tests can check which transitions reach the agent.
"""

from functools import partial

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from chex import dataclass

from agentax import RLib
from agentax.agents import AgentState, BaseAgent
from agentax.errors import AgentaxError
from agentax.extensions import Gymnasium, GymnasiumVectorized
from agentax.training import evaluate, train


@dataclass
class CounterState(AgentState):
    updates: jnp.ndarray
    terminals: jnp.ndarray
    truncations: jnp.ndarray
    reward_sum: jnp.ndarray
    last_env_state: jnp.ndarray


class PoleBalancer(BaseAgent):
    update_on_first_step = True

    def __init__(
        self, obs_space_shape: tuple, act_space_size: int, suffix: str = "", num_envs: int = 0
    ) -> None:
        self.shape, self.n_actions, self.suffix = tuple(obs_space_shape), act_space_size, suffix
        self.batch = (num_envs,) if num_envs else ()
        self.init = jax.jit(partial(self.init, shape=self.shape))
        self.update = jax.jit(self._rename(self.update))
        self.sample = jax.jit(self._rename(self.sample))
        self.sample_greedy = jax.jit(self._rename(self.balance))

    def _rename(self, function):
        """Accept the plural names of the vectorized extension."""
        if not self.suffix:
            return function
        names = {"env_states": "env_state", "rewards": "reward", "terminals": "terminal"}
        return lambda state, key, **obs: function(
            state, key, **{names.get(k, k): v for k, v in obs.items()}
        )

    @staticmethod
    def parameter_space():
        size = gym.spaces.Box(1, np.inf, (1,), int)
        return gym.spaces.Dict(
            {"obs_space_shape": gym.spaces.Sequence(size), "act_space_size": size, "num_envs": size}
        )

    @property
    def update_observation_space(self):
        s, scalar = self.suffix, self.batch or (1,)
        return gym.spaces.Dict(
            {
                **self.sample_observation_space.spaces,
                f"reward{s}": gym.spaces.Box(-np.inf, np.inf, scalar, float),
                f"terminal{s}": gym.spaces.Box(0, 1, scalar, bool),
                "truncated": gym.spaces.Box(0, 1, scalar, bool),
            }
        )

    @property
    def sample_observation_space(self):
        env = gym.spaces.Box(-np.inf, np.inf, (*self.batch, *self.shape), np.float32)
        return gym.spaces.Dict({f"env_state{self.suffix}": env})

    @staticmethod
    def init(key, shape):
        zero = jnp.zeros((), jnp.int32)
        return CounterState(
            updates=zero,
            terminals=zero,
            truncations=zero,
            reward_sum=jnp.zeros(()),
            last_env_state=jnp.zeros(shape[-1:], jnp.float32),
        )

    @staticmethod
    def update(state, key, env_state, reward, terminal, truncated):
        return CounterState(
            updates=state.updates + 1,
            terminals=state.terminals + jnp.sum(terminal),
            truncations=state.truncations + jnp.sum(truncated),
            reward_sum=state.reward_sum + jnp.sum(reward),
            last_env_state=env_state.reshape(-1, env_state.shape[-1])[0],
        )

    @staticmethod
    def sample(state, key, env_state):
        return jax.random.randint(key, env_state.shape[:-1], 0, 2)

    @staticmethod
    def balance(state, key, env_state):
        return (env_state[..., 2] + env_state[..., 3] > 0).astype(jnp.int32)


def cartpole_rlib(vectorized=False, num_envs=3):
    if vectorized:
        ext = dict(
            ext_type=GymnasiumVectorized, ext_params={"env_id": "CartPole-v1", "num_envs": num_envs}
        )
    else:
        ext = dict(ext_type=Gymnasium, ext_params={"env_id": "CartPole-v1"})
    return RLib(agent_type=PoleBalancer, agent_params={"suffix": "s" if vectorized else ""}, **ext)


def test_parameters_come_from_the_environment_spaces():
    rl = cartpole_rlib()
    assert rl.agent.shape == (4,) and rl.agent.n_actions == 2
    pendulum = Gymnasium("Pendulum-v1")
    assert pendulum.parameter_functions["act_space_shape"]() == (1,)
    np.testing.assert_allclose(pendulum.parameter_functions["max_action"](), [2.0])
    with pytest.raises(AgentaxError, match="act_space_size.*Discrete.*Box"):
        pendulum.parameter_functions["act_space_size"]()
    assert GymnasiumVectorized("CartPole-v1", 5).parameter_functions["num_envs"]() == 5


class CountingEnv(gym.Env):
    opened = closed = 0
    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def __init__(self):
        CountingEnv.opened += 1

    def close(self):
        CountingEnv.closed += 1


def test_extensions_read_spaces_without_leaking_or_stepping_environments():
    gym.register("agentax-test/Counting-v0", entry_point=CountingEnv)
    Gymnasium("agentax-test/Counting-v0")
    GymnasiumVectorized("agentax-test/Counting-v0", num_envs=4)
    assert CountingEnv.opened == CountingEnv.closed == 2
    with pytest.raises(AgentaxError, match="cannot create the Gymnasium environment"):
        Gymnasium("NoSuchEnv-v9")
    with pytest.raises(ValueError, match="num_envs"):
        GymnasiumVectorized("CartPole-v1", 0)


def test_step_tuples_reach_the_agent_and_reset_starts_an_episode():
    rl, env = cartpole_rlib(), gym.make("CartPole-v1")
    observation, info = env.reset(seed=0)
    action = rl.sample(observation, info)  # first call: the agent records the first observation
    rewards = 0.0
    for _ in range(5):
        observation, reward, terminal, truncated, info = env.step(int(action))
        rewards += reward
        action = rl.sample(observation, reward, terminal, truncated, info)
    state = rl.state()
    assert int(state.updates) == 6 and float(state.reward_sum) == rewards == 5.0
    np.testing.assert_allclose(state.last_env_state, observation)
    # after reset, the reward is 0 and neither flag is set
    rl.sample(*env.reset(seed=1))
    assert int(rl.state().updates) == 7 and float(rl.state().reward_sum) == 5.0


def test_train_counts_steps_and_episodes_and_evaluate_is_greedy():
    rl, env = cartpole_rlib(), gym.make("CartPole-v1")
    stats = train(rl, env, 600, seed=0, progress=False)
    assert stats.env_steps == 600 and len(stats.returns) >= 10
    assert stats.returns == [float(n) for n in stats.lengths]  # CartPole pays 1 per step
    assert sum(stats.lengths) <= 600
    state = rl.state()
    assert int(state.terminals) == len(stats.returns)  # every episode ended by termination
    assert stats.mean_return() < 60  # random pushes drop the pole quickly
    greedy = evaluate(rl, env, 3, seed=0)
    assert len(greedy.returns) == 3 and greedy.mean_return() > 200  # the balancing policy holds it
    assert int(rl.state().updates) == int(state.updates)  # evaluation does not learn


def test_vector_environment_training_skips_autoreset_steps():
    rl = cartpole_rlib(vectorized=True, num_envs=3)
    env = gym.make_vec("CartPole-v1", num_envs=3)
    stats = train(rl, env, 900, seed=0, progress=False)
    assert stats.env_steps >= 900 and len(stats.returns) >= 15
    assert stats.returns == [float(n) for n in stats.lengths]
    assert int(rl.state().terminals) == len(stats.returns)


def test_greedy_needs_a_greedy_policy_and_train_validates_steps():
    from agentax.agents.mab import EGreedy

    rl = RLib(agent_type=EGreedy, agent_params={"n_arms": 2, "e": 0.1})
    with pytest.raises(AgentaxError, match="no greedy policy"):
        rl.sample(reward=1.0, greedy=True)
    with pytest.raises(ValueError, match="n_env_steps"):
        train(cartpole_rlib(), gym.make("CartPole-v1"), 0)


def test_a_reset_mid_episode_never_joins_two_episodes():
    """A reset the agent was not told about (a cut-off episode, a second train call) starts afresh."""
    from agentax.agents.deep import DDPG, DDPGActor, DDPGCritic

    env = gym.make("Pendulum-v1")
    low, high = env.action_space.low, env.action_space.high
    networks = {
        "q_network": DDPGCritic(),
        "a_network": DDPGActor(env.action_space.shape, low, high),
    }
    rl = RLib(
        agent_type=DDPG,
        agent_params=networks,
        ext_type=Gymnasium,
        ext_params={"env_id": "Pendulum-v1"},
    )
    first, _ = env.reset(seed=0)
    action = rl.sample(first, {})
    for _ in range(3):
        observation, reward, terminal, truncated, info = env.step(action)
        action = rl.sample(observation, reward, terminal, truncated, info)
    restart, _ = env.reset(seed=1)  # the episode is cut off without any flag
    action = rl.sample(restart, {})
    observation, reward, terminal, truncated, info = env.step(action)
    rl.sample(observation, reward, terminal, truncated, info)
    buffer = rl.state().replay_buffer
    assert int(buffer.size) == 4  # three transitions of the first episode, one of the second
    np.testing.assert_allclose(buffer.observations[0], first)
    np.testing.assert_allclose(
        buffer.observations[3], restart
    )  # the new episode's transition starts at reset
    assert not np.any(
        np.all(np.isclose(buffer.next_observations[:4], restart), axis=1)
    )  # nothing leads into it


def test_dqn_does_not_join_a_cut_off_episode_either():
    from agentax.agents.deep import DQN

    class QNetwork(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(2)(nn.relu(nn.Dense(16)(x)))

    rl = RLib(
        agent_type=DQN,
        agent_params={"q_network": QNetwork()},
        ext_type=Gymnasium,
        ext_params={"env_id": "CartPole-v1"},
    )
    env = gym.make("CartPole-v1")
    action = rl.sample(*env.reset(seed=0))
    for _ in range(3):
        action = rl.sample(*env.step(int(action)))
    restart, info = env.reset(seed=1)
    action = rl.sample(restart, info)
    rl.sample(*env.step(int(action)))
    buffer = rl.state().replay_buffer
    assert int(buffer.size) == 4
    np.testing.assert_allclose(buffer.observations[3], restart)
    assert not np.any(np.all(np.isclose(buffer.next_observations[:4], restart), axis=1))
