"""What a facade step costs: one EGreedy instance, and K instances stepped together.

Measures ``rl.sample(reward=r)`` (one instance) and ``rl.sample(reward=rs, agent_id=ids)`` (``K``
instances) over many steps, repeated, and prints the median time per call of the repeats. Used to
price the facade's fail-safe step (the new rows are computed, waited for, then committed by a
second, donating call), by running it once on each version of ``agentax``::

    PYTHONPATH=. python benchmarks/step_cost.py --clock cpu
    PYTHONPATH=/path/to/other/checkout python benchmarks/step_cost.py --clock cpu

``--clock cpu`` counts the CPU time of all the process's threads, steadier than the wall clock
on a loaded machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import agentax
from agentax import RLib
from agentax.agents.mab import EGreedy
from agentax.extensions import BasicMab

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def per_call(rl: RLib, rewards: np.ndarray, agent_id, clock) -> float:
    """Seconds per ``sample`` call over ``rewards`` (one row per call)."""
    start = clock()
    for reward in rewards:
        rl.sample(reward=reward, agent_id=agent_id)
    return (clock() - start) / len(rewards)


def measure(instances: int, steps: int, repeats: int, clock) -> list[float]:
    rl = RLib(
        agent_type=EGreedy, agent_params={"e": 0.1}, ext_type=BasicMab, ext_params={"n_arms": 10}
    )
    for seed in range(instances):
        rl.init(seed)
    agent_id = 0 if instances == 1 else list(range(instances))
    rng = np.random.default_rng(0)
    shape = (steps,) if instances == 1 else (steps, instances)
    rewards = rng.random(shape).astype(np.float32)
    if instances == 1:
        rewards = [float(r) for r in rewards]
    per_call(rl, rewards[:20], agent_id, clock)  # compile
    return [per_call(rl, rewards, agent_id, clock) for _ in range(repeats)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", type=int, default=2000, help="calls per repeat, one instance (default 2000)"
    )
    parser.add_argument(
        "--batch-steps", type=int, default=200, help="calls per repeat, K instances (default 200)"
    )
    parser.add_argument("--agents", type=int, default=1000, help="K (default 1000)")
    parser.add_argument(
        "--repeats", type=int, default=7, help="repeats; the median is printed (default 7)"
    )
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall", help="wall (default) or cpu time"
    )
    args = parser.parse_args()
    print(f"agentax from {agentax.__file__}, {args.clock} clock")
    for instances, steps in ((1, args.steps), (args.agents, args.batch_steps)):
        times = measure(instances, steps, args.repeats, CLOCKS[args.clock])
        print(
            f"EGreedy facade step, {instances} instance(s): median {statistics.median(times) * 1e6:.1f} us/call "
            f"(min {min(times) * 1e6:.1f}, max {max(times) * 1e6:.1f}; {args.repeats} x {steps} calls)"
        )


if __name__ == "__main__":
    main()
