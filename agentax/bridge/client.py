"""A Python client of the bridge (what the ns-3 manager does in C++), for tests, benchmarks and scripts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgpack
import numpy as np
import zmq

from agentax.bridge.protocol import PROTOCOL_VERSION, encode
from agentax.errors import AgentaxError

__all__ = ["BridgeClient", "BridgeError"]


class BridgeError(AgentaxError):
    """The bridge answered a request with an error (``.error`` is its class name there)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error


class BridgeClient:
    """One ``REQ`` connection to a bridge; every call waits at most ``timeout`` seconds.

    Args:
      endpoint: where the bridge listens, e.g. ``tcp://127.0.0.1:5555`` or ``ipc:///tmp/agentax-bridge``.
      timeout: seconds to wait for each reply before raising :class:`TimeoutError`.

    Example::

        with BridgeClient("ipc:///tmp/agentax-bridge") as bridge:
            ids = bridge.create([1, 2])
            actions = bridge.sample(ids, {"reward": [0.0, 0.0]})
    """

    def __init__(self, endpoint: str, timeout: float = 10.0) -> None:
        self.endpoint = endpoint
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.REQ)
        for option, value in (
            (zmq.RCVTIMEO, int(timeout * 1000)),
            (zmq.SNDTIMEO, int(timeout * 1000)),
            (zmq.LINGER, 0),
        ):
            self._socket.setsockopt(option, value)
        self._socket.connect(endpoint)

    def request(self, command: str, **fields: Any) -> dict[str, Any]:
        """Send one request and return the reply's fields; raises :class:`BridgeError` on an error reply."""
        return self.request_raw(encode({"version": PROTOCOL_VERSION, "command": command, **fields}))

    def request_raw(self, payload: bytes) -> dict[str, Any]:
        """Send ``payload`` as it is (e.g. to test the bridge with a malformed message)."""
        try:
            self._socket.send(payload)
            reply = msgpack.unpackb(self._socket.recv(), raw=False)
        except zmq.Again:
            raise TimeoutError(f"the bridge at {self.endpoint} did not answer in time") from None
        if not reply.get("ok"):
            raise BridgeError(reply.get("error", "?"), reply.get("message", ""))
        return reply

    def info(self) -> dict[str, Any]:
        """The agent, the observation names the bridge expects and how many instances are open."""
        return self.request("info")

    def create(self, seeds: Sequence[int]) -> list[int]:
        """Create one instance per seed; returns their ids."""
        return self.request("create", seeds=list(seeds))["ids"]

    def sample(
        self,
        ids: Sequence[int],
        observations: Mapping[str, Any],
        shared: Mapping[str, Any] | None = None,
        is_training: bool = True,
    ) -> np.ndarray:
        """Step the instances ``ids``; returns their actions.

        Args:
          ids: instance ids from :meth:`create`.
          observations: for each name, one value per id.
          shared: for each name, one value for all ids.
          is_training: whether to update the instances before sampling.
        """
        reply = self.request(
            "sample",
            ids=list(ids),
            observations=dict(observations),
            shared=dict(shared or {}),
            is_training=is_training,
        )
        return np.asarray(reply["actions"])

    def save(self, path: str | None = None) -> str:
        """Save the bridge's open instances to ``path`` in its checkpoint directory (default: a dated
        name); returns the path written, relative to that directory."""
        return self.request("save", **({} if path is None else {"path": path}))["path"]

    def load(self, path: str) -> list[int]:
        """Replace the bridge's agent and instances with the checkpoint ``path`` in its checkpoint
        directory; returns the ids of the instances it holds."""
        return self.request("load", path=path)["ids"]

    def close(self, ids: Sequence[int] | None = None) -> None:
        """Close the instances ``ids`` on the bridge; with no ids, close this connection."""
        if ids is not None:
            self.request("close", ids=list(ids))
            return
        self._socket.close(linger=0)
        self._context.term()

    def __enter__(self) -> BridgeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
