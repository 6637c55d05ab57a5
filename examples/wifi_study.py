"""Wi-Fi rate adaptation study: every bandit agent picks the MCS of an 802.11ax station.

Each agent drives stations of :mod:`agentax.envs.wifi` through the
:class:`~agentax.extensions.IEEE_802_11_ax_RA` extension, on two scenarios:

* **static** — a station at each of several distances from the access point;
* **moving** — a station leaving the access point, from 1 m to ``--max-distance`` m over the run.

Every agent, the scenarios and the seeds run in ONE compiled program (``jax.jit`` of a
``vmap`` over stations and seeds of a ``lax.scan`` over TXOPs). The table gives each agent's mean
throughput over the seeds with a 95% confidence interval (Student t), next to an oracle that
knows the channel and always sends at the MCS of highest expected throughput. Two plots: the
moving station's throughput over time, and the static stations' throughput over distance.

    python examples/wifi_study.py                 # short run (a few seconds of simulated time)
    python examples/wifi_study.py --full          # 25 s at 2 m/s (as reinforced-lib's ra-sim), 100 seeds
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from agentax.agents import mab
from agentax.agents.base import BaseAgent
from agentax.envs import wifi
from agentax.envs.wifi import HE_RATES_MBPS
from agentax.extensions import IEEE_802_11_ax_RA
from agentax.simulate import simulate_wifi

MAX_RATE = float(HE_RATES_MBPS[-1])
N_MCS = len(HE_RATES_MBPS)

AGENTS: dict[str, Callable[[float], BaseAgent]] = {
    # Rewards are throughputs in Mb/s (0 to 143). Constant step sizes and discounts let the
    # value-based agents follow a moving station; Thompson sampling forgets at 1/s of simulated time.
    "EGreedy": lambda duration: mab.EGreedy(N_MCS, e=0.05, alpha=0.1, optimistic_start=MAX_RATE),
    "Softmax": lambda duration: mab.Softmax(N_MCS, lr=1.0, alpha=0.1, multiplier=1 / MAX_RATE),
    "UCB": lambda duration: mab.UCB(N_MCS, c=0.5 * MAX_RATE, gamma=0.995),
    "Exp3": lambda duration: mab.Exp3(N_MCS, gamma=0.05, min_reward=0.0, max_reward=MAX_RATE),
    "ThompsonSampling": lambda duration: mab.ThompsonSampling(N_MCS, decay=1.0),
    "NormalThompsonSampling": lambda duration: mab.NormalThompsonSampling(
        N_MCS, alpha=1.0, beta=1.0, lam=1.0, mu=0.0
    ),
    "RoundRobinScheduler": lambda duration: mab.RoundRobinScheduler(N_MCS),
    "RandomScheduler": lambda duration: mab.RandomScheduler(N_MCS),
}
"""The study's agents and their hyperparameters (a function of the simulated duration)."""

SKIPPED = {
    "LogNormalThompsonSampling": "models log(reward), but an A-MPDU that loses every frame gives reward 0",
    "Masked": "wraps another agent with a mask of arms; it is the wrapped agent that adapts the rate",
}
"""Bandit agents the study leaves out, and why."""

ORACLE = "oracle"
STATIC_DISTANCES = (1.0, 10.0, 20.0, 30.0, 40.0, 50.0)
_TIME_BINS = 50
_COMPILER_OPTIONS = {"xla_backend_optimization_level": 2}  # compiles ~2x faster, same run time


class Config(NamedTuple):
    """What to run: agent names, seeds, simulated seconds per run, the moving station's path."""

    agents: tuple[str, ...]
    n_seeds: int
    duration_s: float
    max_distance_m: float
    seed: int


class Result(NamedTuple):
    """One agent (or the oracle) over every station and seed.

    Attributes:
      name: agent name.
      static: mean throughput per seed, averaged over the static distances (Mb/s), shape ``(seeds,)``.
      moving: the moving station's mean throughput per seed (Mb/s), shape ``(seeds,)``.
      by_distance: static throughput per distance, mean over seeds, shape ``(distances,)``.
      over_time: the moving station's throughput in each time bin, mean over seeds.
    """

    name: str
    static: np.ndarray
    moving: np.ndarray
    by_distance: np.ndarray
    over_time: np.ndarray


def stations(config: Config) -> wifi.Station:
    """The static stations, then the moving one, stacked along a leading axis."""
    speed = (config.max_distance_m - 1.0) / config.duration_s
    return wifi.Station(
        distance_m=jnp.array([*STATIC_DISTANCES, 1.0], jnp.float32),
        velocity_mps=jnp.array([0.0] * len(STATIC_DISTANCES) + [speed], jnp.float32),
        n_wifi=jnp.ones(len(STATIC_DISTANCES) + 1, jnp.int32),
    )


def n_steps_for(duration_s: float, params: wifi.WifiParams = wifi.WifiParams()) -> int:
    """Enough TXOPs for every run to reach ``duration_s``, whatever MCS it uses."""
    return math.ceil(duration_s / float(jnp.min(wifi.txop_duration(params)))) + 1


def _summarize(records: wifi.Record, duration_s: float) -> dict[str, jax.Array]:
    """Throughput over ``[0, duration_s)`` and in time bins, for records of shape ``(..., steps)``."""
    start = records.time - records.duration
    counted = jnp.where(start < duration_s, records.delivered_bits, 0.0)
    bins = jnp.clip((start / duration_s * _TIME_BINS).astype(jnp.int32), 0, _TIME_BINS - 1)
    binned = jax.vmap(lambda bits, ids: jax.ops.segment_sum(bits, ids, _TIME_BINS), in_axes=(0, 0))
    flat = counted.reshape(-1, counted.shape[-1]), bins.reshape(-1, bins.shape[-1])
    per_bin = (
        binned(*flat).reshape(*counted.shape[:-1], _TIME_BINS) / (duration_s / _TIME_BINS) / 1e6
    )
    return {"throughput": counted.sum(-1) / duration_s / 1e6, "per_bin": per_bin}


def study_program(config: Config, params: wifi.WifiParams = wifi.WifiParams()) -> Callable:
    """One jittable function of the run keys: every agent and the oracle on every station and seed.

    Returns ``{name: {"throughput": (stations, seeds), "per_bin": (stations, seeds, bins)}}``.
    """
    n_steps = n_steps_for(config.duration_s, params)
    agents = {name: AGENTS[name](config.duration_s) for name in config.agents}
    ext = IEEE_802_11_ax_RA()
    batch = stations(config)

    def over_stations_and_seeds(run_one, keys):
        per_seed = jax.vmap(run_one, in_axes=(None, 0))
        return jax.vmap(per_seed, in_axes=(0, None))(batch, keys)

    def program(keys):
        results = {}
        for name, agent in agents.items():
            records = over_stations_and_seeds(
                lambda s, k, a=agent: simulate_wifi(a, s, n_steps, k, params, ext), keys
            )
            results[name] = _summarize(records, config.duration_s)
        oracle = over_stations_and_seeds(lambda s, k: wifi.run_oracle(s, n_steps, k, params), keys)
        results[ORACLE] = _summarize(oracle, config.duration_s)
        return results

    return program


def run_study(config: Config) -> tuple[list[Result], dict[str, float]]:
    """Compile and run the study; results (agents by mean moving throughput, oracle first) and timings."""
    keys = jax.random.split(jax.random.key(config.seed), config.n_seeds)
    started = time.perf_counter()
    compiled = jax.jit(study_program(config)).lower(keys).compile(_COMPILER_OPTIONS)
    compiled_at = time.perf_counter()
    output = jax.device_get(compiled(keys))
    finished = time.perf_counter()
    n_static = len(STATIC_DISTANCES)
    results = [
        Result(
            name=name,
            static=summary["throughput"][:n_static].mean(0),
            moving=summary["throughput"][n_static],
            by_distance=summary["throughput"][:n_static].mean(1),
            over_time=summary["per_bin"][n_static].mean(0),
        )
        for name, summary in output.items()
    ]
    results.sort(key=lambda r: (r.name != ORACLE, -float(r.moving.mean())))
    n_runs = (len(config.agents) + 1) * (n_static + 1) * config.n_seeds
    timings = {
        "compile_s": compiled_at - started,
        "run_s": finished - compiled_at,
        "agent_steps": n_runs * n_steps_for(config.duration_s),
    }
    return results, timings


def confidence_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of its ``level`` Student-t confidence interval (0 for one value)."""
    values = np.asarray(values, np.float64)
    if values.size < 2:
        return float(values.mean()), 0.0
    half = (
        stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    )
    return float(values.mean()), float(half)


def format_table(results: Sequence[Result]) -> str:
    """One row per agent: mean throughput ± 95% CI on each scenario, and its share of the oracle's."""
    oracle = next(r for r in results if r.name == ORACLE)
    header = ("agent", "static [Mb/s]", "of oracle", "moving [Mb/s]", "of oracle")
    rows = [header]
    for result in results:
        row = [result.name]
        for mine, best in ((result.static, oracle.static), (result.moving, oracle.moving)):
            mean, half = confidence_interval(mine)
            row += [f"{mean:.1f} ± {half:.1f}", f"{100 * mean / np.mean(best):.0f}%"]
        rows.append(tuple(row))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]

    def line(row):
        return "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )

    lines = [line(row) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_plots(results: Sequence[Result], config: Config, out_dir: Path) -> list[Path]:
    """``wifi_time.png`` (moving station) and ``wifi_distance.png`` (static stations)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = (np.arange(_TIME_BINS) + 0.5) * config.duration_s / _TIME_BINS
    paths = []
    for filename, x, y_of, xlabel, title in (
        (
            "wifi_time.png",
            times,
            lambda r: r.over_time,
            "time [s]",
            f"station moving from 1 m to {config.max_distance_m:g} m",
        ),
        (
            "wifi_distance.png",
            np.array(STATIC_DISTANCES),
            lambda r: r.by_distance,
            "distance [m]",
            "static stations",
        ),
    ):
        figure, axes = plt.subplots(figsize=(8, 5))
        for result in results:
            style = {"color": "black", "linewidth": 2.5} if result.name == ORACLE else {}
            axes.plot(
                x,
                y_of(result),
                label=result.name,
                marker=None if filename == "wifi_time.png" else "o",
                **style,
            )
        title = f"802.11ax rate adaptation: {title} ({config.n_seeds} seeds)"
        axes.set(xlabel=xlabel, ylabel="throughput [Mb/s]", title=title)
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
        path = out_dir / filename
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        paths.append(path)
    return paths


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--agents", default=",".join(AGENTS), help="agents separated by commas (default: all)"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="independent runs per station (default 10, --full 100)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="simulated seconds per run (default 4, --full 25)",
    )
    parser.add_argument(
        "--max-distance", type=float, default=51.0, help="where the moving station ends (m)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full", action="store_true", help="the full study: 25 s, 100 seeds")
    parser.add_argument("--out-dir", type=Path, default=Path("."), help="directory of the plots")
    parser.add_argument("--no-plot", action="store_true")
    return parser


def configure(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Config:
    names = tuple(dict.fromkeys(part.strip() for part in args.agents.split(",") if part.strip()))
    for name in names:
        if name not in AGENTS:
            reason = f" ({SKIPPED[name]})" if name in SKIPPED else ""
            parser.error(
                f"--agents: {name!r} is not in the study{reason}; choose from {', '.join(AGENTS)}"
            )
    seeds = args.seeds if args.seeds is not None else (100 if args.full else 10)
    duration = args.duration if args.duration is not None else (25.0 if args.full else 4.0)
    if seeds < 2:
        parser.error(f"--seeds: a confidence interval needs at least 2 seeds, got {seeds}")
    if not duration > 0 or not args.max_distance > 1:
        parser.error("--duration must be > 0 and --max-distance > 1 m")
    if not args.no_plot and not args.out_dir.is_dir():
        parser.error(f"--out-dir: directory {str(args.out_dir)!r} does not exist")
    return Config(names, seeds, duration, args.max_distance, args.seed)


def main(argv: Sequence[str] | None = None) -> dict:
    """Run the study from command-line arguments; print the table; return results and timings."""
    parser = build_parser()
    args = parser.parse_args(argv)
    config = configure(parser, args)
    for name, reason in SKIPPED.items():
        print(f"skipped {name}: {reason}", file=sys.stderr)
    results, timings = run_study(config)
    print(
        f"802.11ax, 20 MHz, 1 spatial stream, 0.8 µs GI; {config.n_seeds} seeds x {config.duration_s:g} s; "
        f"static at {', '.join(f'{d:g}' for d in STATIC_DISTANCES)} m; moving 1 -> {config.max_distance_m:g} m"
    )
    print(format_table(results))
    rate = timings["agent_steps"] / timings["run_s"]
    print(
        f"compiled in {timings['compile_s']:.1f} s, ran {timings['agent_steps']:,} agent-steps in "
        f"{timings['run_s']:.2f} s ({rate:,.0f}/s)"
    )
    plots = [] if args.no_plot else write_plots(results, config, args.out_dir)
    for path in plots:
        print(f"plot written to {path}", file=sys.stderr)
    return {"results": results, "timings": timings, "plots": plots, "config": config}


if __name__ == "__main__":
    main()
