"""Thompson sampling under vmap + lax.scan: reinforced-lib, jax.random.beta and agentax's samplers.

Every variant runs the same loop: ``K`` agents under ``vmap`` play ``N_ARMS`` Bernoulli arms for
``T`` steps inside one ``lax.scan``. The figure is agent-steps per second (median of
``--repeats`` timed runs after one compiling run) and its ratio to reinforced-lib.

* ``reinforced-lib``: its own ``ThompsonSampling``, run in its virtual environment
  (``--rlib-python``, default ``.venv-rlib/bin/python``, built by ``make bench-venv``); skipped
  when that interpreter is missing;
* ``jax.random.beta``: agentax's update with the draw reinforced-lib's ``sample`` makes;
* ``exact``: agentax's default sampler (exact Marsaglia–Tsang Gamma ratio);
* ``normal``: agentax's moment-matched normal approximation::

    python benchmarks/thompson_sampler.py                 # 1,000 agents, 10 arms, 1,000 steps
    python benchmarks/thompson_sampler.py --clock cpu     # CPU time: steadier on a shared machine
    python benchmarks/thompson_sampler.py --quick         # a short run that only checks it works

This file imports only the standard library and JAX at the top, so it also runs in
reinforced-lib's environment (``--side rlib``, which prints one JSON figure).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
RLIB_PYTHON = Path(__file__).resolve().parent.parent / ".venv-rlib" / "bin" / "python"


def compile_run(agent, sample, n_agents: int, n_arms: int, n_steps: int):
    """A jitted run of ``n_agents`` copies of ``agent`` for ``n_steps`` steps, ready to time."""
    probs = jnp.arange(1, n_arms + 1, dtype=jnp.float32) / (n_arms + 1)
    context = jnp.ones(n_arms, jnp.float32)

    def agent_step(carry, _):
        state, key, action = carry
        key, reward_key, update_key, sample_key = jax.random.split(key, 4)
        success = (jax.random.uniform(reward_key) < probs[action]).astype(jnp.int32)
        state = agent.update(
            state,
            update_key,
            action=action,
            n_successful=success,
            n_failed=1 - success,
            delta_time=jnp.float32(1.0),
        )
        return (state, key, sample(state, sample_key, context=context).astype(jnp.int32)), None

    def run_agent(key):
        init_key, key = jax.random.split(key)
        carry, _ = jax.lax.scan(
            agent_step, (agent.init(init_key), key, jnp.int32(0)), None, length=n_steps
        )
        return carry[2]

    keys = jax.random.split(jax.random.PRNGKey(0), n_agents)
    run = jax.jit(jax.vmap(run_agent))
    run(keys).block_until_ready()
    return lambda: run(keys).block_until_ready()


def measure(runs: dict, args) -> dict[str, float]:
    """Agent-steps per second of each compiled run, interleaved so that slow phases hit them all."""
    clock = CLOCKS[args.clock]
    seconds = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, run in runs.items():
            start = clock()
            run()
            seconds[name].append(clock() - start)
    return {
        name: args.agents * args.steps / statistics.median(times) for name, times in seconds.items()
    }


def jax_beta_sample(state, key, context):
    """reinforced-lib's draw: one jax.random.beta call over every arm."""
    return jnp.argmax(jax.random.beta(key, 1.0 + state.alpha, 1.0 + state.beta) * context)


def agentax_rates(args) -> dict[str, float]:
    from agentax.agents.mab import ThompsonSampling

    exact, normal = ThompsonSampling(args.arms), ThompsonSampling(args.arms, sampler="normal")
    runs = {
        "jax.random.beta": compile_run(exact, jax_beta_sample, args.agents, args.arms, args.steps),
        "exact": compile_run(exact, exact.sample, args.agents, args.arms, args.steps),
        "normal": compile_run(normal, normal.sample, args.agents, args.arms, args.steps),
    }
    return measure(runs, args)


def rlib_rate(args) -> dict[str, float]:
    from reinforced_lib.agents.mab import ThompsonSampling

    agent = ThompsonSampling(args.arms)
    return measure(
        {"reinforced-lib": compile_run(agent, agent.sample, args.agents, args.arms, args.steps)},
        args,
    )


def rlib_rate_in_subprocess(args) -> dict[str, float]:
    """reinforced-lib's figure from its own interpreter, or nothing if that is missing."""
    if not Path(args.rlib_python).exists():
        print(
            f"(reinforced-lib skipped: {args.rlib_python} not found; `make bench-venv` builds it)"
        )
        return {}
    command = [
        str(args.rlib_python),
        __file__,
        "--side",
        "rlib",
        "--agents",
        str(args.agents),
        "--arms",
        str(args.arms),
        "--steps",
        str(args.steps),
        "--repeats",
        str(args.repeats),
        "--clock",
        args.clock,
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--arms", type=int, default=10)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="cpu: CPU time of the process, less sensitive to other load",
    )
    parser.add_argument(
        "--rlib-python", default=str(RLIB_PYTHON), help="python of reinforced-lib's environment"
    )
    parser.add_argument(
        "--side", choices=["agentax", "rlib"], default="agentax", help=argparse.SUPPRESS
    )
    parser.add_argument("--quick", action="store_true", help="20 agents, 20 steps, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.agents, args.steps, args.repeats = 20, 20, 1
    if args.side == "rlib":
        print(json.dumps(rlib_rate(args)))
        return

    rates = {**rlib_rate_in_subprocess(args), **agentax_rates(args)}
    reference = rates.get("reinforced-lib", rates["jax.random.beta"])
    reference_name = "reinforced-lib" if "reinforced-lib" in rates else "jax.random.beta"
    print(
        f"{args.agents} agents x {args.arms} arms x {args.steps} steps, vmap + lax.scan, "
        f"median of {args.repeats} ({args.clock} clock)"
    )
    print(f"{'variant':<18}{'agent-steps/s':>16}{'ns/agent-step':>16}{'vs ' + reference_name:>22}")
    for name, value in rates.items():
        print(f"{name:<18}{value:>16,.0f}{1e9 / value:>16,.1f}{value / reference:>21.1f}x")


if __name__ == "__main__":
    sys.exit(main())
