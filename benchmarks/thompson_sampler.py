"""Beta draws of Thompson sampling: jax.random.beta against agentax's samplers, under vmap + lax.scan.

Each variant runs the same ``ThompsonSampling`` update and the same argmax; only the Beta draws
of ``sample`` differ:

* ``jax.random.beta``: what reinforced-lib's ``ThompsonSampling.sample`` draws with;
* ``exact``: agentax's default sampler (exact Marsaglia–Tsang Gamma ratio);
* ``normal``: agentax's moment-matched normal approximation.

``K`` agents under ``vmap`` play ``N_ARMS`` Bernoulli arms for ``T`` steps inside one
``lax.scan``; the figure is agent-steps per second (median of ``--repeats`` timed runs, after
one compiling run), and the ratio to ``jax.random.beta``::

    python benchmarks/thompson_sampler.py              # 1,000 agents, 10 arms, 1,000 steps
    python benchmarks/thompson_sampler.py --quick      # a short run that only checks it works
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp

from agentax.agents.mab import ThompsonSampling

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def jax_beta_sample(state, key, context):
    """reinforced-lib's draw: one jax.random.beta call over every arm."""
    return jnp.argmax(jax.random.beta(key, 1.0 + state.alpha, 1.0 + state.beta) * context)


def compile_run(sample, update, init, n_agents: int, n_arms: int, n_steps: int):
    """A jitted run of ``n_agents`` agents for ``n_steps`` steps, ready to time."""
    probs = jnp.arange(1, n_arms + 1, dtype=jnp.float32) / (n_arms + 1)
    context = jnp.ones(n_arms, jnp.float32)

    def agent_step(carry, _):
        state, key, action = carry
        key, reward_key, update_key, sample_key = jax.random.split(key, 4)
        success = (jax.random.uniform(reward_key) < probs[action]).astype(jnp.int32)
        state = update(state, update_key, action=action, n_successful=success, n_failed=1 - success,
                       delta_time=jnp.float32(1.0))
        return (state, key, sample(state, sample_key, context=context).astype(jnp.int32)), None

    def run_agent(key):
        init_key, key = jax.random.split(key)
        carry, _ = jax.lax.scan(agent_step, (init(init_key), key, jnp.int32(0)), None, length=n_steps)
        return carry[2]

    keys = jax.random.split(jax.random.PRNGKey(0), n_agents)
    run = jax.jit(jax.vmap(run_agent))
    run(keys).block_until_ready()
    return lambda: run(keys).block_until_ready()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--arms", type=int, default=10)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="cpu: CPU time of the process, less sensitive to other load")
    parser.add_argument("--quick", action="store_true", help="20 agents, 20 steps, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.agents, args.steps, args.repeats = 20, 20, 1

    variants = {
        "jax.random.beta": (jax_beta_sample, ThompsonSampling(args.arms)),
        "exact": (None, ThompsonSampling(args.arms, sampler="exact")),
        "normal": (None, ThompsonSampling(args.arms, sampler="normal")),
    }
    runs = {
        name: compile_run(sample or agent.sample, agent.update, agent.init, args.agents, args.arms, args.steps)
        for name, (sample, agent) in variants.items()
    }
    clock = CLOCKS[args.clock]
    seconds = {name: [] for name in runs}
    for _ in range(args.repeats):  # interleaved, so slow phases of a shared machine hit every variant
        for name, run in runs.items():
            start = clock()
            run()
            seconds[name].append(clock() - start)

    agent_steps = args.agents * args.steps
    rate = {name: agent_steps / statistics.median(times) for name, times in seconds.items()}
    print(f"{args.agents} agents x {args.arms} arms x {args.steps} steps, vmap + lax.scan, "
          f"median of {args.repeats} ({args.clock} clock), jax {jax.__version__}")
    print(f"{'sampler':<18}{'agent-steps/s':>16}{'ns/agent-step':>16}{'vs jax.random.beta':>22}")
    for name, value in rate.items():
        print(f"{name:<18}{value:>16,.0f}{1e9 / value:>16,.1f}{value / rate['jax.random.beta']:>21.1f}x")


if __name__ == "__main__":
    main()
