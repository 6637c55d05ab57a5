"""Run the ns-3 rate-adaptation scenario (``native/ns3/wifi_ra.cc``) and read its result."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentax import extensions
from agentax.bridge.process import running_bridge

__all__ = [
    "DEFAULT_SCENARIO",
    "NS3_MANAGERS",
    "agentax_bridge_options",
    "running_agentax_bridge",
    "compare",
    "run_scenario",
    "scenario_command",
]

DEFAULT_SCENARIO = Path("build/ns3/wifi_ra")
"""Where ``make ns3-scenario`` builds the scenario, relative to the repository root."""


def scenario_command(binary: str | Path, **options: Any) -> list[str]:
    """The command line running ``binary`` with ``--name=value`` for each option.

    Options are the scenario's: ``manager``, ``mcs``, ``stations``, ``distance``, ``speed``,
    ``simTime``, ``warmup``, ``endpoint``, ``run``.
    """
    return [str(binary)] + [f"--{name}={value}" for name, value in options.items()]


def run_scenario(binary: str | Path, *, timeout: float = 600.0, **options: Any) -> dict[str, Any]:
    """Run the scenario once and return the JSON line it prints (throughput in Mb/s and more).

    Raises:
      RuntimeError: the scenario failed (its exit status and standard error are in the message).
      subprocess.TimeoutExpired: it ran longer than ``timeout`` seconds (it is killed).
    """
    command = scenario_command(binary, **options)
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited with {done.returncode}: {done.stderr.strip()[-2000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


NS3_MANAGERS = ("ideal", "minstrel-ht", "thompson-sampling")
"""ns-3's own rate managers the agentax manager is compared with (Ideal knows the SNR: an upper reference)."""


def agentax_bridge_options() -> dict[str, Any]:
    """How to serve Thompson sampling to the scenario's ``agentax`` manager on this installation.

    With :class:`agentax.extensions.IEEE_802_11_ax_RA` the manager sends the extension's raw
    observations; without it (``observations="agent"``) it sends Thompson sampling's own.
    The forgetting rate is ns-3's ThompsonSamplingWifiManager default (1 per second).
    """
    if hasattr(extensions, "IEEE_802_11_ax_RA"):
        return {
            "ext": "IEEE_802_11_ax_RA",
            "agent_params": {"decay": 1.0},
            "observations": "IEEE_802_11_ax_RA",
        }
    return {"ext": None, "agent_params": {"n_arms": 12, "decay": 1.0}, "observations": "agent"}


@contextmanager
def running_agentax_bridge(endpoint: str) -> Iterator[subprocess.Popen]:
    """:func:`~agentax.bridge.running_bridge` serving Thompson sampling on ``endpoint``, built as
    :func:`agentax_bridge_options` says."""
    options = agentax_bridge_options()
    with running_bridge(
        "ThompsonSampling",
        agent_params=options["agent_params"],
        ext=options["ext"],
        endpoint=endpoint,
    ) as bridge:
        yield bridge


def compare(
    binary: str | Path,
    scenarios: dict[str, dict[str, Any]],
    *,
    endpoint: str,
    observations: str,
    managers: tuple[str, ...] = ("agentax",) + NS3_MANAGERS,
    jobs: int = 2,
    timeout: float = 600.0,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Run every manager on every scenario (``jobs`` simulations at a time); ``{scenario: {manager: result}}``.

    ``agentax`` runs ask the bridge at ``endpoint``; each scenario is a dict of scenario options
    (``distance``, ``speed``, ``simTime``, ``stations``, ``run``).
    """
    cases = [(name, manager) for name in scenarios for manager in managers]

    def run(case: tuple[str, str]) -> dict[str, Any]:
        name, manager = case
        extra = {"endpoint": endpoint, "observations": observations} if manager == "agentax" else {}
        return run_scenario(binary, timeout=timeout, manager=manager, **scenarios[name], **extra)

    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(run, cases))
    table: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in scenarios}
    for (name, manager), result in zip(cases, results, strict=True):
        table[name][manager] = result
    return table
