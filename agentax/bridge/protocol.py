"""The bridge's message format: msgpack maps over ZeroMQ, one request and one reply per message.

Every request is a msgpack map with ``version`` (one of :data:`SUPPORTED_VERSIONS`) and
``command``; every reply carries the request's ``version`` and ``ok``, then the command's results, or ``error`` (the
exception's class name) and ``message`` (what was wrong and what was expected). The commands
and their fields are listed in :data:`COMMANDS` and in ``docs/simulators.rst``.
"""

from __future__ import annotations

import numbers
from typing import Any

import msgpack

from agentax.errors import BridgeRequestError

__all__ = [
    "COMMANDS",
    "PROTOCOL_VERSION",
    "SINCE",
    "SUPPORTED_VERSIONS",
    "check_since",
    "decode",
    "encode",
    "error_reply",
    "field",
    "id_list",
]

PROTOCOL_VERSION = 2
"""Raised whenever a request or reply changes meaning or a command is added (version 2 added ``save`` and ``load``)."""

SUPPORTED_VERSIONS = (1, 2)
"""The versions served: each request is answered in its own version; any other version is refused."""

COMMANDS = {
    "info": "() -> protocol, agent, observations, n_actions, instances",
    "create": "(seeds: [int]) -> ids: [int]",
    "sample": "(ids: [int], observations: {name: [value per id]}, shared: {name: value} = {}, "
    "is_training: bool = true) -> actions: [action per id]",
    "close": "(ids: [int]) -> closed: [int]",
    "save": "(path: str = <dated name>) -> path: str, ids: [int]",
    "load": "(path: str) -> agent, instances, ids: [int]",
}
"""Each command's request fields and reply fields (paths are relative to the bridge's ``--checkpoint-dir``)."""

SINCE = {"save": 2, "load": 2}
"""The version that added a command (the others are in every version)."""


def encode(message: dict[str, Any]) -> bytes:
    """Pack a message (NumPy scalars and arrays become msgpack numbers and lists)."""
    return msgpack.packb(message, default=_to_builtin)


def _to_builtin(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if tolist is None:
        raise TypeError(f"cannot encode {type(value).__name__} in a bridge message")
    return tolist()


def decode(payload: bytes) -> dict[str, Any]:
    """Unpack a request and check its ``version`` and ``command``.

    Raises:
      BridgeRequestError: the bytes are not one msgpack map of a known version with a command.
    """
    try:
        request = msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except Exception as error:  # msgpack raises several unrelated types for corrupt input
        raise BridgeRequestError(
            f"the message is not msgpack ({type(error).__name__}: {error})", "one msgpack map"
        ) from error
    if not isinstance(request, dict):
        raise BridgeRequestError(
            f"the message is a msgpack {type(request).__name__}", "a msgpack map"
        )
    version = request.get("version")
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        raise BridgeRequestError(
            f"protocol version {version!r}", f"version {' or '.join(map(str, SUPPORTED_VERSIONS))}"
        )
    command = request.get("command")
    if command not in COMMANDS:
        raise BridgeRequestError(f"unknown command {command!r}", f"one of {sorted(COMMANDS)}")
    return request


def check_since(request: dict[str, Any]) -> None:
    """Refuse a (decoded) request for a command its version does not have."""
    command, version = request["command"], request["version"]
    if version < SINCE.get(command, 1):
        raise BridgeRequestError(
            f"command {command!r} in protocol version {version}",
            f"version {SINCE[command]} or later",
        )


def field(
    request: dict[str, Any],
    name: str,
    kind: type | tuple[type, ...],
    expected: str,
    default: Any = ...,
) -> Any:
    """The request's field ``name``, checked to be of ``kind``."""
    if name not in request:
        if default is not ...:
            return default
        raise BridgeRequestError(f"{request['command']} has no field {name!r}", expected)
    value = request[name]
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in _as_tuple(kind):
        raise BridgeRequestError(f"{request['command']}.{name} is {value!r:.80}", expected)
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def id_list(request: dict[str, Any], name: str) -> list[int]:
    """The request's non-empty list of integers ``name``."""
    values = field(request, name, list, f"{name}: a non-empty list of integers")
    if not values or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values
    ):
        raise BridgeRequestError(
            f"{request['command']}.{name} is {values!r:.80}",
            f"{name}: a non-empty list of integers",
        )
    return values


def error_reply(error: Exception, version: int = PROTOCOL_VERSION) -> dict[str, Any]:
    """The reply (in ``version``) to a request that failed: the error's class name and its message."""
    return {"version": version, "ok": False, "error": type(error).__name__, "message": str(error)}
