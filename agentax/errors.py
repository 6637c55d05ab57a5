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
    "ExtensionMethodError",
    "EagerObservationWarning",
    "StepRuntimeError",
    "NonFiniteStateError",
    "CheckpointError",
    "CheckpointNotFoundError",
    "NotACheckpointError",
    "CorruptCheckpointError",
    "CheckpointVersionError",
    "CheckpointTypeError",
    "CheckpointParameterError",
    "CheckpointMismatchError",
    "LoggerTypeError",
    "LogSourceError",
    "UnsupportedLogTypeError",
    "LoggersFinishedError",
    "BridgeRequestError",
    "UnknownTicketError",
]


class AgentaxError(Exception):
    """Base class of every error agentax raises for a user's mistake."""


class AgentTypeError(AgentaxError, TypeError):
    """The agent type is not a subclass of :class:`agentax.agents.BaseAgent`."""

    def __init__(self, given: object) -> None:
        super().__init__(
            f"agent_type must be a subclass of agentax.agents.BaseAgent, got {given!r}"
        )


class ExtensionTypeError(AgentaxError, TypeError):
    """The extension type is not a subclass of :class:`agentax.extensions.BaseExt`."""

    def __init__(self, given: object) -> None:
        super().__init__(
            f"ext_type must be a subclass of agentax.extensions.BaseExt, got {given!r}"
        )


class NoAgentError(AgentaxError):
    """An operation needs an agent, but none was set."""

    def __init__(self) -> None:
        super().__init__(
            "no agent is set: pass agent_type to RLib(...) or call set_agent(...) first"
        )


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
        super().__init__(
            f"{owner} takes no parameter {', '.join(map(repr, names))}; it takes {accepted}"
        )


class IncompatibleSpacesError(AgentaxError, TypeError):
    """A space an extension provides does not match the space the agent expects."""

    def __init__(self, what: str, provided: object, expected: object) -> None:
        super().__init__(
            f"{what}: the extension provides {provided}, but the agent expects {expected}"
        )


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
        super().__init__(
            f"the mask excludes all {n_arms} arms; at least one arm must stay available"
        )


class UnsupportedAgentError(AgentaxError, TypeError):
    """A wrapper was given something it cannot wrap (not an agent object, or the wrong action space)."""

    def __init__(self, wrapper: str, given: object, expected: str) -> None:
        super().__init__(f"{wrapper} cannot wrap {given!r}; expected {expected}")


class NetworkOutputError(AgentaxError, ValueError):
    """A user's network does not give outputs of the shape the agent needs."""

    def __init__(
        self, network: str, given_shape: tuple, input_shape: tuple, expected: object
    ) -> None:
        super().__init__(
            f"{network} returns shape {given_shape} for an input of shape {input_shape}; expected {expected}"
        )


class ExtensionMethodError(AgentaxError):
    """A user's extension method raised; the original exception is chained as ``__cause__``.

    The call that ran it changed nothing: every instance is as before it. ``method`` is the
    method's name, ``"Extension.method"``.
    """

    def __init__(self, method: str, error: BaseException) -> None:
        super().__init__(f"the extension method {method} raised {type(error).__name__}: {error}")
        self.method = method


class EagerObservationWarning(UserWarning):
    """An observation method JAX cannot trace now runs eagerly, in plain Python, before each step."""


class StepRuntimeError(AgentaxError, RuntimeError):
    """The compiled step failed while running (e.g. a raising ``jax.pure_callback``).

    The original error is chained as ``__cause__``; every instance is as before the call.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"the step failed while running, and no instance was changed: {error}")


class NonFiniteStateError(ObservationError):
    """An update would have made an agent's state non-finite; the facade refused the step.

    Each observation was within the agent's bounds, but together (or with the state) they were
    too extreme: e.g. rewards far larger than the agent's earlier ones. The instance was kept as it
    was before the call.
    """

    def __init__(self, where: str, leaf: str, instance: object) -> None:
        AgentaxError.__init__(
            self,
            f"the observations given to instance {instance} would make the state entry {leaf!r} of {where} "
            f"non-finite (inf or NaN); the step was refused and the instance kept as it was: give values "
            f"of a smaller magnitude (e.g. rescale them)",
        )


class CheckpointError(AgentaxError):
    """A checkpoint cannot be written or read; the subclasses say why."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint path does not exist."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no checkpoint at {path!r}: the file does not exist")


class NotACheckpointError(CheckpointError, ValueError):
    """The file is not an agentax checkpoint."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path!r} is not an agentax checkpoint: {reason}")


class CorruptCheckpointError(CheckpointError, ValueError):
    """The checkpoint was changed, truncated or holds something other than plain arrays."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"refusing to load {path!r}: {problem}; nothing from it was used")


class CheckpointVersionError(CheckpointError, ValueError):
    """The checkpoint was written in a format version this agentax cannot read."""

    def __init__(self, path: str, version: object, supported: int) -> None:
        super().__init__(
            f"{path!r} has checkpoint format version {version!r}; this agentax reads version {supported}"
        )


class CheckpointTypeError(CheckpointError, TypeError):
    """The agent or extension a checkpoint names is not on the allow-list of classes it may use."""

    def __init__(self, kind: str, name: str, argument: str) -> None:
        super().__init__(
            f"the checkpoint names the {kind} {name!r}, which is neither one of agentax's own nor registered; "
            f"pass {argument}=<the class> to RLib.load, or call agentax.checkpoint.register(<the class>) first"
        )


class CheckpointParameterError(CheckpointError, TypeError):
    """Parameters that are objects, not data, were not stored and must be given to ``load`` again."""

    def __init__(self, owner: str, argument: str, missing: dict[str, str]) -> None:
        listed = ", ".join(f"{name!r} ({kind})" for name, kind in missing.items())
        super().__init__(
            f"{owner} parameters {listed} are objects, not data, so the checkpoint does not hold them: "
            f"pass them again, e.g. RLib.load(path, {argument}={{{', '.join(repr(n) + ': ...' for n in missing)}}})"
        )


class CheckpointMismatchError(CheckpointError, ValueError):
    """The arrays in a checkpoint do not fit the agent rebuilt from its parameters."""

    def __init__(self, what: str, stored: object, expected: object) -> None:
        super().__init__(
            f"the checkpoint's {what} is {stored}, but the agent built from the loaded parameters expects "
            f"{expected}; were parameters changed that set array shapes?"
        )


class LoggerTypeError(AgentaxError, TypeError):
    """A logger type is not a subclass of :class:`agentax.loggers.BaseLogger`."""

    def __init__(self, given: object) -> None:
        super().__init__(
            f"logger_types must be subclasses of agentax.loggers.BaseLogger, got {given!r}"
        )


class LogSourceError(AgentaxError, ValueError):
    """A logger source is malformed, or names nothing the facade can log."""

    def __init__(self, source: object, problem: str, expected: object) -> None:
        super().__init__(f"logger source {source!r} {problem}; expected {expected}")


class UnsupportedLogTypeError(AgentaxError, TypeError):
    """A logger was given a kind of value (scalar, array, dict, other) it does not log."""

    def __init__(self, logger: type, value_type: type) -> None:
        super().__init__(f"{logger.__name__} cannot log a value of type {value_type.__name__}")


class LoggersFinishedError(AgentaxError):
    """A value was logged after :meth:`agentax.RLib.finish` closed the loggers."""

    def __init__(self) -> None:
        super().__init__(
            "the loggers are finished (finish() was called): create a new RLib to log again"
        )


class BridgeRequestError(AgentaxError, ValueError):
    """A request to the agentax bridge that it cannot serve (malformed, unknown command, wrong fields)."""

    def __init__(self, problem: str, expected: str) -> None:
        super().__init__(f"bad bridge request: {problem}; expected {expected}")


class UnknownTicketError(AgentaxError, KeyError):
    """:meth:`agentax.RLib.learn` got a ticket that names no pending decision."""

    def __init__(self, ticket: object, reason: str) -> None:
        super().__init__(
            f"ticket {ticket!r} {reason}; expected a ticket decide() returned whose outcome was not learned yet"
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])
