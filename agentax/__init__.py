"""agentax: reinforcement-learning agents in JAX.

Every agent is a triple of pure, jit-compiled functions (``init``, ``update``, ``sample``) over a
chex dataclass state, described by gymnasium spaces; :class:`RLib` runs them in a loop.
"""

from agentax.errors import AgentaxError
from agentax.rlib import RLib

__version__ = "0.1.0"

__all__ = ["AgentaxError", "RLib", "__version__"]
