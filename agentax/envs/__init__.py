"""Built-in environments written in JAX.

Stochastic and linear contextual bandit problems, CartPole-v1, an 802.11ax rate-adaptation
simulator.

The compiled loops that run an agent on the bandit problems are in :mod:`agentax.simulate`.
"""

from agentax.envs import cartpole, wifi
from agentax.envs.bandit import BanditProblem
from agentax.envs.cartpole import CartPoleState
from agentax.envs.contextual import LinearContextualProblem

__all__ = ["BanditProblem", "CartPoleState", "LinearContextualProblem", "cartpole", "wifi"]
