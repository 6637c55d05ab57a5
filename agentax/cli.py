"""The agentax demo: bandit agents compete on a built-in stochastic bandit.

``python -m agentax`` (or ``make demo``) runs multi-armed bandit agents of
:mod:`agentax.agents.mab` on one :class:`~agentax.envs.BanditProblem`, each for several
independent runs at once (one compiled, vmapped :func:`~agentax.simulate.simulate` per agent). It
prints a table of regret and optimal picks on stdout, shows progress on stderr and plots the
regret over time.
"""

from __future__ import annotations

import argparse
import inspect
import math
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from agentax.agents import mab
from agentax.agents.base import BaseAgent
from agentax.envs import BanditProblem
from agentax.simulate import Trajectory, simulate

__all__ = ["HYPERPARAMETERS", "Result", "agent_types", "build_parser", "main", "run_agent"]

_DEFAULT_ARMS = "0.2,0.4,0.5,0.6,0.7,0.75,0.8"
_TAIL_FRACTION = 0.1  # the table's "last 10%" column
_PLOT_POINTS = 1000  # the regret curves are drawn through at most this many steps
# The demo compiles one short-lived program per agent, so compilation dominates its time: LLVM
# optimisation level 2 instead of XLA's default 3 compiles about twice as fast on this kind of
# program with no measurable loss at run time.
_COMPILER_OPTIONS = {"xla_backend_optimization_level": 2}


def _reward_scale(problem: BanditProblem) -> float:
    """Width of the Bernoulli reward range (1), or the standard deviation of Gaussian rewards."""
    return 1.0 if problem.noise == "bernoulli" else problem.std


def _reward_range(problem: BanditProblem) -> tuple[float, float]:
    """Bounds of the rewards: [0, 1] for Bernoulli, the means widened by 3 std for Gaussian."""
    if problem.noise == "bernoulli":
        return 0.0, 1.0
    means = np.asarray(problem.means)
    return float(means.min() - 3 * problem.std), float(means.max() + 3 * problem.std)


def _exp3_parameters(problem: BanditProblem, n_steps: int) -> dict:
    r"""Exp3 with the exploration rate tuned to a known horizon (Auer et al. 2002, Corollary 3.2).

    .. math:: \gamma = \min\left(1, \sqrt{K \ln K / ((e - 1)\,T)}\right)
    """
    k = problem.n_arms
    low, high = _reward_range(problem)
    gamma = min(1.0, math.sqrt(k * math.log(k) / ((math.e - 1) * n_steps)))
    return {"gamma": gamma, "min_reward": low, "max_reward": high}


_NORMAL_PRIOR = {"alpha": 1.0, "beta": 1.0, "lam": 1.0, "mu": 0.0}

HYPERPARAMETERS: dict[str, Callable[[BanditProblem, int], dict]] = {
    # Between the 0.1 and 0.01 of Sutton & Barto's 10-armed testbed (section 2.3).
    "EGreedy": lambda problem, n_steps: {"e": 0.05},
    # The step size of Sutton & Barto's gradient bandit with baseline (figure 2.5).
    "Softmax": lambda problem, n_steps: {"lr": 0.1},
    # UCB1 (Auer et al. 2002) for rewards in [0, 1]; its sub-Gaussian form for Gaussian rewards.
    "UCB": lambda problem, n_steps: {"c": math.sqrt(2.0) * _reward_scale(problem)},
    "Exp3": _exp3_parameters,
    "ThompsonSampling": lambda problem, n_steps: {"decay": 0.0},
    "NormalThompsonSampling": lambda problem, n_steps: dict(_NORMAL_PRIOR),
    "LogNormalThompsonSampling": lambda problem, n_steps: dict(_NORMAL_PRIOR),
    "RoundRobinScheduler": lambda problem, n_steps: {},
    "RandomScheduler": lambda problem, n_steps: {},
}
"""Demo hyperparameters of each bandit agent, besides ``n_arms``, for a problem and a horizon."""

# Agents that learn from the logarithm of the reward. The demo's rewards can be 0 (Bernoulli) or
# negative (Gaussian), so these are left out of the default list and refused by name.
_NEEDS_POSITIVE_REWARDS = {"LogNormalThompsonSampling"}


def _required_arguments(agent_type: type) -> set[str]:
    """Constructor arguments of ``agent_type`` without a default."""
    parameters = inspect.signature(agent_type).parameters.values()
    return {
        p.name
        for p in parameters
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def agent_types() -> dict[str, type[BaseAgent]]:
    """The bandit agents of :mod:`agentax.agents.mab` the demo can build, by name.

    An agent qualifies if :data:`HYPERPARAMETERS` lists it, or if ``n_arms`` is all its
    constructor needs; agents that need other inputs (a wrapped agent, a mask) are left out.
    """
    found = {}
    for name in mab.__all__:
        candidate = getattr(mab, name)
        if not (isinstance(candidate, type) and issubclass(candidate, BaseAgent)):
            continue
        if name in HYPERPARAMETERS or _required_arguments(candidate) <= {"n_arms"}:
            found[name] = candidate
    return found


# ----------------------------------------------------------------------------- arguments


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number ``>= minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {value}")
        return value

    return parse


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def _arms(text: str) -> int | list[float]:
    """A number of arms (at least 2), or their means separated by commas."""
    if text.strip().isdigit():
        n_arms = int(text)
        if n_arms < 2:
            raise argparse.ArgumentTypeError(f"expected at least 2 arms, got {n_arms}")
        return n_arms
    try:
        means = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of arms (e.g. 10) or arm means separated by commas (e.g. 0.2,0.5,0.8), got {text!r}"
        ) from None
    if len(means) < 2:
        raise argparse.ArgumentTypeError(f"expected the means of at least 2 arms, got {text!r}")
    if not all(math.isfinite(mean) for mean in means):
        raise argparse.ArgumentTypeError(f"arm means must be finite numbers, got {text!r}")
    return means


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of ``python -m agentax``."""
    parser = argparse.ArgumentParser(
        prog="python -m agentax",
        description=(
            "Pit multi-armed bandit agents against a built-in stochastic bandit. Each agent plays\n"
            "RUNS independent runs of STEPS steps (vmapped and compiled with jax.jit). The table on\n"
            "stdout gives, per agent, the cumulative regret (the sum over steps of the best arm's mean\n"
            "minus the chosen arm's mean), the share of steps on which a best arm was picked, and the\n"
            "time taken; progress goes to stderr."
        ),
        epilog=(
            "examples:\n"
            "  python -m agentax                                       # every agent, default problem\n"
            "  python -m agentax --agents UCB,EGreedy --arms 0.3,0.5,0.7 --steps 2000 --runs 10\n"
            "  python -m agentax --arms 10 --noise gaussian --switch-at 2500 --plot switch.png\n"
            "  python -m agentax --log-dir logs       # then: tensorboard --logdir logs/tensorboard"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--agents",
        default=None,
        metavar="NAMES",
        help=f"agents to compare, separated by commas (case-insensitive) (default: {_default_agents_text()})",
    )
    parser.add_argument(
        "--arms",
        type=_arms,
        default=_DEFAULT_ARMS,
        metavar="MEANS|N",
        help="arm means separated by commas, or a number of arms whose means are drawn uniformly "
        "from [0, 1] with --seed (default: %(default)s)",
    )
    parser.add_argument(
        "--noise",
        choices=("bernoulli", "gaussian"),
        default="bernoulli",
        help="reward distribution: bernoulli (means are success probabilities in [0, 1]) or "
        "gaussian (mean plus STD times standard normal noise) (default: %(default)s)",
    )
    parser.add_argument(
        "--std",
        type=_non_negative_float,
        default=1.0,
        help="standard deviation of gaussian rewards, ignored for bernoulli (default: %(default)s)",
    )
    parser.add_argument(
        "--steps",
        type=_int_at_least(1),
        default=5000,
        help="steps of each run (default: %(default)s)",
    )
    parser.add_argument(
        "--runs",
        type=_int_at_least(1),
        default=20,
        help="independent runs of each agent, run together with jax.vmap (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=_int_at_least(0),
        default=0,
        help="seed of the runs, of drawn arm means and of the switch; every agent gets the same "
        "run seeds (default: %(default)s)",
    )
    parser.add_argument(
        "--switch-at",
        type=_int_at_least(1),
        default=None,
        metavar="STEP",
        help="make the problem non-stationary: at this step the arm means are rotated by a random "
        "shift, so that another arm becomes best (default: stationary)",
    )
    parser.add_argument(
        "--plot",
        default="regret.png",
        metavar="PATH",
        help="where to write the PNG plot (default: %(default)s)",
    )
    parser.add_argument("--no-plot", action="store_true", help="do not write a plot")
    parser.add_argument(
        "--log-dir",
        default=None,
        metavar="DIR",
        help="also write each agent's per-step curves (mean cumulative regret, its std over runs, share "
        "of runs on a best arm) to DIR/demo.csv and as TensorBoard events in DIR/tensorboard "
        "(default: no logs)",
    )
    return parser


def _default_agents_text() -> str:
    """The agents ``--agents`` defaults to, for ``--help``."""
    names = agent_types()
    text = "all of " + ", ".join(name for name in names if name not in _NEEDS_POSITIVE_REWARDS)
    excluded = [name for name in names if name in _NEEDS_POSITIVE_REWARDS]
    return text + (f"; not {', '.join(excluded)}, which needs rewards > 0" if excluded else "")


class _Config(NamedTuple):
    """Validated arguments."""

    agents: dict[str, BaseAgent]
    problem: BanditProblem
    n_steps: int
    n_runs: int
    seed: int
    switch_at: int | None
    plot: Path | None
    log_dir: Path | None = None


def _select_agents(
    parser: argparse.ArgumentParser, text: str | None, problem: BanditProblem
) -> list[str]:
    """Canonical agent names from ``--agents``, in the given order, without repeats.

    By default every agent that can run on ``problem`` (:func:`_skipped` says why the others are not).
    """
    known = agent_types()
    if text is None:
        return [name for name in known if not _unfit_reason(name, problem)]
    by_lower = {name.lower(): name for name in known}
    requested = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in requested if name.lower() not in by_lower]
    if unknown or not requested:
        parser.error(
            f"--agents: unknown agent(s) {', '.join(unknown) or repr(text)}; valid names: {', '.join(known)}"
        )
    names = list(dict.fromkeys(by_lower[name.lower()] for name in requested))
    for name in names:
        if reason := _unfit_reason(name, problem):
            parser.error(f"--agents: {reason}")
    return names


def _skipped(config: _Config) -> list[str]:
    """Why each agent left out of the default selection cannot run on the configured problem."""
    return [
        reason
        for name in agent_types()
        if name not in config.agents and (reason := _unfit_reason(name, config.problem))
    ]


def _unfit_reason(name: str, problem: BanditProblem) -> str | None:
    """Why agent ``name`` cannot run on ``problem``, or ``None`` if it can."""
    if name in _NEEDS_POSITIVE_REWARDS:
        can_be = "0" if problem.noise == "bernoulli" else "negative"
        return (
            f"{name} models the logarithm of the reward, which needs rewards > 0, "
            f"but {problem.noise} rewards can be {can_be}"
        )
    return None


def _make_problem(parser: argparse.ArgumentParser, args: argparse.Namespace) -> BanditProblem:
    """The bandit described by ``--arms``, ``--noise``, ``--std``, ``--switch-at`` and ``--seed``."""
    rng = np.random.default_rng(args.seed)
    arms = args.arms
    means = np.round(rng.uniform(0.0, 1.0, arms), 2) if isinstance(arms, int) else np.asarray(arms)
    if np.ptp(means) == 0:
        remedy = (
            f"they were drawn with --seed {args.seed}, try another seed"
            if isinstance(arms, int)
            else "give different means"
        )
        parser.error(
            f"--arms: all arm means are equal ({means[0]:g}), so every agent would have zero regret; {remedy}"
        )
    phases, starts = [means], [0]
    if args.switch_at is not None:
        if args.switch_at >= args.steps:
            parser.error(
                f"--switch-at: must lie in 1..{args.steps - 1} (before the last step), got {args.switch_at}"
            )
        phases.append(np.roll(means, rng.integers(1, means.size)))
        starts.append(args.switch_at)
    try:
        return BanditProblem.switching(phases, starts, args.noise, args.std)
    except ValueError as error:
        parser.error(f"--arms: {error}")


def _configure(parser: argparse.ArgumentParser, args: argparse.Namespace) -> _Config:
    """Check the arguments together and build the problem and the agents."""
    problem = _make_problem(parser, args)
    names = _select_agents(parser, args.agents, problem)
    plot = None if args.no_plot else Path(args.plot)
    if plot is not None and not plot.parent.is_dir():
        parser.error(f"--plot: directory {str(plot.parent)!r} does not exist")
    log_dir = None if args.log_dir is None else Path(args.log_dir)
    if log_dir is not None and log_dir.exists() and not log_dir.is_dir():
        parser.error(f"--log-dir: {str(log_dir)!r} exists and is not a directory")
    types = agent_types()
    agents = {}
    for name in names:
        parameters = HYPERPARAMETERS.get(name, lambda problem, n_steps: {})(problem, args.steps)
        agents[name] = types[name](n_arms=problem.n_arms, **parameters)
    return _Config(agents, problem, args.steps, args.runs, args.seed, args.switch_at, plot, log_dir)


# ----------------------------------------------------------------------------- experiment


class Result(NamedTuple):
    """One agent's runs, summarised.

    Attributes:
      name: the agent's name.
      final_regret: cumulative regret at the last step, per run, shape ``(runs,)``.
      optimal_share: share of steps on which a best arm was picked, per run.
      tail_optimal_share: the same over the last 10% of steps, per run.
      regret_mean: cumulative regret after each step, mean over runs, shape ``(steps,)``.
      regret_std: its standard deviation over runs.
      optimal_mean: share of runs that picked a best arm at each step, shape ``(steps,)``.
      compile_seconds: time to trace and compile the vmapped simulation.
      run_seconds: time to run it.
    """

    name: str
    final_regret: np.ndarray
    optimal_share: np.ndarray
    tail_optimal_share: np.ndarray
    regret_mean: np.ndarray
    regret_std: np.ndarray
    optimal_mean: np.ndarray
    compile_seconds: float
    run_seconds: float


def _summarize(trajectory: Trajectory, tail_start: int) -> dict:
    """Per-run totals and per-step curves of a batch of trajectories, shape ``(runs, steps)``."""
    cumulative = jnp.cumsum(trajectory.regret, axis=1)
    optimal = trajectory.optimal.astype(jnp.float32)
    return {
        "final_regret": cumulative[:, -1],
        "optimal_share": optimal.mean(axis=1),
        "tail_optimal_share": optimal[:, tail_start:].mean(axis=1),
        "regret_mean": cumulative.mean(axis=0),
        "regret_std": cumulative.std(axis=0),
        "optimal_mean": optimal.mean(axis=0),
    }


def run_agent(
    name: str, agent: BaseAgent, problem: BanditProblem, n_steps: int, keys: jax.Array
) -> Result:
    """Run ``agent`` once per key (vmapped, in one compiled program) and summarise the runs."""
    tail_start = n_steps - max(1, round(n_steps * _TAIL_FRACTION))
    runs = jax.vmap(partial(simulate, agent, problem, n_steps))
    program = jax.jit(lambda keys: _summarize(runs(keys), tail_start))
    started = time.perf_counter()
    compiled = program.lower(keys).compile(_COMPILER_OPTIONS)
    compiled_at = time.perf_counter()
    summary = jax.device_get(compiled(keys))
    finished = time.perf_counter()
    return Result(
        name=name,
        **summary,
        compile_seconds=compiled_at - started,
        run_seconds=finished - compiled_at,
    )


def _run_all(config: _Config) -> list[Result]:
    """Every agent on the same problem with the same run seeds, sorted by mean final regret."""
    keys = jax.random.split(jax.random.key(config.seed), config.n_runs)
    progress = tqdm(
        config.agents.items(), desc="agents", unit="agent", file=sys.stderr, leave=False
    )
    results = []
    for name, agent in progress:
        progress.set_postfix_str(name)
        results.append(run_agent(name, agent, config.problem, config.n_steps, keys))
    return sorted(results, key=lambda result: float(result.final_regret.mean()))


# ----------------------------------------------------------------------------- report


def _describe(config: _Config) -> str:
    """One line naming the problem and the experiment."""
    problem = config.problem
    means = np.asarray(problem.means[0])
    shown = (
        ", ".join(f"{mean:g}" for mean in means)
        if means.size <= 10
        else f"from {means.min():g} to {means.max():g}"
    )
    noise = "Bernoulli" if problem.noise == "bernoulli" else f"Gaussian (std {problem.std:g})"
    text = f"{noise} bandit, {problem.n_arms} arms (means {shown})"
    if config.switch_at is not None:
        text += f", means rotated at step {config.switch_at:,}"
    return f"{text}; {_count(config.n_runs, 'run')} × {_count(config.n_steps, 'step')}"


def _count(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless ``n`` is 1: ``"1 run"``, ``"5,000 steps"``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _format_table(results: Sequence[Result]) -> str:
    """The results as an aligned text table, one agent per row."""
    header = (
        "agent",
        "regret (mean ± std)",
        "optimal",
        "optimal last 10%",
        "run [s]",
        "compile [s]",
    )
    rows = [
        (
            result.name,
            f"{result.final_regret.mean():.1f} ± {result.final_regret.std():.1f}",
            f"{100 * result.optimal_share.mean():.1f}%",
            f"{100 * result.tail_optimal_share.mean():.1f}%",
            f"{result.run_seconds:.2f}",
            f"{result.compile_seconds:.2f}",
        )
        for result in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _plot(results: Sequence[Result], config: _Config, path: Path) -> None:
    """Write mean cumulative regret (± std band) and the moving share of optimal picks to ``path``.

    Regret is drawn on a log scale, so that agents whose regret differs by orders of magnitude
    (a learner and a scheduler) are all readable. The moving average spans a whole number of
    round-robin cycles (a multiple of the number of arms).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n_steps, n_arms = config.n_steps, config.problem.n_arms
    shown = np.unique(np.linspace(0, n_steps - 1, _PLOT_POINTS).astype(int))
    window = n_arms * max(1, n_steps // (50 * n_arms)) if n_steps >= 2 * n_arms else 1
    figure = Figure(figsize=(13, 5.2), layout="constrained")
    FigureCanvasAgg(figure)
    regret_axes, optimal_axes = figure.subplots(1, 2)
    for result, color in zip(results, _palette(len(results)), strict=True):
        mean, std = result.regret_mean[shown], result.regret_std[shown]
        label = f"{result.name} ({result.final_regret.mean():.0f})"
        regret_axes.plot(shown + 1, mean, color=color, label=label, linewidth=1.8)
        regret_axes.fill_between(
            shown + 1, mean - std, mean + std, color=color, alpha=0.15, linewidth=0
        )
        moving = np.convolve(result.optimal_mean, np.ones(window) / window, mode="valid")
        optimal_axes.plot(np.arange(window, n_steps + 1), 100 * moving, color=color, linewidth=1.5)
    regret_axes.set_yscale("log")
    regret_axes.set_ylim(
        bottom=_log_floor([result.regret_mean[n_steps // 100] for result in results])
    )
    regret_axes.set(
        xlabel="step",
        ylabel="cumulative regret (log scale)",
        title="Cumulative regret (mean ± std over runs)",
    )
    optimal_axes.set(
        xlabel="step",
        ylabel="optimal picks [%]",
        ylim=(-2, 102),
        title=f"Share of optimal picks (moving average over {_count(window, 'step')})",
    )
    for axes in (regret_axes, optimal_axes):
        axes.grid(alpha=0.3)
        axes.set_xlim(0, n_steps)
        if config.switch_at is not None:
            axes.axvline(
                config.switch_at,
                color="black",
                linestyle="--",
                linewidth=1,
                alpha=0.6,
                label="switch",
            )
    regret_axes.legend(
        title="agent (final regret), best first", fontsize="small", loc="lower right"
    )
    title = "\n".join(textwrap.fill(part, width=110) for part in _describe(config).split("; "))
    figure.suptitle(title, fontsize="large")
    figure.savefig(path, dpi=110)


def _log_floor(values: Sequence[float]) -> float | None:
    """The power of ten just below the smallest positive value (``None`` if none is positive)."""
    positive = [value for value in values if value > 0]
    return 10.0 ** math.floor(math.log10(min(positive))) if positive else None


def _palette(n: int) -> list:
    """``n`` distinct colours."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo with command-line arguments ``argv`` (default ``sys.argv[1:]``); return 0."""
    parser = build_parser()
    args = parser.parse_args(argv)
    config = _configure(parser, args)
    if args.agents is None:
        for reason in _skipped(config):
            print(f"skipped: {reason}", file=sys.stderr)
    results = _run_all(config)
    print(_describe(config))
    print(_format_table(results))
    if config.plot is not None:
        _plot(results, config, config.plot)
        print(f"plot written to {config.plot}", file=sys.stderr)
    if config.log_dir is not None:
        _write_logs(results, config.log_dir)
        print(f"logs written to {config.log_dir}", file=sys.stderr)
    return 0


def _write_logs(results: Sequence[Result], log_dir: Path) -> None:
    """Each agent's per-step curves, through agentax's CSV and TensorBoard loggers.

    One row per agent and step: ``agent_id`` is the agent's name, ``regret`` the cumulative regret
    (mean over runs), ``regret_std`` its standard deviation, ``optimal`` the share of runs that
    picked a best arm at that step.
    """
    from agentax.loggers import CsvLogger, LogBlock, TensorboardLogger

    log_dir.mkdir(parents=True, exist_ok=True)
    sources = ["regret", "regret_std", "optimal"]
    loggers = [
        CsvLogger(csv_path=log_dir / "demo.csv"),
        TensorboardLogger(tb_log_dir=str(log_dir / "tensorboard")),
    ]
    for logger in loggers:
        logger.init(sources)
        for result in results:
            n_steps = len(result.regret_mean)
            curves = (result.regret_mean, result.regret_std, result.optimal_mean)
            logger.log_block(
                LogBlock(
                    np.full(n_steps, result.name),
                    np.arange(1, n_steps + 1),
                    dict(zip(sources, curves, strict=True)),
                )
            )
        logger.finish()
