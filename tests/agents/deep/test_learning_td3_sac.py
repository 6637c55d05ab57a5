"""TD3 and SAC learn Pendulum-v1 through the facade, and hold it greedily.

Each runs a real ``gymnasium`` Pendulum-v1 against ``RLib`` with the ``Gymnasium`` extension and
the agent's default hyperparameters, with 64-unit networks to keep the run short; seeds are
fixed. Training goes on in rounds of 5 episodes (200 steps each) until the last 10 episodes
average at least -250 (a random policy averages about -1200), within a budget of episodes; then
10 greedy episodes must average at least -250 too.
"""

import gymnasium as gym
import numpy as np
import pytest

from agentax import RLib
from agentax.agents.deep import SAC, TD3, DDPGActor, DDPGCritic, SACActor
from agentax.extensions import Gymnasium
from agentax.training import evaluate, train

pytestmark = pytest.mark.slow

HIDDEN, SOLVED, WINDOW, ROUND, MAX_EPISODES = (64, 64), -250.0, 10, 5, 80


@pytest.mark.parametrize(
    "agent_type, actor",
    [(TD3, DDPGActor((1,), -2.0, 2.0, HIDDEN)), (SAC, SACActor((1,), HIDDEN))],
    ids=["TD3", "SAC"],
)
def test_learns_pendulum_and_keeps_it_greedily(agent_type, actor):
    rl = RLib(
        agent_type=agent_type,
        agent_params={"q_network": DDPGCritic(HIDDEN), "a_network": actor},
        ext_type=Gymnasium,
        ext_params={"env_id": "Pendulum-v1"},
    )
    rl.init(0)
    env = gym.make("Pendulum-v1")
    returns = []
    while len(returns) < MAX_EPISODES and not (
        len(returns) >= WINDOW and np.mean(returns[-WINDOW:]) >= SOLVED
    ):
        returns += train(rl, env, ROUND * 200, seed=None if returns else 0, progress=False).returns
    assert np.mean(returns[-WINDOW:]) >= SOLVED, (
        f"{len(returns)} episodes, the last {WINDOW}: {returns[-WINDOW:]}"
    )
    greedy = evaluate(rl, env, WINDOW, seed=1)
    assert greedy.mean_return() >= SOLVED, (
        f"solved after {len(returns)} episodes; greedy returns {greedy.returns}"
    )
