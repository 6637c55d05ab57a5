"""The JAX CartPole-v1 matches gymnasium's step for step, from the same initial state."""

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agentax.envs import CartPoleState, cartpole

step = jax.jit(cartpole.step)
reset = jax.jit(cartpole.reset)


def test_reset_is_uniform_in_a_small_box():
    _, observations = jax.vmap(cartpole.reset)(jax.random.split(jax.random.PRNGKey(0), 2_000))
    assert observations.dtype == jnp.float32 and observations.shape == (2_000, 4)
    assert np.all(np.abs(observations) <= 0.05)
    np.testing.assert_allclose(observations.mean(axis=0), 0.0, atol=0.003)
    # The variance of U(-0.05, 0.05) is 0.1^2 / 12.
    np.testing.assert_allclose(observations.var(axis=0), 0.01 / 12, rtol=0.1)


def test_one_step_by_hand():
    state = CartPoleState(jnp.zeros(4, jnp.float32), jnp.int32(0))
    _, obs, reward, terminated, truncated = step(state, 1)
    # Upright and still: h = 10 / 1.1; theta_acc = -h / (0.5 (4/3 - 0.1/1.1)) = -14.634...;
    # x_acc = h - 0.05 theta_acc / 1.1 = 9.756...; only the velocities move after one Euler step.
    h = 10 / 1.1
    theta_acc = -h / (0.5 * (4 / 3 - 0.1 / 1.1))
    x_acc = h - 0.05 * theta_acc / 1.1
    np.testing.assert_allclose(obs, [0.0, 0.02 * x_acc, 0.0, 0.02 * theta_acc], rtol=1e-6)
    assert reward == 1.0 and not terminated and not truncated


@pytest.mark.parametrize("seed", [0, 1])
def test_parity_with_gymnasium_over_random_actions(seed):
    env = gym.make("CartPole-v1")
    env.reset(seed=seed)
    rng, key = np.random.default_rng(seed), jax.random.PRNGKey(seed)
    steps, episodes = 0, 0
    while steps < 400:
        key, reset_key = jax.random.split(key)
        state, obs = reset(reset_key)
        env.reset()
        env.unwrapped.state = np.asarray(obs, np.float64)
        done = False
        while not done:
            action = int(rng.integers(2))
            state, obs, reward, terminated, truncated = step(state, action)
            gym_obs, gym_reward, gym_terminated, gym_truncated, _ = env.step(action)
            np.testing.assert_allclose(obs, gym_obs, rtol=1e-4, atol=1e-5)
            assert (float(reward), bool(terminated), bool(truncated)) == (
                gym_reward,
                gym_terminated,
                gym_truncated,
            )
            done, steps = bool(terminated or truncated), steps + 1
        episodes += 1
    assert episodes >= 5  # random actions end an episode within a few dozen steps


def test_truncation_after_500_steps():
    # From rest at step 498 the pole stays up: the 500th step truncates the episode.
    state = CartPoleState(jnp.zeros(4, jnp.float32), jnp.int32(498))
    state, *_, truncated = step(state, 0)
    assert not truncated
    state, *_, truncated = step(state, 1)
    assert truncated and state.time == 500
