"""Run by tests/test_sharding.py in a subprocess with four forced CPU devices.

Every population runs once on a one-device mesh and once on the four-device mesh; the results,
the collectives of the compiled four-device programs and the placement of their outputs go to
the ``.npz`` and ``.json`` files named on the command line.
"""

from __future__ import annotations

import json
import sys
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from agentax.agents.mab import UCB, EGreedy
from agentax.envs import BanditProblem, wifi
from agentax.simulate import simulate, simulate_wifi
from agentax.nonstationary_study import run_scenario, scenarios
from agentax.sharding import collectives, population_mesh, put_population, shard_population, to_host
from agentax.sweep import grid, run_sweep

N = 8
PROBLEM = BanditProblem.switching([[0.2, 0.5, 0.8], [0.8, 0.5, 0.2]], [0, 60])


def final_state(key):
    """An agent's state after 100 steps (its actions too): the per-instance state of a population."""
    agent = EGreedy(3, 0.2, e_decay=0.99)
    init_key, key = jax.random.split(key)

    def step(state, t):
        sample_key, reward_key, update_key = jax.random.split(jax.random.fold_in(key, t), 3)
        action = agent.sample(state, sample_key)
        reward = jax.random.bernoulli(reward_key, PROBLEM.means_at(t)[action]).astype(jnp.float32)
        return agent.update(state, update_key, action, reward), action

    return jax.lax.scan(step, agent.init(init_key), jnp.arange(100))


def populations():
    """``name -> (per-instance function, per-instance arguments)``."""
    keys = jax.random.split(jax.random.key(3), N)
    stations = wifi.Station(jnp.linspace(2.0, 40.0, N), jnp.zeros(N), jnp.ones(N, jnp.int32))
    return {
        "simulate": (partial(simulate, UCB(3, 0.5), PROBLEM, 120), (keys,)),
        "state": (final_state, (keys,)),
        "wifi": (lambda station, key: simulate_wifi(EGreedy(12, 0.1), station, 50, key), (stations, keys)),
    }


def main(npz_path: str, json_path: str) -> None:
    one, four = population_mesh(jax.devices()[:1]), population_mesh()
    arrays, report = {}, {"devices": jax.device_count()}
    for name, (fn, args) in populations().items():
        for label, mesh in (("one", one), ("four", four)):
            placed = put_population(args, mesh)
            compiled = shard_population(fn, mesh).lower(*placed).compile()
            out = compiled(*placed)
            for i, leaf in enumerate(jax.tree.leaves(to_host(out))):
                arrays[f"{name}/{label}/{i}"] = leaf
        report[name] = {
            "collectives": sorted(collectives(compiled)),
            "out_specs": sorted({str(leaf.sharding.spec) for leaf in jax.tree.leaves(out)}),
            "out_devices": sorted({len(leaf.sharding.device_set) for leaf in jax.tree.leaves(out)}),
            "shard_rows": sorted({s.data.shape[0] for leaf in jax.tree.leaves(out) for s in leaf.addressable_shards}),
        }
    mean = jax.jit(lambda keys: jnp.mean(jax.vmap(partial(simulate, UCB(3, 0.5), PROBLEM, 20))(keys).rewards))
    report["control"] = sorted(collectives(mean.lower(put_population(jax.random.split(jax.random.key(0), N), four)).compile()))

    scenario = scenarios(500)[0]
    keys = jax.random.split(jax.random.key(1), N)
    for label, mesh in (("one", one), ("four", four)):
        result = run_scenario({"UCB": UCB(3, 0.5)}, scenario, 500, keys, mesh)["UCB"]
        arrays[f"study/{label}/final"], arrays[f"study/{label}/delays"] = result.final_regret, result.delays
        sweep = run_sweep(EGreedy(3, 0.1), PROBLEM, grid(e=[0.05, 0.2, 0.4]), 1, 120, summarize=lambda t: t.actions, mesh=mesh)
        arrays[f"sweep/{label}"] = sweep.values
    np.savez(npz_path, **arrays)
    with open(json_path, "w") as file:
        json.dump(report, file)


if __name__ == "__main__":
    main(*sys.argv[1:])
