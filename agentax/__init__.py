"""agentax: reinforcement-learning agents in JAX.

Every agent is a triple of pure, jit-compiled functions (``init``, ``update``, ``sample``) over a
chex dataclass state, described by gymnasium spaces; :class:`RLib` runs them in a loop.

:class:`RLib` is imported on first use, so that importing a lower layer alone (for example
``agentax.utils``) does not import the facade and, through it, ``agentax.agents``.
"""

from typing import TYPE_CHECKING

from agentax.errors import AgentaxError

if TYPE_CHECKING:
    from agentax.rlib import RLib

__version__ = "0.1.0"

__all__ = ["AgentaxError", "RLib", "__version__"]


def __getattr__(name: str):
    if name == "RLib":
        from agentax.rlib import RLib

        return RLib
    raise AttributeError(f"module 'agentax' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
