"""A hyperparameter sweep as one program: settings x seeds as one vmapped, sharded population.

An agent's constructor binds its numeric hyperparameters to its pure functions (``e`` to
``init``, ``e_decay`` to ``update``, ``c`` to ``sample``, ...). :func:`with_hyperparameters` binds
per-instance values instead, so under :func:`jax.vmap` every instance runs its own setting:
a grid of 1,000 settings x a few seeds is one compiled study, its instance axis sharded over
the devices (:mod:`agentax.sharding`), where a Python loop would compile and run 1,000 programs.
Every setting sees the same seeds (common random numbers), so settings differ by their
hyperparameters, not by luck.

``python -m agentax sweep`` sweeps :class:`~agentax.agents.mab.EGreedy` (``e``, ``e_decay``,
``e_min``) or :class:`~agentax.agents.mab.UCB` (``c``, ``gamma``) on the non-stationary study's
abrupt Bernoulli problem and prints the best settings with 95% confidence intervals (Student's
t over seeds) and plots the final regret against each hyperparameter.

Only hyperparameters used as numbers can be leaves: one that chooses code in Python (EGreedy's
``alpha == 0`` selects the sample average) is refused with the reason.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from agentax.agents.base import BaseAgent
from agentax.envs import BanditProblem
from agentax.errors import AgentaxError
from agentax.sharding import population_mesh, put_population, shard_population, to_host
from agentax.simulate import Trajectory, simulate

__all__ = [
    "SweepResult",
    "final_regret",
    "format_table",
    "grid",
    "main",
    "plot",
    "run_sweep",
    "with_hyperparameters",
]

_METHODS = ("init", "update", "sample", "sample_greedy", "action_probabilities")


def grid(**axes: Sequence[float]) -> dict[str, np.ndarray]:
    """Every combination of the given values (the Cartesian product), one float32 array of
    ``prod(len(values))`` settings per hyperparameter; the last axis varies fastest."""
    if not axes or any(len(values) == 0 for values in axes.values()):
        raise ValueError(f"grid needs at least one value for each hyperparameter, got {axes!r}")
    rows = list(itertools.product(*axes.values()))
    return {name: np.asarray([row[i] for row in rows], np.float32) for i, name in enumerate(axes)}


def _bound(agent: BaseAgent) -> dict[str, partial]:
    """The agent's methods as the constructor bound them (``partial`` under :func:`jax.jit`)."""
    methods = {name: getattr(getattr(agent, name, None), "__wrapped__", None) for name in _METHODS}
    return {name: method for name, method in methods.items() if isinstance(method, partial)}


def _check_names(agent: BaseAgent, names: Sequence[str]) -> None:
    name = type(agent).__name__
    bound = set().union(*(method.keywords for method in _bound(agent).values()))
    spaces = agent.parameter_space().spaces
    numeric = {
        hyper for hyper in bound & set(spaces) if np.issubdtype(spaces[hyper].dtype, np.floating)
    }
    unknown = [hyper for hyper in names if hyper not in numeric]
    if unknown:
        raise AgentaxError(
            f"{name} has no numeric hyperparameter {unknown}; it can sweep {sorted(numeric)}"
        )


def with_hyperparameters(agent: BaseAgent, values: Mapping[str, Any]) -> BaseAgent:
    """A copy of ``agent`` with the hyperparameters ``values`` (arrays, possibly traced) bound in
    place of the constructor's, unjitted so that it can be vmapped over them.

    Raises:
      ~agentax.errors.AgentaxError: a name is not a numeric hyperparameter the agent binds.
    """
    _check_names(agent, list(values))
    copied = copy.copy(agent)
    for method_name, method in _bound(agent).items():
        swapped = {name: value for name, value in values.items() if name in method.keywords}
        setattr(
            copied,
            method_name,
            partial(method.func, *method.args, **{**method.keywords, **swapped}),
        )
    return copied


def _check_values(agent: BaseAgent, settings: Mapping[str, np.ndarray]) -> int:
    """The number of settings, after checking each value against the agent's parameter space."""
    sizes = {name: np.shape(values) for name, values in settings.items()}
    if len(set(sizes.values())) != 1 or len(next(iter(sizes.values()))) != 1:
        raise ValueError(
            f"every hyperparameter needs one value per setting (1-D, same length), got shapes {sizes}"
        )
    spaces = agent.parameter_space().spaces
    for name, values in settings.items():
        low, high = float(np.min(spaces[name].low)), float(np.max(spaces[name].high))
        bad = values[~((values >= low) & (values <= high))]
        if bad.size:
            raise ValueError(f"{name} must lie in [{low}, {high}], got {bad[:5].tolist()}")
    return next(iter(sizes.values()))[0]


def _check_traceable(agent: BaseAgent, settings: Mapping[str, np.ndarray], run: Callable) -> None:
    """Refuse a hyperparameter the agent branches on in Python (it cannot be a traced leaf)."""
    for name, values in settings.items():
        try:
            jax.eval_shape(
                lambda value, key, name=name: run({name: value}, key), values[0], jax.random.key(0)
            )
        except (jax.errors.TracerBoolConversionError, jax.errors.ConcretizationTypeError) as error:
            raise AgentaxError(
                f"{type(agent).__name__}'s {name} selects code in Python, so it cannot vary per instance; "
                f"run one sweep per value of {name} instead ({type(error).__name__})"
            ) from None


def final_regret(trajectory: Trajectory) -> jax.Array:
    """Cumulative regret at the last step."""
    return jnp.sum(trajectory.regret)


class SweepResult(NamedTuple):
    """A sweep's outcome.

    Attributes:
      settings: each hyperparameter's value per setting, shape ``(n_settings,)``.
      values: ``summarize`` of each run, leading axes ``(n_settings, n_seeds)``.
    """

    settings: dict[str, np.ndarray]
    values: Any


def run_sweep(
    agent: BaseAgent,
    problem: BanditProblem,
    settings: Mapping[str, Sequence[float]],
    n_seeds: int,
    n_steps: int,
    seed: int = 0,
    summarize: Callable[[Trajectory], Any] = final_regret,
    mesh: jax.sharding.Mesh | None = None,
) -> SweepResult:
    """Run ``agent`` with every setting of ``settings`` (see :func:`grid`) on ``problem`` for
    ``n_seeds`` seeds, as one population sharded over ``mesh`` (default: every device).

    Setting ``i`` with seed ``j`` runs as :func:`~agentax.simulate.simulate` would run the agent
    constructed with setting ``i``, on key ``j`` of ``jax.random.split(jax.random.key(seed), n_seeds)``.
    The population is padded with copies of the last run up to a multiple of the device count.

    Raises:
      ValueError: a value lies outside the bounds of the agent's parameter space (the
        constructor's checks between parameters, such as EGreedy's ``e_min <= e``, are not
        made), or the settings disagree in length.
      ~agentax.errors.AgentaxError: a name is not a numeric hyperparameter of the agent, or selects code in Python.
    """
    settings = {name: np.asarray(values, np.float32) for name, values in settings.items()}
    _check_names(agent, list(settings))
    n_settings = _check_values(agent, settings)
    mesh = population_mesh() if mesh is None else mesh

    def run(values, key):
        return summarize(simulate(with_hyperparameters(agent, values), problem, n_steps, key))

    _check_traceable(agent, settings, run)
    keys = jax.random.key_data(jax.random.split(jax.random.key(seed), n_seeds))
    population = {
        "values": {name: np.repeat(values, n_seeds) for name, values in settings.items()},
        "keys": np.tile(np.asarray(keys), (n_settings, 1)),
    }
    size = n_settings * n_seeds
    padded = -(-size // mesh.size) * mesh.size
    population = jax.tree.map(
        lambda x: np.concatenate([x, np.repeat(x[-1:], padded - size, axis=0)]), population
    )
    program = shard_population(lambda values, key: run(values, jax.random.wrap_key_data(key)), mesh)
    placed = put_population(population, mesh)
    values = to_host(program(placed["values"], placed["keys"]))
    return SweepResult(
        settings,
        jax.tree.map(lambda x: x[:size].reshape(n_settings, n_seeds, *x.shape[1:]), values),
    )


_GRIDS = {  # the command line's 1,000-setting grids
    "EGreedy": lambda: grid(
        e=np.geomspace(0.01, 0.5, 10),
        e_decay=1.0 - np.geomspace(1e-4, 1e-1, 10)[::-1],
        e_min=np.linspace(0.0, 0.1, 10),
    ),
    "UCB": lambda: grid(c=np.geomspace(0.05, 5.0, 40), gamma=1.0 - np.geomspace(1e-4, 0.2, 25)),
}


def format_table(result: SweepResult, top: int) -> str:
    """The ``top`` settings by mean final regret (lowest first) with 95% intervals over seeds."""
    from agentax.nonstationary_study import confidence_interval

    regrets = np.asarray(result.values)
    means = regrets.mean(axis=1)
    names = list(result.settings)
    header = (*names, "regret (mean ± 95% CI)")
    cells = [header]
    for i in np.argsort(means, kind="stable")[:top]:
        mean, half = confidence_interval(regrets[i])
        cells.append(
            (*(f"{result.settings[name][i]:.4g}" for name in names), f"{mean:.1f} ± {half:.1f}")
        )
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def plot(result: SweepResult, path: Path) -> Path:
    """Write the mean final regret against each hyperparameter (the best and the average over the
    other hyperparameters' values) to ``path`` (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from agentax._files import atomic_file

    means = np.asarray(result.values).mean(axis=1)
    figure = Figure(figsize=(5 * len(result.settings), 4), layout="constrained")
    FigureCanvasAgg(figure)
    for axes, (name, values) in zip(
        np.atleast_1d(figure.subplots(1, len(result.settings))),
        result.settings.items(),
        strict=True,
    ):
        levels = np.unique(values)
        axes.plot(
            levels,
            [means[values == level].min() for level in levels],
            "o-",
            label="best over the others",
        )
        axes.plot(
            levels,
            [means[values == level].mean() for level in levels],
            "s--",
            label="mean over the others",
        )
        axes.set(
            xlabel=name,
            ylabel="final regret (mean over seeds)",
            xscale="log" if levels.min() > 0 and levels.max() > 10 * levels.min() else "linear",
        )
        axes.grid(alpha=0.3)
    figure.axes[0].legend(fontsize="small")
    with atomic_file(path) as file:
        figure.savefig(file, format="png", dpi=100)
    return path


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m agentax sweep``."""
    parser = argparse.ArgumentParser(
        prog="python -m agentax sweep",
        description=(
            "1,000 hyperparameter settings x seeds of one agent on the abrupt Bernoulli problem, "
            "as one sharded program."
        ),
    )
    parser.add_argument(
        "--agent",
        choices=sorted(_GRIDS),
        default="EGreedy",
        help="agent to sweep (default: %(default)s)",
    )
    parser.add_argument(
        "--seeds", type=int, default=4, help="seeds per setting (default: %(default)s)"
    )
    parser.add_argument(
        "--steps", type=int, default=2000, help="steps of each run (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the runs (default: %(default)s)"
    )
    parser.add_argument(
        "--top", type=int, default=10, help="settings shown in the table (default: %(default)s)"
    )
    parser.add_argument(
        "--out", default=None, help="PNG of regret against each hyperparameter (default: no plot)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sweep with command-line arguments ``argv``; print the table, write the plot; return 0."""
    from agentax.agents.mab import UCB, EGreedy
    from agentax.nonstationary_study import scenarios

    parser = build_parser()
    args = parser.parse_args(argv)
    for flag, value, minimum in (
        ("--seeds", args.seeds, 2),
        ("--steps", args.steps, 500),
        ("--top", args.top, 1),
    ):
        if value < minimum:
            parser.error(f"{flag}: expected a whole number >= {minimum}, got {value}")
    if args.out is not None and not Path(args.out).resolve().parent.is_dir():
        parser.error(f"--out: directory of {args.out!r} does not exist")
    scenario = scenarios(args.steps)[0]
    agent = {
        "EGreedy": EGreedy(scenario.problem.n_arms, 0.1),
        "UCB": UCB(scenario.problem.n_arms, 1.0),
    }[args.agent]
    settings = _GRIDS[args.agent]()
    n_settings = len(next(iter(settings.values())))
    print(
        f"{args.agent}: {n_settings:,} settings x {args.seeds} seeds on {scenario.name} "
        f"({args.steps:,} steps) over {jax.device_count()} devices",
        file=sys.stderr,
    )
    result = run_sweep(agent, scenario.problem, settings, args.seeds, args.steps, args.seed)
    print(format_table(result, args.top))
    if args.out is not None:
        print(f"plot written to {plot(result, Path(args.out))}", file=sys.stderr)
    return 0
