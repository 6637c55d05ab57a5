"""DQN on CartPole-v1: agentax against reinforced-lib, plus a fully compiled agentax path.

Three measurements, figures are medians over ``--repeats`` runs:

* ``facade``: agentax's ``DQN`` through ``RLib`` and the ``Gymnasium`` extension, driven by
  :func:`agentax.training.train` on gymnasium's CartPole-v1: environment steps per second after
  a warm-up (compiled, buffer ready, training every step), and environment steps until the mean
  return of the last 10 episodes reaches 475 (fixed seeds, a capped budget).
* ``reinforced-lib``: the same for reinforced-lib's ``DQN`` with its ``Gymnasium`` extension, in
  its own virtual environment (``rlib_dqn_side.py``), with the same network (64-64 ReLU), Adam
  1e-3, and the same replay, discount and epsilon settings (``cartpole_episodes.py``).
* ``compiled``: agentax ``DQN``'s pure ``sample`` / ``update`` and the JAX CartPole
  (:mod:`agentax.envs.cartpole`) in one jitted ``lax.scan``: environment steps per second.

Targets: facade >= 3x reinforced-lib's steps per second, and fewer steps to solve::

    python benchmarks/dqn_cartpole.py            # full run (several minutes)
    python benchmarks/dqn_cartpole.py --quick    # seconds: checks every path works
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import gymnasium as gym
import jax
import jax.numpy as jnp
import optax
from flax import linen as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cartpole_episodes import (
    ENV_ID,
    HIDDEN,
    LEARNING_RATE,
    SHARED_HYPERPARAMETERS,
    WINDOW,
    steps_to_solve,
)
from run import machine, progress

from agentax import RLib
from agentax.agents.deep import DQN
from agentax.envs import cartpole
from agentax.extensions import Gymnasium
from agentax.training import train

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "benchmarks" / "results" / "dqn_cartpole.json"
RLIB_PYTHONS = (ROOT / ".venv-rlib" / "bin" / "python", Path("/tmp/rlvenv/bin/python"))
SPEED_TARGET = 3.0
FULL = dict(warmup=500, measure=3000, compiled_steps=20_000, budget=50_000, solve_seeds=[0, 1, 2])
QUICK = dict(warmup=80, measure=100, compiled_steps=200, budget=300, solve_seeds=[0])


class QNetwork(nn.Module):
    """The network both libraries use: 64-64 ReLU, one value per action."""

    @nn.compact
    def __call__(self, x):
        for width in HIDDEN:
            x = nn.relu(nn.Dense(width)(x))
        return nn.Dense(cartpole.N_ACTIONS)(x)


def make_agent() -> DQN:
    return DQN(
        QNetwork(),
        cartpole.OBS_SHAPE,
        cartpole.N_ACTIONS,
        optax.adam(LEARNING_RATE),
        **SHARED_HYPERPARAMETERS,
    )


def make_rlib(seed: int) -> RLib:
    rl = RLib(
        agent_type=DQN,
        agent_params={
            "q_network": QNetwork(),
            "optimizer": optax.adam(LEARNING_RATE),
            **SHARED_HYPERPARAMETERS,
        },
        ext_type=Gymnasium,
        ext_params={"env_id": ENV_ID},
    )
    rl.init(seed)
    return rl


# -- agentax through the facade ---------------------------------------------------------------


def facade_speed(seed: int, warmup: int, measure: int) -> float:
    """Steps per second of ``train`` once compiled and learning from a ready buffer."""
    rl, env = make_rlib(seed), gym.make(ENV_ID)
    train(rl, env, warmup, seed=seed, progress=False)
    return train(rl, env, measure, seed=seed + 1000, progress=False).steps_per_second


def facade_solve(seed: int, budget: int) -> dict:
    """Steps until the last 10 episodes average 475, within ``budget`` steps of ``train``."""
    stats = train(make_rlib(seed), gym.make(ENV_ID), budget, seed=seed, progress=False)
    return {
        "seed": seed,
        "steps": steps_to_solve(stats.lengths, stats.returns),
        "episodes": len(stats.returns),
        "seconds": stats.seconds,
    }


# -- the compiled path ------------------------------------------------------------------------


def compiled_run(agent: DQN, n_steps: int):
    """A jitted function ``seed -> (final agent state, episode returns)`` of ``n_steps`` steps of
    agent and JAX CartPole in one ``lax.scan``; returns are NaN on steps that end no episode."""

    def one_step(carry, key):
        agent_state, env_state, obs, episode_return = carry
        sample_key, update_key, reset_key, start_key = jax.random.split(key, 4)
        action = agent.sample(agent_state, sample_key, obs)
        env_state, obs, reward, terminated, truncated = cartpole.step(env_state, action)
        agent_state = agent.update(
            agent_state, update_key, obs, action, reward, terminated, truncated
        )
        episode_return = episode_return + reward
        done = terminated | truncated

        def new_episode(agent_state):
            env_state, obs = cartpole.reset(reset_key)
            zero = jnp.float32(0.0)
            start = agent.update(
                agent_state, start_key, obs, action, zero, jnp.bool_(False), jnp.bool_(False)
            )
            return start, env_state, obs

        agent_state, env_state, obs = jax.lax.cond(
            done, new_episode, lambda s: (s, env_state, obs), agent_state
        )
        finished = jnp.where(done, episode_return, jnp.nan)
        return (agent_state, env_state, obs, jnp.where(done, 0.0, episode_return)), finished

    @jax.jit
    def run(seed):
        init_key, reset_key, start_key, steps_key = jax.random.split(jax.random.PRNGKey(seed), 4)
        env_state, obs = cartpole.reset(reset_key)
        agent_state = agent.init(init_key)
        agent_state = agent.update(
            agent_state, start_key, obs, 0, jnp.float32(0.0), jnp.bool_(False), jnp.bool_(False)
        )
        carry = (agent_state, env_state, obs, jnp.float32(0.0))
        (agent_state, *_), returns = jax.lax.scan(
            one_step, carry, jax.random.split(steps_key, n_steps)
        )
        return agent_state, returns

    return run


def compiled_speed(run, seed: int, n_steps: int) -> tuple[float, float]:
    """Steps per second of a compiled run (already compiled) and its last 10 episodes' mean return."""
    started = time.perf_counter()
    _, returns = jax.block_until_ready(run(seed))
    seconds = time.perf_counter() - started
    finished = returns[~jnp.isnan(returns)]
    return n_steps / seconds, float(jnp.mean(finished[-WINDOW:])) if finished.size else math.nan


# -- reinforced-lib ---------------------------------------------------------------------------


def rlib_python() -> Path | None:
    return next((python for python in RLIB_PYTHONS if python.exists()), None)


def run_rlib(python: Path, sizes: dict, repeats: int) -> dict:
    settings = {
        "repeats": repeats,
        **{k: sizes[k] for k in ("warmup", "measure", "budget", "solve_seeds")},
    }
    script = Path(__file__).resolve().parent / "rlib_dqn_side.py"
    done = subprocess.run(
        [str(python), str(script), json.dumps(settings)],
        cwd=script.parent,
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- report -----------------------------------------------------------------------------------


def summary(samples: Sequence[float]) -> dict:
    if not samples or not all(math.isfinite(x) and x > 0 for x in samples):
        raise RuntimeError(f"a figure is not positive and finite: {list(samples)}")
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": list(samples),
    }


def solve_summary(solves: list[dict], budget: int) -> dict:
    """Median steps to solve over seeds; a seed that never solves counts as the budget (``> budget``)."""
    reached = [s["steps"] for s in solves if s["steps"] is not None]
    counted = [s["steps"] if s["steps"] is not None else budget for s in solves]
    return {
        "budget": budget,
        "runs": solves,
        "solved": f"{len(reached)}/{len(solves)}",
        "median_steps": statistics.median(counted) if len(reached) * 2 > len(solves) else None,
    }


def steps_text(solve: dict | None) -> str:
    if solve is None:
        return "-"
    median = solve["median_steps"]
    return (
        f"{median:,.0f} ({solve['solved']} seeds)"
        if median is not None
        else f"not reached in {solve['budget']:,} ({solve['solved']})"
    )


def table(report: dict) -> str:
    rows = report["results"]
    facade, rlib, compiled = rows["facade"], rows.get("reinforced_lib"), rows["compiled"]
    lines = [f"{'path':<34}{'env steps/s':>14}{'steps to mean 475 (last 10)':>34}"]
    lines.append(
        f"{'agentax facade (training.train)':<34}{facade['steps_per_second']['median']:>14,.0f}"
        f"{steps_text(facade['solve']):>34}"
    )
    if rlib:
        lines.append(
            f"{'reinforced-lib DQN + Gymnasium ext':<34}{rlib['steps_per_second']['median']:>14,.0f}"
            f"{steps_text(rlib['solve']):>34}"
        )
    lines.append(
        f"{'agentax compiled (lax.scan)':<34}{compiled['steps_per_second']['median']:>14,.0f}"
        f"{'(last-10 mean return ' + format(compiled['last_mean_return'], '.0f') + ')':>34}"
    )
    for name, verdict in report["targets"].items():
        lines.append(f"{name}: {verdict}")
    return "\n".join(lines)


def targets(results: dict) -> dict:
    rlib = results.get("reinforced_lib")
    if rlib is None:
        return {"targets": "not checked: reinforced-lib was not measured"}
    ratio = results["facade"]["steps_per_second"]["median"] / rlib["steps_per_second"]["median"]
    ours, theirs = results["facade"]["solve"]["median_steps"], rlib["solve"]["median_steps"]
    if ours is None and theirs is None:
        fewer = (
            f"not decided (neither solved within {rlib['solve']['budget']:,} steps on most seeds)"
        )
    elif ours is None:
        fewer = "NOT MET (agentax did not solve within the budget on most seeds)"
    elif theirs is None:
        fewer = f"met ({ours:,.0f} vs not reached in {rlib['solve']['budget']:,})"
    else:
        fewer = f"{'met' if ours < theirs else 'NOT MET'} ({ours:,.0f} vs {theirs:,.0f}, ratio {theirs / ours:.2f}x)"
    return {
        "facade speed >= 3x reinforced-lib": f"{'met' if ratio >= SPEED_TARGET else 'NOT MET'} ({ratio:.2f}x)",
        "compiled vs reinforced-lib": (
            f"{results['compiled']['steps_per_second']['median'] / rlib['steps_per_second']['median']:.1f}x"
        ),
        "fewer steps to solve": fewer,
    }


# -- main -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Progress goes to stderr, the table to stdout, the figures to --output (JSON).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, one repeat: checks that every path works"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="speed measurements per path (default 3, --quick 1)",
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=None,
        help="most environment steps of a solve run (default 50000)",
    )
    parser.add_argument(
        "--solve-seeds",
        type=int,
        nargs="+",
        default=None,
        help="seeds of the solve runs (default 0 1 2)",
    )
    parser.add_argument("--no-rlib", action="store_true", help="measure agentax alone")
    parser.add_argument(
        "--rlib-python",
        type=Path,
        default=None,
        help="the python of reinforced-lib's virtual environment (default: the first of "
        f"{', '.join(map(str, RLIB_PYTHONS))} that exists)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=OUTPUT,
        help=f"where the JSON goes (default {OUTPUT.relative_to(ROOT)})",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    sizes.update(
        {
            k: v
            for k, v in (("budget", args.budget), ("solve_seeds", args.solve_seeds))
            if v is not None
        }
    )
    repeats = args.repeats or (1 if args.quick else 3)
    results, versions = (
        {},
        {
            "agentax": {
                n: version(n) for n in ("agentax", "jax", "jaxlib", "flax", "optax", "gymnasium")
            }
        },
    )

    speeds = []
    for repeat in range(repeats):
        speeds.append(facade_speed(repeat, sizes["warmup"], sizes["measure"]))
        progress(f"agentax facade speed {repeat + 1}/{repeats}: {speeds[-1]:.0f} steps/s")
    solves = []
    for seed in sizes["solve_seeds"]:
        solves.append(facade_solve(seed, sizes["budget"]))
        progress(
            f"agentax facade solve seed {seed}: {solves[-1]['steps'] or 'not reached'} steps "
            f"({solves[-1]['seconds']:.0f} s)"
        )
    results["facade"] = {
        "steps_per_second": summary(speeds),
        "solve": solve_summary(solves, sizes["budget"]),
    }

    run = compiled_run(make_agent(), sizes["compiled_steps"])
    jax.block_until_ready(run(0))  # compile
    compiled = [
        compiled_speed(run, repeat + 1, sizes["compiled_steps"]) for repeat in range(repeats)
    ]
    progress(f"agentax compiled: {[round(s) for s, _ in compiled]} steps/s")
    results["compiled"] = {
        "steps_per_second": summary([s for s, _ in compiled]),
        "last_mean_return": compiled[-1][1],
        "steps_per_run": sizes["compiled_steps"],
    }

    python = None if args.no_rlib else args.rlib_python or rlib_python()
    if python is not None:
        progress(f"reinforced-lib with {python}")
        side = run_rlib(python, sizes, repeats)
        versions["reinforced_lib"] = side["versions"]
        results["reinforced_lib"] = {
            "steps_per_second": summary(side["steps_per_second"]),
            "solve": solve_summary(side["solve"], sizes["budget"]),
        }
    elif not args.no_rlib:
        progress("reinforced-lib not found (make bench-venv): agentax alone")

    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions,
        "settings": {
            "quick": args.quick,
            "repeats": repeats,
            **sizes,
            "shared_hyperparameters": SHARED_HYPERPARAMETERS,
            "learning_rate": LEARNING_RATE,
            "hidden": list(HIDDEN),
        },
        "results": results,
    }
    report["targets"] = targets(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
