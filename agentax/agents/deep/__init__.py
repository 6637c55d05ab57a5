"""Deep reinforcement-learning agents, with the parameters and observation names of reinforced-lib."""

from agentax.agents.deep.dqn import DDQN, DQN, DQNState
from agentax.agents.deep.expected_sarsa import ExpectedSarsa, ExpectedSarsaState
from agentax.agents.deep.td import double_q_learning, expected_sarsa, huber_loss, l2_loss, q_learning

__all__ = [
    "DDQN",
    "DQN",
    "DQNState",
    "ExpectedSarsa",
    "ExpectedSarsaState",
    "double_q_learning",
    "expected_sarsa",
    "huber_loss",
    "l2_loss",
    "q_learning",
]
