"""Agents: the contract (:class:`BaseAgent`, :class:`AgentState`) and its implementations."""

from agentax.agents.base import AgentState, BaseAgent

__all__ = ["AgentState", "BaseAgent"]
