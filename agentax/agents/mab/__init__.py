"""Multi-armed bandit agents, with the parameters and observation names of reinforced-lib."""

from agentax.agents.mab.e_greedy import EGreedy, EGreedyState

__all__ = ["EGreedy", "EGreedyState"]
