"""Out of process: an agentax agent served over ZeroMQ, e.g. as the rate manager of an ns-3 simulation.

``python -m agentax.bridge`` runs :func:`serve` on a :class:`Bridge`; clients speak the msgpack
protocol of :mod:`agentax.bridge.protocol` (:class:`BridgeClient` in Python,
``native/ns3/agentax-wifi-manager.cc`` in C++).
"""

from agentax.bridge.client import BridgeClient, BridgeError
from agentax.bridge.ns3 import DEFAULT_SCENARIO, run_scenario, scenario_command
from agentax.bridge.protocol import COMMANDS, PROTOCOL_VERSION
from agentax.bridge.server import Bridge, serve

__all__ = [
    "COMMANDS",
    "DEFAULT_SCENARIO",
    "PROTOCOL_VERSION",
    "Bridge",
    "BridgeClient",
    "BridgeError",
    "run_scenario",
    "scenario_command",
    "serve",
]
