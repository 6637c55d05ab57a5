"""Checkpoint speed and size: ``RLib.save`` + ``RLib.load`` of large experiments.

Two experiments, each saved and loaded ``--repeats`` times (medians reported; the machine is
noisy):

* ``bandits``: 10,000 UCB instances (10 arms each, through ``BasicMab``), each stepped 20 times;
* ``dqn``: one DQN whose 50,000-transition replay buffer is full (filled through the facade
  on a synthetic CartPole-shaped stream, with a small network to keep the filling quick).

Figures: seconds to save, seconds to load (read, check, rebuild the facade), and the file size
against the raw bytes of the arrays it holds. Targets: save + load well under a second; file
within 1.2x of the raw array bytes. Every load is checked to give back the saved states::

    python benchmarks/checkpoint.py             # full run
    python benchmarks/checkpoint.py --quick     # seconds: checks every path works
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import chex
import numpy as np
from flax import linen as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import machine, progress

from agentax import RLib, checkpoint
from agentax.agents.deep import DQN
from agentax.agents.mab import UCB
from agentax.extensions import BasicMab

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "benchmarks" / "results" / "checkpoint.json"
FULL = dict(instances=10_000, bandit_steps=20, buffer=50_000, repeats=7)
QUICK = dict(instances=50, bandit_steps=3, buffer=200, repeats=1)
SECONDS_TARGET, SIZE_TARGET = 1.0, 1.2


class Linear(nn.Module):
    """The smallest Q network: filling the buffer, not learning, is what this benchmark needs."""

    @nn.compact
    def __call__(self, x):
        return nn.Dense(2)(x)


def bandits(instances: int, steps: int) -> RLib:
    rl = RLib(agent_type=UCB, agent_params={"c": 1.0}, ext_type=BasicMab, ext_params={"n_arms": 10})
    ids = [rl.init(seed) for seed in range(instances)]
    rng = np.random.default_rng(0)
    for _ in range(steps):
        rl.sample(agent_id=ids, reward=rng.random(instances))
    return rl


def dqn(buffer: int) -> RLib:
    """A DQN in no-extension mode whose replay buffer holds ``buffer`` transitions."""
    rl = RLib(
        agent_type=DQN,
        agent_params={
            "q_network": Linear(),
            "obs_space_shape": (4,),
            "act_space_size": 2,
            "experience_replay_buffer_size": buffer,
            "experience_replay_batch_size": 8,
        },
    )
    rng = np.random.default_rng(0)
    for t in range(2 * buffer):  # the step after an episode's end stores no transition
        rl.sample(
            env_state=rng.normal(size=4).astype(np.float32),
            reward=1.0,
            terminal=t % 200 == 199,
            truncated=False,
        )
        if (
            t % 1000 == 999 and int(rl.state().replay_buffer.size) == buffer
        ):  # a full buffer stays full
            break
        if t % 5000 == 0:
            progress(f"filling the DQN buffer: {t}/{buffer}")
    assert int(rl.state().replay_buffer.size) == buffer
    return rl


def measure(name: str, rl: RLib, repeats: int, directory: Path, load_params: dict) -> dict:
    path = str(directory / name)
    saves, loads = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        path = rl.save(path)
        saves.append(time.perf_counter() - started)
        started = time.perf_counter()
        loaded = RLib.load(path, agent_params=load_params)
        loads.append(time.perf_counter() - started)
    for i in (0, rl.n_instances - 1):
        chex.assert_trees_all_equal(loaded.state(i), rl.state(i))
    _, arrays = checkpoint.read(path)
    raw = sum(array.nbytes for array in arrays.values())
    size = Path(path).stat().st_size
    both = [save + load for save, load in zip(saves, loads, strict=True)]
    return {
        "experiment": name,
        "instances": rl.n_instances,
        "save_seconds": statistics.median(saves),
        "load_seconds": statistics.median(loads),
        "save_plus_load_seconds": statistics.median(both),
        "save_plus_load_samples": both,
        "file_bytes": size,
        "raw_array_bytes": raw,
        "size_ratio": size / raw,
        "met": statistics.median(both) < SECONDS_TARGET and size / raw <= SIZE_TARGET,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny experiments, one repeat")
    parser.add_argument(
        "--repeats", type=int, help="save/load repeats (default: 7, or 1 with --quick)"
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    settings["repeats"] = args.repeats or settings["repeats"]
    results = []
    with tempfile.TemporaryDirectory() as directory:
        progress(f"creating {settings['instances']} bandit instances")
        rl = bandits(settings["instances"], settings["bandit_steps"])
        results.append(measure("bandits", rl, settings["repeats"], Path(directory), {}))
        rl = dqn(settings["buffer"])
        results.append(
            measure("dqn", rl, settings["repeats"], Path(directory), {"q_network": Linear()})
        )
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {"quick": args.quick, **settings},
        "targets": {
            "save_plus_load_seconds": f"< {SECONDS_TARGET}",
            "size_ratio": f"<= {SIZE_TARGET}",
        },
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{'experiment':<10} {'save s':>8} {'load s':>8} {'both s':>8} {'file MB':>9} {'raw MB':>8} {'ratio':>7}"
    )
    for row in results:
        print(
            f"{row['experiment']:<10} {row['save_seconds']:8.3f} {row['load_seconds']:8.3f} "
            f"{row['save_plus_load_seconds']:8.3f} {row['file_bytes'] / 1e6:9.2f} {row['raw_array_bytes'] / 1e6:8.2f} "
            f"{row['size_ratio']:7.3f}"
        )
    print(f"medians of {settings['repeats']} runs; written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
