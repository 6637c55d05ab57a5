"""What a logger costs a facade step: one instance, and K instances stepped in one call.

Each case runs the same EGreedy bandit loop (``rl.sample(reward=...)``, Bernoulli rewards; the K-instance case is
also run with uniform rewards) on a facade without
loggers and on one with a single :class:`~agentax.loggers.StdoutLogger` or
:class:`~agentax.loggers.CsvLogger` logging ``action``, ``reward`` and ``cumulative``. A timed run
is ``steps`` calls plus ``rl.finish()`` (so the CSV file's writing is counted), after warm-up
calls that compile the step; stdout goes to ``/dev/null`` and the CSV to a temporary directory.
Runs of the three configurations are interleaved and repeated; the table gives medians in
microseconds per call and the ratio to the run without loggers. Targets: within 1.5x for one
instance, within 2x for K = 1,000::

    python benchmarks/loggers.py            # the full run
    python benchmarks/loggers.py --quick    # tiny sizes, one repeat: only checks it works
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentax import RLib  # noqa: E402
from agentax.agents.mab import EGreedy  # noqa: E402
from agentax.extensions import BasicMab  # noqa: E402
from agentax.loggers import CsvLogger, StdoutLogger  # noqa: E402

OUTPUT = ROOT / "benchmarks" / "results" / "loggers.json"
N_ARMS = 10
SOURCES = ["action", "reward", "cumulative"]
LOGGERS = {"none": None, "stdout": StdoutLogger, "csv": CsvLogger}
TARGETS = {1: 1.5, "K": 2.0}


def _facade(n_instances: int) -> tuple[RLib, list[int] | int]:
    rl = RLib(
        agent_type=EGreedy,
        agent_params={"e": 0.1},
        ext_type=BasicMab,
        ext_params={"n_arms": N_ARMS},
    )
    ids = [rl.init(seed) for seed in range(n_instances)]
    return rl, (ids if n_instances > 1 else 0)


def _timed_run(rl: RLib, agent_id, steps: int, rewards: np.ndarray) -> float:
    """Seconds for ``steps`` calls and ``finish()``."""
    started = time.perf_counter()
    for step in range(steps):
        rl.sample(reward=rewards[step], agent_id=agent_id)
    rl.finish()
    return time.perf_counter() - started


def measure(
    n_instances: int, steps: int, repeats: int, work_dir: Path, reward_kind: str
) -> dict[str, list[float]]:
    """Microseconds per call of each configuration, one sample per repeat."""
    shape = (steps,) if n_instances == 1 else (steps, n_instances)
    draws = np.random.default_rng(0).random(shape)
    # Bernoulli rewards, as in every other workload (benchmarks/workloads.py); uniform ones are
    # the costlier case for text loggers (a float's shortest form takes longer to write).
    rewards = (draws < 0.5 if reward_kind == "bernoulli" else draws).astype(np.float32)
    facades = {name: _facade(n_instances) for name in LOGGERS}
    samples: dict[str, list[float]] = {name: [] for name in LOGGERS}
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        for repeat in range(repeats + 1):  # repeat 0 compiles and warms up, and is not counted
            for name, logger_type in LOGGERS.items():
                rl, agent_id = facades[name]
                if logger_type is not None:
                    rl.set_loggers(
                        logger_type, SOURCES, {"csv_path": work_dir / f"{name}-{repeat}.csv"}
                    )
                seconds = _timed_run(rl, agent_id, steps if repeat else min(steps, 20), rewards)
                if repeat:
                    samples[name].append(seconds / steps * 1e6)
    return samples


def summarize(samples: dict[str, list[float]], target: float) -> dict:
    medians = {name: statistics.median(values) for name, values in samples.items()}
    ratios = {name: medians[name] / medians["none"] for name in LOGGERS if name != "none"}
    return {
        "us_per_call": medians,
        "samples": samples,
        "ratio": ratios,
        "target": target,
        "met": {name: ratio <= target for name, ratio in ratios.items()},
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and one repeat (checks that it works)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="timed runs of each configuration (default: %(default)s)",
    )
    parser.add_argument(
        "--agents",
        type=int,
        default=1000,
        metavar="K",
        help="instances stepped together (default: %(default)s)",
    )
    parser.add_argument(
        "--steps", type=int, default=2000, help="calls per run, one instance (default: %(default)s)"
    )
    parser.add_argument(
        "--batch-steps",
        type=int,
        default=200,
        help="calls per run, K instances (default: %(default)s)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=OUTPUT,
        metavar="JSON",
        help="where to write the results (default: %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.quick:
        args.repeats, args.agents, args.steps, args.batch_steps = 1, 8, 30, 10
    cases = {
        "1": (1, args.steps, TARGETS[1], "bernoulli"),
        f"K={args.agents}": (args.agents, args.batch_steps, TARGETS["K"], "bernoulli"),
        f"K={args.agents}, uniform rewards": (
            args.agents,
            args.batch_steps,
            TARGETS["K"],
            "uniform",
        ),
    }
    results = {}
    with tempfile.TemporaryDirectory() as work_dir:
        for case, (n_instances, steps, target, reward_kind) in cases.items():
            results[case] = summarize(
                measure(n_instances, steps, args.repeats, Path(work_dir), reward_kind), target
            )
    print(
        f"{'instances':<26} {'none [us]':>10} {'stdout [us]':>12} {'csv [us]':>10} {'stdout x':>9} {'csv x':>7}  target"
    )
    for case, result in results.items():
        us, ratio = result["us_per_call"], result["ratio"]
        print(
            f"{case:<26} {us['none']:>10.1f} {us['stdout']:>12.1f} {us['csv']:>10.1f} "
            f"{ratio['stdout']:>9.2f} {ratio['csv']:>7.2f}  <= {result['target']}x"
        )
    report = {
        "settings": vars(args) | {"output": str(args.output)},
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
