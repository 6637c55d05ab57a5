"""Speed of the bridge: decisions per second through ZeroMQ, one client, single and batched requests,
and how much slower an ns-3 simulation runs with the agentax manager than with Minstrel-HT.

    python benchmarks/bridge.py                         # (``make bench-bridge``)
    python benchmarks/bridge.py --quick                 # a short run that only checks everything works

Each figure is the median of ``--repeats`` measurements after a warm-up request (compilation).
Writes ``benchmarks/results/bridge.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from _results import write_json

from agentax.bridge import BridgeClient
from agentax.bridge.ns3 import (
    DEFAULT_SCENARIO,
    agentax_bridge_options,
    run_scenario,
    running_agentax_bridge,
)

RATES = [8.6, 17.2, 25.8, 34.4, 51.6, 68.8, 77.4, 86.0, 103.2, 114.7, 129.0, 143.4]


def observations(options: dict, k: int) -> tuple[dict, dict]:
    """One outcome per instance, in the format the bridge's agent reads (as the ns-3 manager sends)."""
    if options["observations"] == "agent":
        return {"n_successful": [30] * k, "n_failed": [2] * k, "delta_time": [0.005] * k}, {
            "context": RATES
        }
    return {
        "time": [1.005] * k,
        "last_time": [1.0] * k,
        "n_successful": [30] * k,
        "n_failed": [2] * k,
        "n_wifi": [1] * k,
        "power": [16.0206] * k,
        "cw": [15] * k,
    }, {}


def decisions_per_second(
    client: BridgeClient, options: dict, k: int, requests: int, repeats: int
) -> float:
    """Median over ``repeats`` of (``k`` x ``requests``) decisions / seconds, for ``k`` instances per request."""
    ids = client.create(range(k))
    per_id, shared = observations(options, k)
    client.sample(ids, per_id, shared)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(requests):
            client.sample(ids, per_id, shared)
        rates.append(k * requests / (time.perf_counter() - start))
    client.close(ids)
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario",
        type=Path,
        default=DEFAULT_SCENARIO,
        help="the built scenario (for the slow-down)",
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="few requests and repeats: checks that it runs"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bridge.json"))
    args = parser.parse_args()
    repeats = 2 if args.quick else args.repeats
    requests = 50 if args.quick else 1000
    sim_time = 0.2 if args.quick else 1.0

    options = agentax_bridge_options()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_agentax_bridge(f"ipc://{tmp}/bridge") as bridge,
    ):
        with BridgeClient(bridge.endpoint, timeout=120) as client:
            batched = {
                k: decisions_per_second(client, options, k, max(5, requests // k), repeats)
                for k in (1, 10, 100, 1000)
            }
        simulation = {}
        if args.scenario.exists():
            common = {"distance": 10, "simTime": sim_time}
            run_scenario(
                args.scenario,
                manager="agentax",
                endpoint=bridge.endpoint,
                observations=options["observations"],
                **common,
            )  # warm-up: compiles the step
            for manager in ("minstrel-ht", "agentax"):
                extra = (
                    {"endpoint": bridge.endpoint, "observations": options["observations"]}
                    if manager == "agentax"
                    else {}
                )
                walls = [
                    run_scenario(args.scenario, manager=manager, **common, **extra)["wall_time_s"]
                    for _ in range(repeats)
                ]
                simulation[manager] = statistics.median(walls)

    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average": os.getloadavg(),
        },
        "agent": {"agent": "ThompsonSampling", **options},
        "decisions_per_second": {
            f"{k} instances per request": round(v) for k, v in batched.items()
        },
        "simulation_wall_seconds": {m: round(v, 3) for m, v in simulation.items()},
        "simulation_slowdown_vs_minstrel_ht": round(
            simulation["agentax"] / simulation["minstrel-ht"], 2
        )
        if simulation
        else None,
        "settings": {
            "repeats": repeats,
            "requests": requests,
            "sim_time_s": sim_time,
            "distance_m": 10,
        },
    }
    if not args.quick:
        write_json(args.out, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
