"""Contextual bandits: every arm is described by a feature vector at each step.

``sample(context)`` takes ``context`` of shape ``(n_arms, n_features)``;
``update(action, reward, action_context)`` takes the played arm, its reward and its feature
vector (shape ``(n_features,)``) as it was when the arm was chosen.
"""

from agentax.agents.contextual._linear import LinearState
from agentax.agents.contextual.lin_ts import LinTS
from agentax.agents.contextual.lin_ucb import LinUCB
from agentax.agents.contextual.neural_e_greedy import (
    NeuralEGreedy,
    NeuralEGreedyState,
    RewardNetwork,
)

__all__ = ["LinTS", "LinUCB", "LinearState", "NeuralEGreedy", "NeuralEGreedyState", "RewardNetwork"]
