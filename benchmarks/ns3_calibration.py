"""Throughput of every HE MCS at a fixed rate in the ns-3 scenario, at several distances.

The table the JAX Wi-Fi simulator is calibrated against (``make ns3-calibration`` rewrites
``tests/data/ns3_ax_throughput.json``). One station, saturated UDP uplink, ns-3's
ConstantRateWifiManager.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _results import write_json

from agentax.bridge.ns3 import DEFAULT_SCENARIO, run_scenario, scenario_command

DISTANCES = (1.0, 10.0, 20.0, 30.0, 40.0, 50.0)
MCS = range(12)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario", type=Path, default=DEFAULT_SCENARIO, help="the built scenario binary"
    )
    parser.add_argument("--out", type=Path, default=Path("tests/data/ns3_ax_throughput.json"))
    parser.add_argument(
        "--sim-time", type=float, default=2.0, help="seconds of measured traffic per run"
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="simulations run at once"
    )
    args = parser.parse_args()

    options = {"manager": "constant", "stations": 1, "simTime": args.sim_time, "run": 1}
    cases = [(mcs, distance) for distance in DISTANCES for mcs in MCS]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(
            pool.map(
                lambda case: run_scenario(args.scenario, mcs=case[0], distance=case[1], **options),
                cases,
            )
        )
    first = results[0]
    version = subprocess.run(
        ["pkg-config", "--modversion", "ns3-wifi"], capture_output=True, text=True
    ).stdout
    table = {
        "meta": {
            "ns3_version": version.strip(),
            "standard": "802.11ax",
            "band": "5 GHz",
            "channel_width_mhz": first["channel_width_mhz"],
            "guard_interval_ns": first["guard_interval_ns"],
            "spatial_streams": first["spatial_streams"],
            "payload_bytes": first["payload_bytes"],
            "sim_time_s": args.sim_time,
            "traffic": "saturated UDP uplink, 1 station, offered 200 Mb/s",
            "rate_manager": "ns3::ConstantRateWifiManager (DataMode HeMcs<mcs>)",
            "channel": "YansWifiChannelHelper::Default(): LogDistancePropagationLossModel "
            "(exponent 3, reference loss 46.6777 dB at 1 m), ConstantSpeedPropagationDelayModel",
            "phy": "YansWifiPhy defaults: TxPowerStart/End 16.0206 dBm, RxNoiseFigure 7 dB, "
            "TableBasedErrorRateModel",
            "command": " ".join(
                scenario_command("build/ns3/wifi_ra", mcs="<mcs>", distance="<distance>", **options)
            ),
        },
        "rows": [
            {
                "mcs": mcs,
                "distance_m": distance,
                "throughput_mbps": round(result["throughput_mbps"], 4),
            }
            for (mcs, distance), result in zip(cases, results, strict=True)
        ],
    }
    write_json(args.out, table)
    for distance in DISTANCES:
        row = [r["throughput_mbps"] for r in table["rows"] if r["distance_m"] == distance]
        print(f"{distance:5.0f} m: " + " ".join(f"{x:6.1f}" for x in row))


if __name__ == "__main__":
    main()
