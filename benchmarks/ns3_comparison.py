"""agentax Thompson sampling through the bridge beside ns-3's own rate managers, in the ns-3 scenario.

Writes ``benchmarks/results/ns3_comparison.json`` (``make ns3-comparison``): for each scenario
(static stations at several distances, a station moving away) the throughput of each manager,
averaged over ``--runs`` seeds, and prints it as a table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from _results import write_json

from agentax.bridge.ns3 import (
    DEFAULT_SCENARIO,
    NS3_MANAGERS,
    agentax_bridge_options,
    compare,
    running_agentax_bridge,
)

SCENARIOS = {
    "static 1 m": {"distance": 1},
    "static 10 m": {"distance": 10},
    "static 20 m": {"distance": 20},
    "static 30 m": {"distance": 30},
    "static 40 m": {"distance": 40},
    "moving 10 m/s": {"distance": 15, "speed": 10},
}
MANAGERS = ("agentax",) + NS3_MANAGERS


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario", type=Path, default=DEFAULT_SCENARIO, help="the built scenario binary"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ns3_comparison.json"))
    parser.add_argument(
        "--sim-time", type=float, default=2.0, help="seconds of traffic per simulation"
    )
    parser.add_argument("--runs", type=int, default=3, help="seeds per scenario and manager")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    options = agentax_bridge_options()
    scenarios = {
        f"{name}#{run}": {**scenario, "simTime": args.sim_time, "run": run}
        for name, scenario in SCENARIOS.items()
        for run in range(1, args.runs + 1)
    }
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_agentax_bridge(f"ipc://{tmp}/bridge") as bridge,
    ):
        results = compare(
            args.scenario,
            scenarios,
            endpoint=bridge.endpoint,
            observations=options["observations"],
            managers=MANAGERS,
            jobs=args.jobs,
        )
    table = {
        name: {
            manager: statistics.mean(
                results[f"{name}#{run}"][manager]["throughput_mbps"]
                for run in range(1, args.runs + 1)
            )
            for manager in MANAGERS
        }
        for name in SCENARIOS
    }
    version = subprocess.run(
        ["pkg-config", "--modversion", "ns3-wifi"], capture_output=True, text=True
    ).stdout.strip()
    document = {
        "meta": {
            "ns3_version": version,
            "scenario": "native/ns3/wifi_ra.cc: 802.11ax, 5 GHz, 20 MHz, 1 spatial stream, 800 ns GI, 1 station, "
            "saturated UDP uplink",
            "sim_time_s": args.sim_time,
            "runs": args.runs,
            "agentax": {"agent": "ThompsonSampling", **options},
            "scenarios": SCENARIOS,
            "unit": "Mb/s, mean over runs",
        },
        "throughput_mbps": {
            name: {m: round(v, 2) for m, v in row.items()} for name, row in table.items()
        },
    }
    write_json(args.out, document)
    print(f"{'scenario':16s}" + "".join(f"{m:>20s}" for m in MANAGERS))
    for name, row in table.items():
        print(f"{name:16s}" + "".join(f"{row[m]:20.1f}" for m in MANAGERS))


if __name__ == "__main__":
    main()
