"""Run the ns-3 rate-adaptation scenario (``native/ns3/wifi_ra.cc``) and read its result."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_SCENARIO", "run_scenario", "scenario_command"]

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
        raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
