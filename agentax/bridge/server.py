"""The bridge: an :class:`~agentax.RLib` answering requests that arrive over ZeroMQ.

:class:`Bridge` turns one request (bytes) into one reply (bytes) and never raises for anything
a client sends; :func:`serve` runs it behind a ZeroMQ ``ROUTER`` socket until asked to stop.
Requests are served one at a time, each as one call of the facade, so a request that fails or
a client that goes away in the middle of one leaves every instance as it was.

``save`` and ``load`` requests name files inside the bridge's checkpoint directory only.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

import gymnasium as gym
import numpy as np
import zmq

from agentax import checkpoint
from agentax.bridge.protocol import (
    PROTOCOL_VERSION,
    check_since,
    decode,
    encode,
    error_reply,
    field,
    id_list,
)
from agentax.errors import AgentaxError, BridgeRequestError
from agentax.rlib import RLib

__all__ = ["Bridge", "serve"]

MAX_MESSAGE_BYTES = 16 * 2**20
"""Larger messages are refused by ZeroMQ itself (the sender is disconnected)."""


class Bridge:
    """Serves the instances of one :class:`~agentax.RLib` to clients, one request at a time.

    Instance ids are the facade's. ``close`` retires an id (the facade keeps its state, a few
    numbers per instance; later requests naming it are refused). A checkpoint holds the open
    instances only, so the closed ones below the highest open id stay retired when it is loaded;
    closed ids above it are not in the file, and ``create`` issues them again after a load.

    Adding a command: a method ``_command(self, request) -> dict`` registered in
    ``self._commands`` and described in :data:`agentax.bridge.protocol.COMMANDS` (and
    :data:`~agentax.bridge.protocol.SINCE`) and ``docs/simulators.rst``.

    Args:
      rlib: the facade with its agent (and extension) set.
      checkpoint_dir: the directory ``save`` and ``load`` requests may name files in (relative
        paths); without it they are refused.
      closed: ids already retired (e.g. of a loaded checkpoint, see :meth:`from_checkpoint`).
    """

    def __init__(
        self,
        rlib: RLib,
        *,
        checkpoint_dir: str | os.PathLike | None = None,
        closed: Iterable[int] = (),
    ) -> None:
        self.rlib = rlib
        self.checkpoint_dir = None if checkpoint_dir is None else os.path.realpath(checkpoint_dir)
        self._closed: set[int] = set(closed)
        self._commands: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "info": self._info,
            "create": self._create,
            "sample": self._sample,
            "close": self._close,
            "save": self._save,
            "load": self._load,
        }

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike, *, checkpoint_dir: str | os.PathLike | None = None
    ) -> Bridge:
        """A bridge serving the instances saved in ``path`` (by :meth:`save`), the others retired.

        Raises:
          CheckpointError: ``path`` cannot be loaded (see :meth:`agentax.RLib.load`).
        """
        rlib, closed = _loaded(os.fspath(path))
        return cls(rlib, checkpoint_dir=checkpoint_dir, closed=closed)

    def save(self, path: str | os.PathLike) -> tuple[str, list[int]]:
        """Save the open instances to ``path`` (taken as it is) with :meth:`agentax.RLib.save`.

        Returns:
          The path written and the ids saved.

        Raises:
          BridgeRequestError: instances were created but all of them are closed.
        """
        ids = self.open_ids()
        if not ids and self.rlib.n_instances:
            raise BridgeRequestError(
                "every instance is closed", "at least one open instance to save"
            )
        return self.rlib.save(path, agent_ids=ids if self._closed else None), ids

    def open_ids(self) -> list[int]:
        """The ids of the instances not closed."""
        return [i for i in range(self.rlib.n_instances) if i not in self._closed]

    def handle(self, payload: bytes) -> bytes:
        """The reply to one request; errors become error replies, so this never raises for bad input."""
        version = PROTOCOL_VERSION
        try:
            request = decode(payload)
            version = request["version"]
            check_since(request)
            reply = {"version": version, "ok": True, **self._commands[request["command"]](request)}
        except (AgentaxError, ValueError, TypeError, OSError) as error:
            reply = error_reply(error, version)
        except (
            Exception
        ) as error:  # a bug must not take the other clients down: report and keep serving
            traceback.print_exc(file=sys.stderr)
            reply = error_reply(error, version)
        return encode(reply)

    def _info(self, request: dict[str, Any]) -> dict[str, Any]:
        space = self.rlib.observation_space
        action_space = self.rlib.action_space
        return {
            "protocol": PROTOCOL_VERSION,
            "agent": type(self.rlib.agent).__name__,
            "observations": sorted(space.spaces) if isinstance(space, gym.spaces.Dict) else [],
            "n_actions": int(action_space.n)
            if isinstance(action_space, gym.spaces.Discrete)
            else None,
            "instances": self.rlib.n_instances - len(self._closed),
        }

    def _create(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"ids": [self.rlib.init(seed) for seed in id_list(request, "seeds")]}

    def _sample(self, request: dict[str, Any]) -> dict[str, Any]:
        ids = self._open_ids(request)
        is_training = field(
            request, "is_training", bool, "is_training: true or false", default=True
        )
        given = _observations(request, len(ids))
        agent_id = ids[0] if len(ids) == 1 else ids  # one id: the facade's single-instance step
        return {
            "actions": np.atleast_1d(
                self.rlib.sample(agent_id=agent_id, is_training=is_training, **given)
            )
        }

    def _close(self, request: dict[str, Any]) -> dict[str, Any]:
        ids = self._open_ids(request)
        self._closed.update(ids)
        return {"closed": ids}

    def _save(self, request: dict[str, Any]) -> dict[str, Any]:
        root = self._checkpoint_root(request)
        name = field(
            request, "path", str, "path: a file name in the checkpoint directory", default=None
        )
        path = checkpoint.default_path(root) if name is None else _inside(root, name)
        written, ids = self.save(path)
        return {"path": os.path.relpath(written, root), "ids": ids}

    def _load(self, request: dict[str, Any]) -> dict[str, Any]:
        root = self._checkpoint_root(request)
        path = _inside(
            root, field(request, "path", str, "path: a file name in the checkpoint directory")
        )
        self.rlib, closed = _loaded(path)  # replaced only once the whole file has loaded
        self._closed = set(closed)
        return {
            "agent": type(self.rlib.agent).__name__,
            "instances": self.rlib.n_instances - len(self._closed),
            "ids": self.open_ids(),
        }

    def _checkpoint_root(self, request: dict[str, Any]) -> str:
        if self.checkpoint_dir is None:
            raise BridgeRequestError(
                f"{request['command']} on a bridge without a checkpoint directory",
                "a bridge started with --checkpoint-dir DIR",
            )
        return self.checkpoint_dir

    def _open_ids(self, request: dict[str, Any]) -> list[int]:
        ids = id_list(request, "ids")
        closed = [i for i in ids if i in self._closed]
        if closed:
            raise BridgeRequestError(
                f"instances {closed} were closed", "ids of open instances (from create)"
            )
        return ids


def _loaded(path: str) -> tuple[RLib, list[int]]:
    """The facade saved in ``path`` and the ids it does not hold (retired when saved)."""
    rlib = RLib.load(path)
    saved = set(checkpoint.read(path)[1]["ids"].tolist())
    return rlib, [i for i in range(rlib.n_instances) if i not in saved]


def _inside(root: str, name: str) -> str:
    """``root/name`` (``.npz`` appended when missing), refused if it leads out of ``root``.

    ``..``, an absolute path or a symbolic link pointing out all lead out once resolved.
    """
    if not name.endswith(checkpoint.SUFFIX):
        name += checkpoint.SUFFIX
    path = os.path.realpath(os.path.join(root, name)) if "\0" not in name else None
    if path is None or os.path.commonpath([root, path]) != root:
        raise BridgeRequestError(
            f"path {name!r} leads out of the checkpoint directory",
            "a relative path inside it, e.g. 'run-1.npz'",
        )
    return path


def _observations(request: dict[str, Any], k: int) -> dict[str, Any]:
    """The request's observations for the facade: per-id lists (and shared values) for ``k`` instances.

    For one instance the values are passed as they are (a number stays a Python number, the
    facade's fastest input); for ``k`` the shared ones are broadcast along a leading axis.
    """
    per_id = field(
        request, "observations", dict, "observations: a map from names to one value per id"
    )
    shared = field(
        request, "shared", dict, "shared: a map from names to values shared by all ids", default={}
    )
    both = sorted(shared.keys() & per_id.keys())
    if both:
        raise BridgeRequestError(
            f"observations {both} are both per id and shared", "each observation once"
        )
    for name, values in per_id.items():
        if not isinstance(values, list) or len(values) != k:
            raise BridgeRequestError(
                f"observation {name!r} is {values!r:.80}", f"a list of {k} values, one per id"
            )
    given = {name: _value(name, values[0] if k == 1 else values) for name, values in per_id.items()}
    for name, value in shared.items():
        value = _value(name, value)
        given[name] = value if k == 1 else np.broadcast_to(value, (k,) + np.shape(value))
    return given


def _value(name: str, value: Any) -> Any:
    """A number as it is (the facade's fastest input), a list as a NumPy array; anything else is refused."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    array = np.asarray(value) if isinstance(value, list) else None
    if array is None or array.dtype.kind not in "iuf":
        raise BridgeRequestError(
            f"observation {name!r} is {value!r:.80}", "numbers, or lists of numbers"
        )
    return array


def serve(
    bridge: Bridge,
    endpoint: str,
    *,
    stop: threading.Event,
    ready: Callable[[str], None] | None = None,
    poll_ms: int = 100,
) -> None:
    """Answer requests at ``endpoint`` until ``stop`` is set (checked every ``poll_ms``).

    The socket is a ``ROUTER``: clients are ``REQ`` sockets (or ``DEALER`` sockets sending an
    empty delimiter frame before the request). A reply to a client that has gone is dropped.

    Args:
      bridge: what answers.
      endpoint: a ZeroMQ endpoint to bind, e.g. ``tcp://127.0.0.1:5555``, ``tcp://127.0.0.1:*``
        (a free port) or ``ipc:///tmp/agentax-bridge``.
      stop: set it (e.g. from a SIGTERM handler) to return.
      ready: called with the bound endpoint (the real port for ``*``) once requests are accepted.
    """
    context = zmq.Context()
    socket = context.socket(zmq.ROUTER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
    try:
        socket.bind(endpoint)
        if ready is not None:
            ready(socket.getsockopt_string(zmq.LAST_ENDPOINT))
        while not stop.is_set():
            if socket.poll(poll_ms, zmq.POLLIN):
                frames = socket.recv_multipart()
                envelope, body = _split_envelope(frames)
                reply = bridge.handle(body[0]) if len(body) == 1 else _framing_error(len(body))
                socket.send_multipart(envelope + [reply], flags=zmq.NOBLOCK)
    finally:
        socket.close(linger=0)
        context.term()


def _split_envelope(frames: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """The routing frames (the peer's id, up to the empty delimiter if any) and the frames after them."""
    cut = frames.index(b"", 1) + 1 if b"" in frames[1:] else 1
    return frames[:cut], frames[cut:]


def _framing_error(n_frames: int) -> bytes:
    return encode(
        error_reply(
            BridgeRequestError(f"the request has {n_frames} frames", "one frame: a msgpack map")
        )
    )
