"""DQN (or DDQN, ExpectedSarsa) learns CartPole-v1 through the facade, then plays greedy episodes.

The ``Gymnasium`` extension reads the observation shape and the number of actions from the
environment and turns ``env.reset()``'s and ``env.step()``'s tuples into the agent's
observations. Learning stops once the mean return of the last 20 episodes reaches 475
(CartPole-v1 caps a return at 500); then 20 greedy episodes (no exploration) show what was
learned. The agent's hyperparameters are its defaults.

Run: ``python examples/cartpole_dqn.py [--agent DDQN|ExpectedSarsa] [--max-steps 100000] [--seed 0]``
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
from flax import linen as nn

from agentax import RLib
from agentax.agents.deep import DDQN, DQN, ExpectedSarsa
from agentax.extensions import Gymnasium
from agentax.training import evaluate

SOLVED, WINDOW = 475.0, 20
AGENTS = {"DQN": DQN, "DDQN": DDQN, "ExpectedSarsa": ExpectedSarsa}


class QNetwork(nn.Module):
    """Two hidden layers of 64 units: a batch of observations in, one value per action out."""

    n_actions: int = 2

    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Dense(64)(x))
        x = nn.relu(nn.Dense(64)(x))
        return nn.Dense(self.n_actions)(x)


def learn(
    rl: RLib, env: gym.Env, max_steps: int, seed: int, report_every: int = 20
) -> tuple[int | None, list]:
    """Step ``env`` against ``rl`` until the last 20 episodes average 475.

    Returns:
      The environment steps it took (``None`` if ``max_steps`` were not enough) and the returns
      of the episodes played.
    """
    returns, episode_return, started = [], 0.0, time.perf_counter()
    action = rl.sample(*env.reset(seed=seed))  # records the first observation, picks an action
    for step in range(1, max_steps + 1):
        observation, reward, terminal, truncated, info = env.step(action)
        episode_return += reward
        action = rl.sample(observation, reward, terminal, truncated, info)  # learn, then act
        if terminal or truncated:
            returns.append(episode_return)
            episode_return = 0.0
            action = rl.sample(*env.reset())  # a new episode: joined to nothing before it
            mean = np.mean(returns[-WINDOW:])
            if report_every and len(returns) % report_every == 0:
                print(
                    f"step {step:6d}  episode {len(returns):4d}  mean return of the last {WINDOW}: "
                    f"{mean:5.1f}  ({step / (time.perf_counter() - started):.0f} steps/s)"
                )
            if len(returns) >= WINDOW and mean >= SOLVED:
                return step, returns
    return None, returns


def keep_learning(rl: RLib, env: gym.Env, n_steps: int, seed: int) -> None:
    """Step ``env`` against ``rl`` for ``n_steps`` more steps, learning all the while."""
    action = rl.sample(*env.reset(seed=seed))
    for _ in range(n_steps):
        observation, reward, terminal, truncated, info = env.step(action)
        action = rl.sample(observation, reward, terminal, truncated, info)
        if terminal or truncated:
            action = rl.sample(*env.reset())


def main(
    agent: str = "DQN", max_steps: int = 100_000, seed: int = 0, report_every: int = 20
) -> dict:
    """Learn CartPole with ``agent`` (a key of ``AGENTS``), then evaluate it greedily."""
    rl = RLib(
        agent_type=AGENTS[agent],
        agent_params={"q_network": QNetwork()},
        ext_type=Gymnasium,
        ext_params={"env_id": "CartPole-v1"},
    )
    rl.init(seed)
    env = gym.make("CartPole-v1")
    started = time.perf_counter()
    steps, returns = learn(rl, env, max_steps, seed, report_every)
    seconds = time.perf_counter() - started
    outcome = f"solved after {steps} steps" if steps else f"not solved in {max_steps} steps"
    print(f"{agent}: {outcome}, {len(returns)} episodes, {seconds:.0f} s")

    greedy = evaluate(rl, env, WINDOW, seed=seed + 1)
    print(
        f"greedy evaluation: mean return {greedy.mean_return():.1f} over {len(greedy.returns)} episodes "
        f"(lowest {min(greedy.returns):.0f})"
    )
    return {
        "steps": steps,
        "seconds": seconds,
        "returns": returns,
        "greedy_returns": greedy.returns,
        "rl": rl,
        "env": env,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="A value-based deep agent learns CartPole-v1 through the facade."
    )
    parser.add_argument("--agent", choices=sorted(AGENTS), default="DQN")
    parser.add_argument(
        "--max-steps", type=int, default=100_000, help="most environment steps to learn from"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.agent, args.max_steps, args.seed)
