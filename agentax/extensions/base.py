"""Extensions: domain knowledge that turns what an environment gives into what an agent needs.

An extension declares the raw observations it understands (``observation_space``) and two kinds
of methods:

* ``@observation`` methods compute an observation an agent needs from raw observations;
  their parameters are filled by name from the raw observations (and the last ``action``), and
  positionally from positional raw observations. Written with ``jax.numpy``, they run inside the
  facade's compiled step; plain-Python ones (``float()``, NumPy, a simulator object) run eagerly
  on host values before it (``@observation(eager=True)``, or detected at the first call).
* ``@parameter`` methods supply a constructor argument of the agent (e.g. ``n_arms``).

Extensions hold no shared mutable state: the facade derives everything per instance and never
writes to the extension or its class.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from agentax.errors import IncompatibleSpacesError, MissingParameterError
from agentax.spaces import compatible

__all__ = ["BaseExt", "observation", "parameter", "ObservationInfo", "ParameterInfo"]


@dataclasses.dataclass(frozen=True)
class _FunctionInfo:
    """What an ``@observation`` or ``@parameter`` method provides: a name and its space.

    ``type`` may be a function of the extension (``lambda ext: ...``) when it depends on the
    extension's own parameters, e.g. a context of ``n_arms`` values.
    """

    name: str
    type: gym.spaces.Space | Callable[[Any], gym.spaces.Space] | None

    def space_of(self, ext: object) -> gym.spaces.Space | None:
        """The space for one extension object."""
        return self.type(ext) if callable(self.type) else self.type


@dataclasses.dataclass(frozen=True)
class ObservationInfo(_FunctionInfo):
    """The ``observation_info`` of an ``@observation`` method; ``eager``: run it in plain Python."""

    eager: bool = False


@dataclasses.dataclass(frozen=True)
class ParameterInfo(_FunctionInfo):
    """The ``parameter_info`` of a ``@parameter`` method."""


def provided_space(method: Callable) -> gym.spaces.Space | None:
    """The space an ``@observation`` or ``@parameter`` method (bound to its extension) provides."""
    info = getattr(method, "observation_info", None) or method.parameter_info
    return info.space_of(method.__self__)


def observation(
    observation_name: str | None = None,
    observation_type: gym.spaces.Space | Callable[[Any], gym.spaces.Space] | None = None,
    *,
    eager: bool = False,
):
    """Mark a method as computing the observation ``observation_name`` (default: its own name).

    Args:
      observation_name: the observation it computes.
      observation_type: the space of the values it returns (or a function of the extension that
        gives it); the facade checks when it plans a step that it matches the space the agent
        expects, and checks an eager method's results against it at every call.
      eager: the method is plain Python (it calls ``float()``/``int()``/NumPy on its arguments,
        branches on their values, reads a simulator object): the facade calls it on host values
        before each compiled step, once per instance stepped, and passes its result in. Without
        the flag, a method JAX cannot trace is switched to eager at its first call, with an
        :class:`~agentax.errors.EagerObservationWarning`.

    The decorated function gets an ``observation_info`` attribute (:class:`ObservationInfo`:
    ``.name``, ``.type``, ``.eager``).
    """

    def mark(function: Callable) -> Callable:
        function.observation_info = ObservationInfo(
            observation_name or function.__name__, observation_type, eager
        )
        return function

    return mark


def parameter(
    parameter_name: str | None = None,
    parameter_type: gym.spaces.Space | Callable[[Any], gym.spaces.Space] | None = None,
):
    """Mark a method as supplying the agent constructor parameter ``parameter_name``.

    The decorated function gets a ``parameter_info`` attribute (:class:`ParameterInfo`: ``.name``,
    ``.type``).
    """

    def mark(function: Callable) -> Callable:
        function.parameter_info = ParameterInfo(parameter_name or function.__name__, parameter_type)
        return function

    return mark


def _marked(obj: object, attribute: str, kind: type) -> dict[str, Callable]:
    functions = {}
    for attr in dir(type(obj)):
        if isinstance(getattr(type(obj), attr, None), property):
            continue
        member = getattr(obj, attr, None)
        info = getattr(member, attribute, None)
        if isinstance(info, kind):
            functions[info.name] = member
    return functions


class BaseExt:
    """Base class of extensions.

    Subclasses set ``observation_space`` (a :class:`gymnasium.spaces.Dict` of the raw observations
    they accept, by name) and define ``@observation`` and ``@parameter`` methods.

    Positional arguments given to :meth:`agentax.RLib.sample` are routed one of two ways:

    * an extension that names them (``positional_names``, or an ``argument_names`` override, as
      :class:`~agentax.extensions.Gymnasium` does for ``*env.step(action)``) gives the ``i``-th
      value the ``i``-th name, exactly as if it was given by that name;
    * otherwise, as in reinforced-lib, they are passed positionally to every observation method
      that takes positional parameters (in order, as many as it takes; all of them with
      ``*args``), besides the values given by name.
    """

    observation_space: gym.spaces.Space = gym.spaces.Dict({})
    positional_names: tuple[str, ...] | None = None

    def __init__(self) -> None:
        self._observation_functions = _marked(self, "observation_info", ObservationInfo)
        self._parameter_functions = _marked(self, "parameter_info", ParameterInfo)

    @property
    def observation_functions(self) -> dict[str, Callable]:
        """The ``@observation`` methods of this extension, by the observation they compute."""
        return dict(self._observation_functions)

    @property
    def parameter_functions(self) -> dict[str, Callable]:
        """The ``@parameter`` methods of this extension, by the parameter they supply."""
        return dict(self._parameter_functions)

    def argument_names(self, n_args: int) -> tuple[str, ...]:
        """Names given to ``n_args`` positional raw observations, in order.

        The default is ``positional_names``, or no names (``()``): then positional values are
        passed positionally to the observation methods. An extension whose callers pass
        different tuples (e.g. what ``env.reset()`` and ``env.step()`` return) overrides it to
        name each form.
        """
        return tuple(self.positional_names or ())


def compose_agent_params(
    agent_type: type,
    agent_parameter_space: gym.spaces.Dict | None,
    user_parameters: dict[str, Any] | None,
    ext: BaseExt | None,
) -> dict[str, Any]:
    """Constructor arguments in order of precedence: user value, extension, default, else error.

    Raises:
      MissingParameterError: a parameter without a default is supplied by neither the user nor
        the extension.
      IncompatibleSpacesError: the extension supplies a parameter in a space that does not match.
    """
    parameters = dict(user_parameters or {})
    functions = ext.parameter_functions if ext is not None else {}
    signature = inspect.signature(agent_type.__init__).parameters
    for name, space in (agent_parameter_space.spaces if agent_parameter_space else {}).items():
        if name in parameters:
            continue
        if name in functions:
            provided = provided_space(functions[name])
            if not _same_kind(provided, space):
                raise IncompatibleSpacesError(f"parameter {name!r}", provided, space)
            parameters[name] = functions[name]()
        elif name in signature and signature[name].default is inspect.Parameter.empty:
            raise MissingParameterError(agent_type.__name__, name, space)
    for name, arg in signature.items():
        missing = name not in parameters and arg.default is inspect.Parameter.empty
        if name != "self" and missing and arg.kind not in (arg.VAR_POSITIONAL, arg.VAR_KEYWORD):
            if name in functions:
                parameters[name] = functions[name]()
            else:
                raise MissingParameterError(agent_type.__name__, name, "no space given")
    return parameters


def _same_kind(provided: gym.spaces.Space | None, expected: gym.spaces.Space | None) -> bool:
    if provided is None or expected is None or type(provided) is not type(expected):
        return provided is None or expected is None
    return not isinstance(expected, gym.spaces.Box) or compatible(provided, expected)
