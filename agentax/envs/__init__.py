"""Built-in environments: stochastic bandit problems written in JAX."""

from agentax.envs.bandit import BanditProblem, Trajectory, simulate

__all__ = ["BanditProblem", "Trajectory", "simulate"]
