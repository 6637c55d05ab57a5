"""The bridge's message format: msgpack maps over ZeroMQ, one request and one reply per message.

Every request is a msgpack map with ``version`` (:data:`PROTOCOL_VERSION`) and ``command``;
every reply carries ``version`` and ``ok``, then the command's results, or ``error`` (the
exception's class name) and ``message`` (what was wrong and what was expected). The commands
and their fields are listed in :data:`COMMANDS` and in ``docs/ns3.rst``.
"""

from __future__ import annotations

import numbers
from typing import Any

import msgpack

from agentax.errors import BridgeRequestError

__all__ = ["COMMANDS", "PROTOCOL_VERSION", "decode", "encode", "error_reply", "field", "id_list"]

PROTOCOL_VERSION = 1
"""Raised whenever a request or reply changes meaning; a request of another version is refused."""

COMMANDS = {
    "info": "() -> protocol, agent, observations, n_actions, instances",
    "create": "(seeds: [int]) -> ids: [int]",
    "sample": "(ids: [int], observations: {name: [value per id]}, shared: {name: value} = {}, "
    "is_training: bool = true) -> actions: [action per id]",
    "close": "(ids: [int]) -> closed: [int]",
}
"""Each command's request fields and reply fields."""


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
        raise BridgeRequestError(f"the message is not msgpack ({type(error).__name__}: {error})", "one msgpack map")
    if not isinstance(request, dict):
        raise BridgeRequestError(f"the message is a msgpack {type(request).__name__}", "a msgpack map")
    version = request.get("version")
    if version != PROTOCOL_VERSION:
        raise BridgeRequestError(f"protocol version {version!r}", f"version {PROTOCOL_VERSION}")
    command = request.get("command")
    if command not in COMMANDS:
        raise BridgeRequestError(f"unknown command {command!r}", f"one of {sorted(COMMANDS)}")
    return request


def field(request: dict[str, Any], name: str, kind: type | tuple[type, ...], expected: str, default: Any = ...) -> Any:
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
    if not values or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise BridgeRequestError(f"{request['command']}.{name} is {values!r:.80}", f"{name}: a non-empty list of integers")
    return values


def error_reply(error: Exception) -> dict[str, Any]:
    """The reply to a request that failed: the error's class name and its message."""
    return {"version": PROTOCOL_VERSION, "ok": False, "error": type(error).__name__, "message": str(error)}
