"""One exception hierarchy for every mistake a user can make with agentax.

Every error derives from :class:`AgentaxError`; where a builtin exception fits, the error derives
from it too (``except KeyError`` still catches an unknown instance id). Messages name what was
wrong and what was expected.
"""

from __future__ import annotations

__all__ = [
    "AgentaxError",
    "AgentTypeError",
    "ExtensionTypeError",
    "NoAgentError",
    "ForbiddenAgentChangeError",
    "UnknownInstanceError",
    "MissingParameterError",
    "UnknownParameterError",
    "IncompatibleSpacesError",
    "UnsupportedSpaceError",
    "MissingObservationError",
    "ObservationError",
    "AllArmsMaskedError",
    "UnsupportedAgentError",
    "NetworkOutputError",
    "BridgeRequestError",
]


class AgentaxError(Exception):
    """Base class of every error agentax raises for a user's mistake."""


class AgentTypeError(AgentaxError, TypeError):
    """The agent type is not a subclass of :class:`agentax.agents.BaseAgent`."""

    def __init__(self, given: object) -> None:
        super().__init__(f"agent_type must be a subclass of agentax.agents.BaseAgent, got {given!r}")


class ExtensionTypeError(AgentaxError, TypeError):
    """The extension type is not a subclass of :class:`agentax.extensions.BaseExt`."""

    def __init__(self, given: object) -> None:
        super().__init__(f"ext_type must be a subclass of agentax.extensions.BaseExt, got {given!r}")


class NoAgentError(AgentaxError):
    """An operation needs an agent, but none was set."""

    def __init__(self) -> None:
        super().__init__("no agent is set: pass agent_type to RLib(...) or call set_agent(...) first")


class ForbiddenAgentChangeError(AgentaxError):
    """The agent or extension was changed after instances had been created."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"cannot change the {what} after agent instances exist: their states were built for the "
            f"current one; create a new RLib instead"
        )


class UnknownInstanceError(AgentaxError, KeyError):
    """An agent instance id that :meth:`RLib.init` never returned."""

    def __init__(self, agent_id: object, n_instances: int) -> None:
        expected = f"an id in 0..{n_instances - 1}" if n_instances else "no id: call init() first"
        super().__init__(f"unknown agent instance id {agent_id!r}; expected {expected}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class MissingParameterError(AgentaxError, TypeError):
    """A constructor parameter has no user value, no extension value and no default."""

    def __init__(self, agent: str, name: str, space: object) -> None:
        super().__init__(
            f"{agent} needs parameter {name!r} ({space}): pass it in agent_params, or use an "
            f"extension with a @parameter function named {name!r}"
        )


class UnknownParameterError(AgentaxError, TypeError):
    """A parameter the agent's or extension's constructor does not take."""

    def __init__(self, owner: str, names: list[str], accepted: list[str]) -> None:
        super().__init__(f"{owner} takes no parameter {', '.join(map(repr, names))}; it takes {accepted}")


class IncompatibleSpacesError(AgentaxError, TypeError):
    """A space an extension provides does not match the space the agent expects."""

    def __init__(self, what: str, provided: object, expected: object) -> None:
        super().__init__(f"{what}: the extension provides {provided}, but the agent expects {expected}")


class UnsupportedSpaceError(AgentaxError, TypeError):
    """A gymnasium space type agentax cannot map observations through."""

    def __init__(self, what: str, space: object) -> None:
        super().__init__(
            f"{what} has space {space}, which agentax cannot handle; expected Box, Discrete, "
            f"MultiBinary, MultiDiscrete, or Dict/Tuple of those"
        )


class MissingObservationError(AgentaxError, TypeError):
    """The agent needs an observation that was neither given nor computable."""

    def __init__(self, name: str, where: str, hint: str = "") -> None:
        message = f"missing observation {name!r} needed by {where}"
        super().__init__(f"{message}; {hint}" if hint else message)


class ObservationError(AgentaxError, ValueError):
    """An observation has the wrong shape, type or value."""

    def __init__(self, name: str, problem: str, expected: object) -> None:
        super().__init__(f"observation {name!r} {problem}; expected {expected}")


class AllArmsMaskedError(AgentaxError, ValueError):
    """A mask excludes every arm, so no action can be taken."""

    def __init__(self, n_arms: int) -> None:
        super().__init__(f"the mask excludes all {n_arms} arms; at least one arm must stay available")


class UnsupportedAgentError(AgentaxError, TypeError):
    """A wrapper was given something it cannot wrap (not an agent object, or the wrong action space)."""

    def __init__(self, wrapper: str, given: object, expected: str) -> None:
        super().__init__(f"{wrapper} cannot wrap {given!r}; expected {expected}")


class NetworkOutputError(AgentaxError, ValueError):
    """A user's network does not give outputs of the shape the agent needs."""

    def __init__(self, network: str, given_shape: tuple, input_shape: tuple, expected: object) -> None:
        super().__init__(
            f"{network} returns shape {given_shape} for an input of shape {input_shape}; expected {expected}"
        )


class BridgeRequestError(AgentaxError, ValueError):
    """A request to the agentax bridge that it cannot serve (malformed, unknown command, wrong fields)."""

    def __init__(self, problem: str, expected: str) -> None:
        super().__init__(f"bad bridge request: {problem}; expected {expected}")
