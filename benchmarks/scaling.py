"""Agent-steps per second of one sharded population on 1, 2 and 4 devices and on two processes.

The population is :func:`agentax.sharding.bandit_population` (epsilon-greedy on a 3-armed
Bernoulli bandit, every instance its own key), split along the instance axis over the devices.
Each configuration runs in fresh processes started by :func:`agentax.sharding.launch_local`:

* ``1 / 2 / 4 devices``: one process with that many CPU devices (``jax_num_cpu_devices``, the
  same as ``XLA_FLAGS=--xla_force_host_platform_device_count``);
* ``2 processes``: two JAX processes with one device each, joined by
  :func:`jax.distributed.initialize` through a coordinator on 127.0.0.1.

A worker compiles and runs the study once, then reports the best of ``--repeats`` timed runs;
an agent-step is one sample and one update of one instance. The scaling efficiency of ``D``
devices is ``rate(D) / (D * rate(1))``. Forced CPU devices share the machine's cores, so on a
machine with fewer cores than devices the efficiency is bounded by ``cores / D``::

    python benchmarks/scaling.py            # 4,096 instances x 1,000 steps
    python benchmarks/scaling.py --quick    # a small run that checks everything works
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import jax

from agentax.sharding import launch_local

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_json

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATIONS = {  # name -> (processes, devices per process)
    "1 device": (1, 1),
    "2 devices": (1, 2),
    "4 devices": (1, 4),
    "2 processes x 1 device": (2, 1),
}


def measure(processes: int, devices: int, instances: int, steps: int, repeats: int) -> float:
    """Agent-steps per second of the slowest process of one configuration."""
    args = ["--instances", str(instances), "--steps", str(steps), "--repeats", str(repeats)]
    with tempfile.TemporaryDirectory() as directory:
        times = launch_local(
            processes, Path(directory) / "result.npz", args, local_devices=devices, timeout=1800
        )
    return instances * steps / max(times)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--instances", type=int, default=4096, help="population size (default: %(default)s)"
    )
    parser.add_argument(
        "--steps", type=int, default=1000, help="steps of each instance (default: %(default)s)"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed runs per configuration (default: %(default)s)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="16 instances, 50 steps, 1 repeat; nothing written"
    )
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "results" / "scaling.json"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.instances, args.steps, args.repeats = 16, 50, 1
    rates, efficiency = {}, {}
    for name, (processes, devices) in CONFIGURATIONS.items():
        rates[name] = measure(processes, devices, args.instances, args.steps, args.repeats)
        efficiency[name] = rates[name] / (processes * devices * rates["1 device"])
    print(
        f"EGreedy population of {args.instances:,} x {args.steps:,} steps; "
        f"agent-steps per second, best of {args.repeats}"
    )
    for name, rate in rates.items():
        print(f"  {name:24s} {rate:>14,.0f}   scaling efficiency {efficiency[name]:6.1%}")
    machine = {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "backend": jax.default_backend(),
        "jax": jax.__version__,
    }
    result = {
        "instances": args.instances,
        "steps": args.steps,
        "repeats": args.repeats,
        "agent_steps_per_second": rates,
        "scaling_efficiency": efficiency,
        "machine": machine,
    }
    if not args.quick:
        write_json(args.output, result)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
