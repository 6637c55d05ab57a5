"""K instances of one agent in one facade call, for K up to 100,000: time, memory and creation.

For each K: the time to create the instances with one ``rl.init(seed=[...])`` call in a new
facade (everything a user waits for: the seeds' conversion, the compilation of the creating
program, running it; the compilation alone is also timed, on an equal program), the time per
step of all K (``rl.sample(reward=rewards, agent_id=every id)``, median of the repeats) and per
instance, and the bytes the facade keeps per instance (its stacked state, key and last action).
Beside them, the per-instance cost of the same agent as a pure function under ``vmap`` (no
facade), the figure the facade's should fall towards as K grows::

    PYTHONPATH=. python benchmarks/many_instances.py
    PYTHONPATH=. python benchmarks/many_instances.py --sizes 1000 10000 --agents EGreedy
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from workloads import bandit_observations

from agentax import RLib
from agentax.agents import mab
from agentax.extensions import BasicMab

N_ARMS = 10
PARAMS = {"EGreedy": {"e": 0.1}, "UCB": {"c": 1.0}, "ThompsonSampling": {}}


def make(agent: str) -> RLib:
    return RLib(
        agent_type=getattr(mab, agent),
        agent_params=PARAMS[agent],
        ext_type=BasicMab,
        ext_params={"n_arms": N_ARMS},
    )


def facade(agent: str, k: int, steps: int, repeats: int) -> dict:
    rl = make(agent)
    compile_s = compile_time(agent, k)
    start = time.perf_counter()
    ids = rl.init(seed=list(range(k)))
    jax.block_until_ready(rl._stack)
    created = time.perf_counter() - start
    rewards = (np.random.default_rng(0).random((steps, k)) < 0.5).astype(np.float32)
    for reward in rewards[:2]:  # a first step only samples, a second also updates
        rl.sample(reward=reward, agent_id=ids)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for reward in rewards:
            rl.sample(reward=reward, agent_id=ids)
        times.append((time.perf_counter() - start) / steps)
    step = statistics.median(times)
    nbytes = sum(leaf.nbytes for leaf in jax.tree.leaves(rl._stack))
    return {
        "create_s": created,
        "compile_s": compile_s,
        "step_us": step * 1e6,
        "per_instance_ns": step / k * 1e9,
        "bytes_per_instance": nbytes / k,
    }


def compile_time(agent: str, k: int) -> float:
    """Seconds to compile the program ``rl.init(seed=[k seeds])`` runs, in another new facade."""
    rl = make(agent)
    keys = jax.ShapeDtypeStruct((k, 2), jnp.uint32)
    start = time.perf_counter()
    jax.jit(jax.vmap(rl._fresh_row)).lower(keys).compile()
    return time.perf_counter() - start


def pure(agent: str, k: int, steps: int) -> float:
    """Nanoseconds per agent-step of ``update`` then ``sample`` under ``vmap``, ``steps`` in one ``scan``."""
    a = getattr(mab, agent)(n_arms=N_ARMS, **PARAMS[agent])

    update_names = [n for n in a.update_observation_space.spaces if n != "action"]
    sample_names = list(getattr(a.sample_observation_space, "spaces", {}))

    def one(carry, reward):
        state, key, action = carry
        key, update_key, sample_key = jax.random.split(key, 3)
        observations = bandit_observations(reward, N_ARMS)
        state = a.update(
            state, update_key, action=action, **{n: observations[n] for n in update_names}
        )
        action = a.sample(state, sample_key, **{n: observations[n] for n in sample_names})
        return (state, key, action.astype(jnp.int32)), None

    @jax.jit
    def run(carry, rewards):
        return jax.lax.scan(jax.vmap(one), carry, rewards)[0]

    keys = jax.random.split(jax.random.PRNGKey(0), k)
    carry = (jax.vmap(a.init)(keys), keys, jnp.zeros(k, jnp.int32))
    rewards = (jax.random.uniform(jax.random.PRNGKey(1), (steps, k)) < 0.5).astype(jnp.float32)
    jax.block_until_ready(run(carry, rewards))
    start = time.perf_counter()
    jax.block_until_ready(run(carry, rewards))
    return (time.perf_counter() - start) / (steps * k) * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000], help="values of K"
    )
    parser.add_argument("--agents", nargs="+", choices=sorted(PARAMS), default=sorted(PARAMS))
    parser.add_argument("--steps", type=int, default=10, help="timed steps per repeat (default 10)")
    parser.add_argument(
        "--repeats", type=int, default=5, help="repeats; the median is shown (default 5)"
    )
    args = parser.parse_args()
    print(
        "agent            |       K | create (s) | of which compile (s) | step of all K (us) "
        "| per instance (ns) | pure vmap (ns) | bytes/instance"
    )
    for agent in args.agents:
        for k in args.sizes:
            f = facade(agent, k, args.steps, args.repeats)
            p = pure(agent, k, args.steps)
            print(
                f"{agent:16} | {k:7,} | {f['create_s']:10.3f} | {f['compile_s']:20.3f} "
                f"| {f['step_us']:18,.0f} | {f['per_instance_ns']:17,.1f} "
                f"| {p:14,.1f} | {f['bytes_per_instance']:14,.0f}"
            )


if __name__ == "__main__":
    main()
