"""Run by tests/test_sharding.py in a subprocess with four forced CPU devices.

Every population runs once on a one-device mesh and once on the four-device mesh; the results,
the collectives of the compiled four-device programs and the placement of their outputs go to
the ``.npz`` and ``.json`` files named on the command line. So does the facade
(``RLib(mesh=...)``): 8 instances stepped all together, 6 instances (not a multiple of the
devices: the gather-and-scatter path), and a facade saved on four devices and loaded on one.
"""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from agentax import RLib
from agentax.agents.mab import UCB, EGreedy
from agentax.envs import BanditProblem, wifi
from agentax.extensions import BasicMab
from agentax.nonstationary_study import run_scenario, scenarios
from agentax.rlib import _count_words
from agentax.sharding import collectives, population_mesh, put_population, shard_population, to_host
from agentax.simulate import simulate, simulate_wifi
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
        "wifi": (
            lambda station, key: simulate_wifi(EGreedy(12, 0.1), station, 50, key),
            (stations, keys),
        ),
    }


def facade(mesh, n: int, steps: int = 50, checkpoint: str | None = None):
    """A facade of ``n`` EGreedy instances on ``mesh`` (created one by one when 4 does not divide
    ``n``), its last instance stepped alone, then all of them ``steps`` times together
    (``agent_id=range(n)``); or one loaded from ``checkpoint`` and stepped on. Its actions, states
    and step counts, and the facade."""
    if checkpoint is None:
        rl = RLib(
            agent_type=EGreedy,
            agent_params={"e": 0.3},
            ext_type=BasicMab,
            ext_params={"n_arms": 5},
            mesh=mesh,
        )
        ids = (
            [rl.init(seed) for seed in range(n)] if n % 4 else rl.init(seed=list(range(n)))
        )  # grown, or in one call
        rl.sample(reward=0.5, agent_id=ids[-1])  # one id: in place, on the device of its row
    else:
        rl = RLib.load(checkpoint, mesh=mesh)
    rewards = np.random.default_rng(n).random((steps, n)).astype(np.float32)
    actions = np.stack([rl.sample(reward=r, agent_id=range(n)) for r in rewards])
    states = [
        np.concatenate([np.ravel(leaf) for leaf in jax.tree.leaves(rl.state(i))]) for i in range(n)
    ]
    return {"actions": actions, "states": np.stack(states), "steps": np.array(rl._steps[:n])}, rl


def facade_step_report(rl) -> dict:
    """The collectives of the facade's compiled all-instances step (on a mesh: the new rows,
    kept by the host unless refused) and the placement of its new rows and actions."""
    stepper = rl._steppers[(("reward",), True, False, "step")]  # given names, batched, greedy, mode
    n = rl.n_instances
    sharding = rl._sharding
    raw = jax.device_put(
        stepper.raw_inputs({"reward": np.zeros(n, np.float32)}, n, None, {}), sharding
    )
    counts, do_update = jax.device_put((_count_words(rl._steps), np.ones(n, bool)), sharding)
    compiled = stepper._compute.lower(rl._stack, None, counts, do_update, raw, "all").compile()
    leaves = jax.tree.leaves(compiled(rl._stack, None, counts, do_update, raw))
    return {
        "collectives": sorted(collectives(compiled)),
        "out_specs": sorted({str(leaf.sharding.spec) for leaf in leaves}),
        "out_devices": sorted({len(leaf.sharding.device_set) for leaf in leaves}),
        "shard_rows": sorted({s.data.shape[0] for leaf in leaves for s in leaf.addressable_shards}),
    }


def facades(one, four, directory: Path, arrays: dict, report: dict) -> None:
    """The facade's runs on one and four devices, into ``arrays`` and ``report``."""
    for label, mesh in (("one", one), ("four", four)):
        for n in (8, 6):
            result, rl = facade(mesh, n)
            arrays.update({f"facade{n}/{label}/{name}": value for name, value in result.items()})
            report[f"facade{n}/{label}/capacity"] = len(rl._steps)
    report["facade"] = facade_step_report(facade(four, 8, 2)[1])
    saved = facade(four, 8, 20)[1].save(directory / "four.npz")
    for label, mesh in (("one", one), ("four", four)):
        result, rl = facade(mesh, 8, 30, checkpoint=saved)
        arrays.update({f"resumed/{label}/{name}": value for name, value in result.items()})
    report["resumed/four/specs"] = sorted(
        {str(leaf.sharding.spec) for leaf in jax.tree.leaves(rl._stack)}
    )
    report["refused"] = refused_step_changes_nothing(four)


def refused_step_changes_nothing(mesh) -> bool:
    """A step of all 4 instances that one overflows is refused, on 4 devices, and changes no state."""
    from agentax.errors import NonFiniteStateError

    rl = RLib(agent_type=UCB, agent_params={"n_arms": 1, "c": 1.0}, no_ext_mode=True, mesh=mesh)
    rl.init(seed=[1, 2, 3, 4])
    rl.sample(reward=np.zeros(4, np.float32), agent_id=range(4))
    rl.sample(reward=np.array([3e38, 0, 0, 0], np.float32), agent_id=range(4))  # R = 3e38: finite
    before = [np.asarray(leaf) for leaf in jax.tree.leaves(rl._stack)]
    try:
        rl.sample(
            reward=np.array([3e38, 0, 0, 0], np.float32), agent_id=range(4)
        )  # R would overflow
    except NonFiniteStateError:
        return all(
            np.array_equal(a, np.asarray(b))
            for a, b in zip(before, jax.tree.leaves(rl._stack), strict=True)
        )
    return False


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
            "shard_rows": sorted(
                {s.data.shape[0] for leaf in jax.tree.leaves(out) for s in leaf.addressable_shards}
            ),
        }
    mean = jax.jit(
        lambda keys: jnp.mean(jax.vmap(partial(simulate, UCB(3, 0.5), PROBLEM, 20))(keys).rewards)
    )
    report["control"] = sorted(
        collectives(
            mean.lower(put_population(jax.random.split(jax.random.key(0), N), four)).compile()
        )
    )

    scenario = scenarios(500)[0]
    keys = jax.random.split(jax.random.key(1), N)
    for label, mesh in (("one", one), ("four", four)):
        result = run_scenario({"UCB": UCB(3, 0.5)}, scenario, 500, keys, mesh)["UCB"]
        arrays[f"study/{label}/final"], arrays[f"study/{label}/delays"] = (
            result.final_regret,
            result.delays,
        )
        sweep = run_sweep(
            EGreedy(3, 0.1),
            PROBLEM,
            grid(e=[0.05, 0.2, 0.4]),
            1,
            120,
            summarize=lambda t: t.actions,
            mesh=mesh,
        )
        arrays[f"sweep/{label}"] = sweep.values
    facades(one, four, Path(npz_path).parent, arrays, report)
    np.savez(npz_path, **arrays)
    with open(json_path, "w") as file:
        json.dump(report, file)


if __name__ == "__main__":
    main(*sys.argv[1:])
