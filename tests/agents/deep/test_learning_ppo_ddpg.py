"""PPO solves CartPole-v1 over a vector environment, and DDPG learns Pendulum-v1, through the facade.

Both run real ``gymnasium`` environments against ``RLib`` with the Gymnasium extensions and the
agents' default hyperparameters (only the networks are given). Seeds are fixed.

* PPO, 8 CartPole copies (``gymnasium.make_vec``): runs until the mean return of the last 20
  episodes reaches 475 (returns are capped at 500), then 20 greedy episodes must average 475 too.
  The step budget is about twice what the seed needed while tuning (70 to 165 thousand steps on
  the seeds tried), so a run that learns at the usual pace passes and one that does not fails.
* DDPG, one Pendulum: 40 episodes of 200 steps, after which the last 10 training episodes and 10
  greedy episodes must each average at least -250 (a random policy averages about -1200; the
  seeds tried reached about -150 after 30 to 40 episodes).
* PPOContinuous on a task with a known answer, compiled whole with ``lax.scan``: reach a target
  with actions bounded to [-1, 1] (see the test).
"""

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from agentax import RLib
from agentax.agents.deep import (
    DDPG,
    DDPGActor,
    DDPGCritic,
    DiscreteActorCritic,
    GaussianActorCritic,
    PPOContinuous,
    PPODiscrete,
)
from agentax.extensions import Gymnasium, GymnasiumVectorized
from agentax.training import evaluate, train

pytestmark = pytest.mark.slow

SOLVED, WINDOW = 475.0, 20


def _learn_vectorized(
    rl: RLib, env: gym.vector.VectorEnv, max_steps: int, seed: int
) -> tuple[int, list[float]]:
    """Step every copy of ``env`` until the last WINDOW episodes average SOLVED (or the budget ends).

    A copy that finished is reset by its next step (gymnasium's default autoreset): that step's
    reward belongs to no episode.
    """
    returns, running, autoreset, steps = [], np.zeros(env.num_envs), np.zeros(env.num_envs, bool), 0
    action = rl.sample(*env.reset(seed=seed))
    while steps < max_steps:
        observation, reward, terminal, truncated, info = env.step(action)
        action = rl.sample(observation, reward, terminal, truncated, info)
        steps += int(np.sum(~autoreset))
        running += np.where(autoreset, 0.0, reward)
        done = (terminal | truncated) & ~autoreset
        returns.extend(running[done].tolist())
        running[done], autoreset = 0.0, terminal | truncated
        if len(returns) >= WINDOW and np.mean(returns[-WINDOW:]) >= SOLVED:
            break
    return steps, returns


def test_ppo_solves_cartpole_with_vectorized_environments():
    rl = RLib(
        agent_type=PPODiscrete,
        agent_params={"network": DiscreteActorCritic(2)},
        ext_type=GymnasiumVectorized,
        ext_params={"env_id": "CartPole-v1", "num_envs": 8},
    )
    rl.init(0)
    env = gym.make_vec("CartPole-v1", num_envs=8, vectorization_mode="sync")
    steps, returns = _learn_vectorized(rl, env, 250_000, seed=0)
    assert np.mean(returns[-WINDOW:]) >= SOLVED, (
        f"not solved in {steps} steps: last {WINDOW} returns {returns[-WINDOW:]}"
    )
    greedy = evaluate(rl, env, WINDOW, seed=1)
    assert greedy.mean_return(WINDOW) >= SOLVED, f"greedy returns {greedy.returns}"


def test_ddpg_learns_pendulum():
    rl = RLib(
        agent_type=DDPG,
        agent_params={"q_network": DDPGCritic(), "a_network": DDPGActor((1,), -2.0, 2.0)},
        ext_type=Gymnasium,
        ext_params={"env_id": "Pendulum-v1"},
    )
    rl.init(0)
    env = gym.make("Pendulum-v1")
    stats = train(rl, env, 40 * 200, seed=0, progress=False)
    assert len(stats.returns) == 40
    assert stats.mean_return(10) >= -250.0, f"last 10 training returns {stats.returns[-10:]}"
    greedy = evaluate(rl, env, 10, seed=1)
    assert greedy.mean_return() >= -250.0, f"greedy returns {greedy.returns}"


def test_ppo_continuous_reaches_bounded_targets():
    """Each step, 16 environments show a target in [-1.5, 1.5] and pay -(action - target)^2 for
    the action taken on it; actions are bounded to [-1, 1], so beyond a bound the best action is the
    bound (the clipped-Gaussian log-probability lets the mean go past it). With ``discount=0``
    this is a contextual bandit; a random policy loses about 1.4 per step. After 40 rollouts of
    32 steps the greedy action must be within 0.15 of the clipped target everywhere."""
    n = 16
    agent = PPOContinuous(
        GaussianActorCritic((1,), (32,)),
        (1,),
        (1,),
        -1.0,
        1.0,
        num_envs=n,
        discount=0.0,
        rollout_length=32,
        batch_size=128,
        num_epochs=4,
        optimizer=optax.adam(3e-3),
    )

    def step(carry, key):
        state, target = carry
        sample_key, target_key, update_key = jax.random.split(key, 3)
        actions = agent.sample(state, sample_key, target[:, None])
        rewards = -((actions[:, 0] - target) ** 2)
        target = jax.random.uniform(target_key, (n,), minval=-1.5, maxval=1.5)
        state = agent.update(
            state,
            update_key,
            target[:, None],
            actions,
            rewards,
            jnp.zeros(n, bool),
            jnp.zeros(n, bool),
        )
        return (state, target), jnp.mean(rewards)

    @jax.jit
    def learn(key):
        return jax.lax.scan(step, (agent.init(key), jnp.zeros(n)), jax.random.split(key, 32 * 40))

    (state, _), rewards = learn(jax.random.PRNGKey(0))
    assert float(jnp.mean(rewards[:32])) < -1.0 and float(jnp.mean(rewards[-32:])) > -0.1
    targets = jnp.linspace(-1.5, 1.5, n)
    greedy = agent.sample_greedy(state, jax.random.PRNGKey(1), targets[:, None])[:, 0]
    np.testing.assert_allclose(greedy, jnp.clip(targets, -1.0, 1.0), atol=0.15)
