"""TD3 and SAC learn Pendulum-v1 through the facade, and hold it greedily.

Each runs a real ``gymnasium`` Pendulum-v1 against ``RLib`` with the ``Gymnasium`` extension and
the agent's default hyperparameters, with 64-unit networks to keep the run short; seeds are
fixed. After the training budget (episodes of 200 steps), the last 10 training episodes and 10
greedy episodes must each average at least -250 (a random policy averages about -1200).
"""

import gymnasium as gym
import pytest

from agentax import RLib
from agentax.agents.deep import SAC, TD3, DDPGActor, DDPGCritic, SACActor
from agentax.extensions import Gymnasium
from agentax.training import evaluate, train

pytestmark = pytest.mark.slow

HIDDEN = (64, 64)


@pytest.mark.parametrize(
    "agent_type, actor, episodes",
    [(TD3, DDPGActor((1,), -2.0, 2.0, HIDDEN), 60), (SAC, SACActor((1,), HIDDEN), 40)],
    ids=["TD3", "SAC"],
)
def test_learns_pendulum_and_keeps_it_greedily(agent_type, actor, episodes):
    rl = RLib(agent_type=agent_type, agent_params={"q_network": DDPGCritic(HIDDEN), "a_network": actor},
              ext_type=Gymnasium, ext_params={"env_id": "Pendulum-v1"})
    rl.init(0)
    env = gym.make("Pendulum-v1")
    stats = train(rl, env, episodes * 200, seed=0, progress=False)
    assert len(stats.returns) == episodes
    assert stats.mean_return(10) >= -250.0, f"last 10 training returns {stats.returns[-10:]}"
    greedy = evaluate(rl, env, 10, seed=1)
    assert greedy.mean_return() >= -250.0, f"greedy returns {greedy.returns}"
