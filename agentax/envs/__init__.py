"""Built-in environments: stochastic and linear contextual bandit problems written in JAX."""

from agentax.envs.bandit import BanditProblem, Trajectory, simulate
from agentax.envs.contextual import LinearContextualProblem, simulate_contextual

__all__ = ["BanditProblem", "LinearContextualProblem", "Trajectory", "simulate", "simulate_contextual"]
