"""Out of process: agentax agents served over ZeroMQ, e.g. as the rate manager of an ns-3 simulation."""

from agentax.bridge.ns3 import DEFAULT_SCENARIO, run_scenario, scenario_command

__all__ = ["DEFAULT_SCENARIO", "run_scenario", "scenario_command"]
