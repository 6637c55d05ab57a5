"""Built-in environments written in JAX: stochastic and linear contextual bandit problems, CartPole-v1, an 802.11ax rate-adaptation simulator."""

from agentax.envs import cartpole, wifi
from agentax.envs.bandit import BanditProblem, Trajectory, simulate
from agentax.envs.cartpole import CartPoleState
from agentax.envs.contextual import LinearContextualProblem, simulate_contextual

__all__ = ["BanditProblem", "CartPoleState", "LinearContextualProblem", "Trajectory", "simulate", "cartpole", "simulate_contextual", "wifi"]
