"""Agent-steps per second of the Wi-Fi rate-adaptation study, compiled against stepped through the facade.

One agent-step is one TXOP of one station: the simulator sends an A-MPDU and the agent
(Thompson sampling, fed by :class:`~agentax.extensions.IEEE_802_11_ax_RA`) learns from it and
picks the next MCS. The same study is run four ways:

* ``compiled``: ``jax.jit(vmap(simulate_wifi))`` — every station (distinct distances and seeds) and
  every step in one program;
* ``facade, K at once``: a Python loop over steps; each step is one jitted, vmapped
  ``wifi.step`` for all stations and one ``rl.sample(..., agent_id=ids)`` for all instances;
* ``facade, one at a time``: a Python loop over steps and stations, one ``wifi.step`` and one
  ``rl.sample(agent_id=i)`` per station, as a per-station rate manager would be called;
* ``reinforced-lib ra-sim``: reinforced-lib's own loop (``rl.sample(**state)`` then
  ``env.step(action)``, as its ``examples/ra-sim/main.py``) in ``.venv-rlib`` (``make
  bench-venv``), one station. ra-sim is not in the reinforced-lib package, only in its
  repository: pass a checkout of ``examples/ra-sim`` with ``--ra-sim-dir``; without one this
  row is skipped (see ``rlib_ra_sim_side.py``).

Each measurement is repeated and the median reported (the machine is shared)::

    python benchmarks/wifi_study.py                    # 1,000 stations x seeds
    python benchmarks/wifi_study.py --quick            # a small run that checks everything works
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from operator import itemgetter
from pathlib import Path

import jax
import jax.numpy as jnp

from agentax import RLib
from agentax.agents.mab import ThompsonSampling
from agentax.envs import wifi
from agentax.extensions import IEEE_802_11_ax_RA
from agentax.simulate import simulate_wifi

ROOT = Path(__file__).resolve().parent.parent
RLIB_PYTHON = ROOT / ".venv-rlib" / "bin" / "python"
PARAMS = wifi.WifiParams()


def stations(n: int) -> wifi.Station:
    """``n`` static stations spread from 1 to 50 m (one seed each)."""
    return wifi.Station(jnp.linspace(1.0, 50.0, n), jnp.zeros(n), jnp.ones(n, jnp.int32))


def median_rate(measure, repeats: int) -> float:
    """Median over ``repeats`` of ``measure()``, which returns (agent-steps, seconds)."""
    rates = []
    for _ in range(repeats):
        steps, seconds = measure()
        rates.append(steps / seconds)
    return statistics.median(rates)


def compiled(n: int, n_steps: int, repeats: int) -> float:
    agent = ThompsonSampling(12)
    keys = jax.random.split(jax.random.key(0), n)
    program = (
        jax.jit(jax.vmap(lambda s, k: simulate_wifi(agent, s, n_steps, k)))
        .lower(stations(n), keys)
        .compile()
    )

    def measure():
        started = time.perf_counter()
        jax.block_until_ready(program(stations(n), keys))
        return n * n_steps, time.perf_counter() - started

    return median_rate(measure, repeats)


def _facade(n: int) -> RLib:
    rl = RLib(agent_type=ThompsonSampling, ext_type=IEEE_802_11_ax_RA)
    for seed in range(n):
        rl.init(seed)
    return rl


def facade_batched(n: int, n_steps: int, repeats: int) -> float:
    step = jax.jit(jax.vmap(wifi.step, in_axes=(None, 0, 0, 0)))
    ids = list(range(n))

    def measure():
        rl = _facade(n)
        state, obs = jax.vmap(wifi.reset, in_axes=(None, 0))(PARAMS, stations(n))
        action = rl.sample(**jax.device_get(obs), agent_id=ids)
        keys = jax.random.split(jax.random.key(1), (n_steps, n))
        step(PARAMS, state, jnp.asarray(action), keys[0])  # compile outside the clock
        started = time.perf_counter()
        for t in range(n_steps):
            state, obs, _ = step(PARAMS, state, jnp.asarray(action), keys[t])
            action = rl.sample(**jax.device_get(obs), agent_id=ids)
        return n * n_steps, time.perf_counter() - started

    return median_rate(measure, repeats)


def facade_one_at_a_time(n: int, n_steps: int, repeats: int) -> float:
    step = jax.jit(wifi.step)
    all_stations = stations(n)

    def measure():
        rl = _facade(n)
        states, actions = [], []
        for i in range(n):
            state, obs = wifi.reset(PARAMS, jax.tree.map(itemgetter(i), all_stations))
            states.append(state)
            actions.append(rl.sample(**jax.device_get(obs), agent_id=i))
        key = jax.random.key(2)
        step(PARAMS, states[0], actions[0], key)  # compile outside the clock
        started = time.perf_counter()
        for t in range(n_steps):
            for i in range(n):
                states[i], obs, _ = step(
                    PARAMS, states[i], actions[i], jax.random.fold_in(key, t * n + i)
                )
                actions[i] = rl.sample(**jax.device_get(obs), agent_id=i)
        return n * n_steps, time.perf_counter() - started

    return median_rate(measure, repeats)


def reinforced_lib(
    python: Path, ra_sim_dir: Path | None, n_steps: int, repeats: int
) -> tuple[float | None, str]:
    """reinforced-lib's ra-sim loop in its own environment, or why it was not run."""
    if not python.exists():
        return None, f"no {python} (make bench-venv)"
    if ra_sim_dir is None or not (ra_sim_dir / "sim.py").is_file():
        return (
            None,
            "ra-sim is only in reinforced-lib's repository, not its package: pass --ra-sim-dir",
        )
    side = Path(__file__).with_name("rlib_ra_sim_side.py")
    command = [str(python), str(side), str(ra_sim_dir), str(n_steps), str(repeats)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=1800)
    measured = json.loads(output.stdout.strip().splitlines()[-1])
    how = (
        "with its IEEE_802_11_ax_RA"
        if measured["extension"]
        else (
            "without IEEE_802_11_ax_RA, which the installed reinforced-lib lacks: observations by name, "
            "computed in Python as that extension does"
        )
    )
    return measured["steps_per_second"], f"measured {how}"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--stations", type=int, default=1000, help="stations x seeds (default: %(default)s)"
    )
    parser.add_argument(
        "--steps", type=int, default=500, help="TXOPs of the compiled run (default: %(default)s)"
    )
    parser.add_argument(
        "--facade-steps",
        type=int,
        default=20,
        help="TXOPs per station through the facade, K at once",
    )
    parser.add_argument(
        "--single-steps",
        type=int,
        default=2,
        help="TXOPs per station through the facade, one at a time",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--ra-sim-dir",
        type=Path,
        default=None,
        help="a checkout of reinforced-lib's examples/ra-sim",
    )
    parser.add_argument(
        "--rlib-python",
        type=Path,
        default=RLIB_PYTHON,
        help="Python of reinforced-lib's environment",
    )
    parser.add_argument("--quick", action="store_true", help="50 stations, few steps, 1 repeat")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "results" / "wifi_study.json"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.stations, args.steps, args.facade_steps, args.single_steps, args.repeats = (
            50,
            50,
            5,
            1,
            1,
        )
    rates = {
        "compiled": compiled(args.stations, args.steps, args.repeats),
        "facade, K at once": facade_batched(args.stations, args.facade_steps, args.repeats),
        "facade, one at a time": facade_one_at_a_time(
            args.stations, args.single_steps, args.repeats
        ),
    }
    ra_sim, why = reinforced_lib(
        args.rlib_python, args.ra_sim_dir, 2 * args.facade_steps * 10, args.repeats
    )
    if ra_sim is not None:
        rates["reinforced-lib ra-sim (1 station)"] = ra_sim
    print(
        f"Thompson sampling on {args.stations:,} stations x seeds; agent-steps per second, median of {args.repeats}"
    )
    for name, rate in rates.items():
        print(f"  {name:36s} {rate:>14,.0f}   compiled is {rates['compiled'] / rate:>9,.1f}x")
    print(f"  reinforced-lib ra-sim: {'' if ra_sim is not None else 'not run: '}{why}")
    machine = {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "backend": jax.default_backend(),
    }
    result = {
        "stations": args.stations,
        "repeats": args.repeats,
        "agent_steps_per_second": rates,
        "ra_sim": why,
        "machine": machine,
    }
    if not args.quick:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        temporary = args.output.with_suffix(".tmp")
        temporary.write_text(json.dumps(result, indent=1))
        temporary.replace(args.output)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
