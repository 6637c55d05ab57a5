"""The non-stationary study: every bandit agent on abrupt switches and slow drift, many seeds.

``python -m agentax nonstationary`` runs each scenario of :func:`scenarios` (Bernoulli and
Gaussian rewards; means that switch abruptly, or drift linearly between the same values) with
every bandit agent of :mod:`agentax.agents.mab` over ``--runs`` seeds: one compiled program per
scenario runs all agents, vmapped over the seeds. It prints a table of final cumulative regret
with 95% confidence intervals (Student's t over runs) and of the recovery delay after each
switch, and plots the regret curves and the delays. Where SMPyBandits is installed in its own
virtual environment (``make smpy-venv``), its implementations of the same algorithms run on the
same abrupt Bernoulli scenario and seeds, and appear in the table.

The *recovery delay* after a switch is the number of steps until the agent picks a best arm in
at least half of a window of :data:`RECOVERY_WINDOW` steps (the end of the phase if never): an
observable, agent-independent measure of how fast a change is detected and acted on.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from agentax.agents import mab
from agentax.agents.base import BaseAgent
from agentax.cli import _COMPILER_OPTIONS, HYPERPARAMETERS
from agentax.envs import BanditProblem
from agentax.sharding import put_population
from agentax.simulate import simulate

__all__ = [
    "ALPHA_SCALE",
    "RECOVERY_WINDOW",
    "Scenario",
    "ScenarioResult",
    "main",
    "recovery_delays",
    "run_scenario",
    "scenarios",
    "study_agents",
]

RECOVERY_WINDOW = 50
_PHASE_MEANS = [[0.2, 0.5, 0.8], [0.8, 0.5, 0.2], [0.5, 0.8, 0.2], [0.2, 0.3, 0.6], [0.7, 0.3, 0.4]]
_GAUSSIAN_STD = 0.2
_PLOT_POINTS = 500
_SMPY_AGENTS = ("UCB", "KLUCB", "SWUCB", "CUSUMUCB", "GLRklUCB")
_SMPY_PYTHON = Path(".venv-smpy/bin/python")
_SMPY_SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "smpybandits_side.py"


class Scenario(NamedTuple):
    """A study problem: its name, the problem, and its number of changes :math:`\\Upsilon`."""

    name: str
    problem: BanditProblem
    n_changes: int


def scenarios(n_steps: int) -> list[Scenario]:
    """The study's four problems over ``n_steps``: 3 arms whose best arm changes 4 times.

    The phases are equally long; ``abrupt`` switches the means at each phase start, ``drift``
    moves them linearly from one phase's means to the next's (so the best arm changes gradually).
    Gaussian rewards have standard deviation 0.2 around the same means.
    """
    n_phases = len(_PHASE_MEANS)
    starts = [round(i * n_steps / n_phases) for i in range(n_phases)]
    found = []
    for noise in ("bernoulli", "gaussian"):
        std = _GAUSSIAN_STD if noise == "gaussian" else 1.0
        found.append(
            Scenario(
                f"abrupt-{noise}",
                BanditProblem.switching(_PHASE_MEANS, starts, noise, std),
                n_phases - 1,
            )
        )
        found.append(
            Scenario(
                f"drift-{noise}",
                BanditProblem.drifting(_PHASE_MEANS, starts, noise, std),
                n_phases - 1,
            )
        )
    return found


#: Scale of the papers' forced-exploration rates. With the full rates (e.g. 14% of the steps for
#: GLR-klUCB at T = 5000, 4 changes, 3 arms) exploration alone costs more regret than it saves;
#: SMPyBandits scales them by 0.1 by default too. Measured on the abrupt Bernoulli scenario:
#: GLR-klUCB 591 -> 144 (50 seeds), CUSUM-UCB 482 -> 213 (10 seeds).
ALPHA_SCALE = 0.1


def _tuned(n_arms: int, n_steps: int, n_changes: int) -> dict[str, BaseAgent]:
    r"""The non-stationary agents, with the parameters their papers derive from the horizon
    :math:`T`, the number of changes :math:`\Upsilon` and the number of arms :math:`K`."""
    T, U, K = n_steps, max(n_changes, 1), n_arms
    h = math.log(T / U)
    cusum_alpha = ALPHA_SCALE * math.sqrt(U * h / T)
    return {
        # Garivier & Moulines 2011: gamma = 1 - sqrt(Upsilon / T) / 4, tau = 2 sqrt(T ln T / Upsilon).
        "UCB(gamma)": mab.UCB(K, c=math.sqrt(2.0), gamma=1 - math.sqrt(U / T) / 4),
        "SWUCB": mab.SWUCB(K, window=round(2 * math.sqrt(T * math.log(T) / U))),
        # Liu et al. 2018, Corollary 2: h = ln(T / Upsilon), alpha = sqrt(Upsilon ln(T / Upsilon) / T).
        "CUSUMUCB": mab.CUSUMUCB(K, h=h, alpha=cusum_alpha, epsilon=0.05, m=50),
        # Besson et al. 2022: delta = 1 / sqrt(Upsilon T), alpha = sqrt(Upsilon K ln T / T) (local restarts).
        "GLRklUCB": mab.GLRklUCB(
            K, delta=1 / math.sqrt(U * T), alpha=ALPHA_SCALE * math.sqrt(U * K * math.log(T) / T)
        ),
        "UCB+CUSUM restarts": mab.Restarting(
            mab.UCB(K, c=math.sqrt(2.0)), mab.CUSUM(h=h, epsilon=0.05, m=50), alpha=cusum_alpha
        ),
    }


_UNIT_REWARDS = {"KLUCB", "GLRklUCB"}  # Bernoulli KL divergences: rewards must lie in [0, 1]
_POSITIVE_REWARDS = {"LogNormalThompsonSampling"}


def study_agents(scenario: Scenario, n_steps: int) -> dict[str, BaseAgent]:
    """Every bandit agent that can run on ``scenario``, by name, with the demo's or the papers' parameters."""
    problem = scenario.problem
    agents = {}
    for name in mab.__all__:
        agent_type = getattr(mab, name)
        if name in HYPERPARAMETERS and name not in _POSITIVE_REWARDS:
            agents[name] = agent_type(
                n_arms=problem.n_arms, **HYPERPARAMETERS[name](problem, n_steps)
            )
    agents["KLUCB"] = mab.KLUCB(problem.n_arms)
    agents.update(_tuned(problem.n_arms, n_steps, scenario.n_changes))
    if problem.noise != "bernoulli":
        agents = {name: agent for name, agent in agents.items() if name not in _UNIT_REWARDS}
    return agents


def recovery_delays(optimal: jax.Array, starts: Sequence[int], n_steps: int) -> jax.Array:
    """Per switch, the steps until a best arm is picked in half of a :data:`RECOVERY_WINDOW`-step window.

    ``optimal`` is one run's per-step best-arm indicator; a switch whose phase ends before that
    happens gets the phase's length. Returns shape ``(len(starts) - 1,)``.
    """
    window = RECOVERY_WINDOW
    counts = jnp.concatenate([jnp.zeros(1), jnp.cumsum(optimal.astype(jnp.float32))])
    recovered = (counts[window:] - counts[:-window]) >= window / 2  # window starting at t
    t = jnp.arange(recovered.size)
    ends = list(starts[1:]) + [n_steps]
    delays = []
    for start, end in zip(starts[1:], ends[1:], strict=True):
        inside = recovered & (t >= start) & (t <= end - window)
        delays.append(jnp.where(jnp.any(inside), jnp.argmax(inside) - start, end - start))
    return jnp.stack(delays)


class ScenarioResult(NamedTuple):
    """One agent's runs on one scenario.

    Attributes:
      final_regret: cumulative regret at the last step, per run.
      regret_curve: mean cumulative regret over runs at :attr:`curve_steps`.
      curve_steps: the steps of the curve.
      delays: recovery delay after each switch, shape ``(runs, switches)``.
    """

    final_regret: np.ndarray
    regret_curve: np.ndarray
    curve_steps: np.ndarray
    delays: np.ndarray


def run_scenario(
    agents: dict[str, BaseAgent],
    scenario: Scenario,
    n_steps: int,
    keys: jax.Array,
    mesh: jax.sharding.Mesh | None = None,
) -> dict[str, ScenarioResult]:
    """All ``agents`` on ``scenario``, one run per key, in one compiled program; with ``mesh``, the
    runs are split over its devices (:func:`agentax.sharding.put_population`), with the same results."""
    if mesh is not None:
        keys = put_population(keys, mesh)
    starts = [int(s) for s in np.asarray(scenario.problem.starts)]
    shown = np.unique(np.linspace(0, n_steps - 1, _PLOT_POINTS).astype(int))

    abrupt = not scenario.problem.drift  # drifting means have no switch step to measure from

    def summarize(agent, keys):
        trajectory = jax.vmap(partial(simulate, agent, scenario.problem, n_steps))(keys)
        cumulative = jnp.cumsum(trajectory.regret, axis=1)
        delays = jax.vmap(lambda optimal: recovery_delays(optimal, starts, n_steps))(
            trajectory.optimal
        )
        return (
            cumulative[:, -1],
            cumulative[:, shown].mean(axis=0),
            delays if abrupt else delays[:, :0],
        )

    program = jax.jit(lambda keys: {name: summarize(agent, keys) for name, agent in agents.items()})
    compiled = program.lower(keys).compile(_COMPILER_OPTIONS)
    return {
        name: ScenarioResult(np.asarray(final), np.asarray(curve), shown + 1, np.asarray(delays))
        for name, (final, curve, delays) in jax.device_get(compiled(keys)).items()
    }


def confidence_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean of ``values`` and the half-width of its Student-t confidence interval."""
    n = values.size
    if n < 2:
        return float(values.mean()), math.nan
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return float(values.mean()), float(half)


def _smpy_request(
    scenario: Scenario, agents: dict[str, BaseAgent], n_steps: int, seeds: list[int], settings: dict
) -> dict:
    problem = scenario.problem
    return {
        "means": np.asarray(problem.means).tolist(),
        "starts": np.asarray(problem.starts).tolist(),
        "n_steps": n_steps,
        "seeds": seeds,
        "policies": {name: settings[name] for name in _SMPY_AGENTS},
    }


def run_smpybandits(
    python: Path, scenario: Scenario, n_steps: int, seeds: list[int]
) -> tuple[str, dict[str, np.ndarray]]:
    """SMPyBandits' UCB, kl-UCB, SW-UCB, CUSUM-UCB and GLR-klUCB on ``scenario`` (abrupt, Bernoulli).

    Runs :file:`benchmarks/smpybandits_side.py` with ``python`` (SMPyBandits' own environment)
    with the same settings as the agentax agents; returns SMPyBandits' version and each
    policy's final regret per seed.
    """
    T, U = n_steps, scenario.n_changes
    settings = {
        "UCB": {},
        "KLUCB": {},
        "SWUCB": {"window": round(2 * math.sqrt(T * math.log(T) / U)), "c": math.sqrt(0.6)},
        "CUSUMUCB": {"epsilon": 0.05, "m": 50},
        "GLRklUCB": {"delta": 1 / math.sqrt(U * T)},
    }
    request = json.dumps(_smpy_request(scenario, {}, n_steps, seeds, settings))
    done = subprocess.run(
        [str(python), str(_SMPY_SCRIPT)],
        input=request + "\n",
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return answer["version"], {
        name: np.asarray(values) for name, values in answer["final_regret"].items()
    }


def format_table(
    results: dict[str, ScenarioResult], extra: dict[str, np.ndarray] | None = None
) -> str:
    """Rows of agents (best first): final regret with its 95% interval and the median recovery delay."""
    rows = []
    for name, result in results.items():
        mean, half = confidence_interval(result.final_regret)
        delay = f"{np.median(result.delays):.0f}" if result.delays.size else "-"
        rows.append((mean, name, f"{mean:.1f} ± {half:.1f}", str(result.final_regret.size), delay))
    for name, final in (extra or {}).items():
        mean, half = confidence_interval(final)
        rows.append((mean, name, f"{mean:.1f} ± {half:.1f}", str(final.size), "-"))
    rows.sort()
    header = ("agent", "regret (mean ± 95% CI)", "runs", "median recovery delay")
    cells = [header] + [row[1:] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def plot(all_results: dict[str, dict[str, ScenarioResult]], out_dir: Path) -> list[Path]:
    """Write ``regret.png`` (mean cumulative regret per scenario) and ``recovery.png`` (delays)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from agentax.cli import _palette

    names = list(dict.fromkeys(name for results in all_results.values() for name in results))
    colors = dict(zip(names, _palette(len(names)), strict=True))
    figure = Figure(figsize=(14, 9), layout="constrained")
    FigureCanvasAgg(figure)
    # four panels; a run of fewer scenarios (--scenarios) leaves the rest empty
    for axes, (scenario, results) in zip(
        figure.subplots(2, 2).flat, all_results.items(), strict=False
    ):
        for name, result in results.items():
            axes.plot(
                result.curve_steps,
                result.regret_curve,
                color=colors[name],
                label=name,
                linewidth=1.5,
            )
        axes.set(title=scenario, xlabel="step", ylabel="cumulative regret (mean over runs)")
        axes.grid(alpha=0.3)
    figure.axes[0].legend(fontsize="small", ncol=2)
    regret_path = out_dir / "regret.png"
    figure.savefig(regret_path, dpi=100)

    abrupt = {
        scenario: results
        for scenario, results in all_results.items()
        if scenario.startswith("abrupt")
    }
    figure = Figure(figsize=(14, 4.8 * len(abrupt)), layout="constrained")
    FigureCanvasAgg(figure)
    for axes, (scenario, results) in zip(
        np.atleast_1d(figure.subplots(len(abrupt), 1)), abrupt.items(), strict=True
    ):
        order = sorted(results, key=lambda name: np.median(results[name].delays))
        axes.boxplot([results[name].delays.ravel() for name in order], showfliers=False)
        axes.set_xticks(range(1, len(order) + 1), order, rotation=30, ha="right", fontsize="small")
        axes.set(
            title=f"{scenario}: steps until a best arm is picked in half of a {RECOVERY_WINDOW}-step window",
            ylabel="recovery delay [steps]",
        )
        axes.grid(alpha=0.3, axis="y")
    delay_path = out_dir / "recovery.png"
    figure.savefig(delay_path, dpi=100)
    return [regret_path, delay_path]


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m agentax nonstationary``."""
    parser = argparse.ArgumentParser(
        prog="python -m agentax nonstationary",
        description="Every bandit agent on abrupt switches and slow drift (Bernoulli and Gaussian), over many seeds.",
    )
    parser.add_argument(
        "--steps", type=int, default=5000, help="steps of each run (default: %(default)s)"
    )
    parser.add_argument(
        "--runs", type=int, default=50, help="seeds per agent and scenario (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the runs (default: %(default)s)"
    )
    parser.add_argument(
        "--scenarios", default=None, help="scenario names separated by commas (default: all four)"
    )
    parser.add_argument(
        "--agents", default=None, help="agent names separated by commas (default: every agent)"
    )
    parser.add_argument(
        "--out-dir", default=".", help="where to write regret.png and recovery.png (default: .)"
    )
    parser.add_argument("--no-plot", action="store_true", help="do not write plots")
    parser.add_argument(
        "--smpy-python",
        default=str(_SMPY_PYTHON),
        help="python of SMPyBandits' environment (default: %(default)s); skipped if missing",
    )
    parser.add_argument(
        "--smpy-runs",
        type=int,
        default=10,
        help="seeds of the SMPyBandits runs (default: %(default)s)",
    )
    return parser


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[Scenario]:
    for flag, value, minimum in (
        ("--steps", args.steps, 500),
        ("--runs", args.runs, 2),
        ("--smpy-runs", args.smpy_runs, 1),
    ):
        if value < minimum:
            parser.error(f"{flag}: expected a whole number >= {minimum}, got {value}")
    if not args.no_plot and not Path(args.out_dir).is_dir():
        parser.error(f"--out-dir: directory {args.out_dir!r} does not exist")
    known = {scenario.name: scenario for scenario in scenarios(args.steps)}
    if args.scenarios is None:
        return list(known.values())
    requested = _names(args.scenarios)
    unknown = [name for name in requested if name not in known]
    if unknown or not requested:
        parser.error(
            f"--scenarios: unknown {', '.join(unknown) or repr(args.scenarios)}; valid: {', '.join(known)}"
        )
    return [known[name] for name in requested]


def _names(text: str | None) -> list[str] | None:
    """The names of a comma-separated option, ``None`` if it was not given."""
    return None if text is None else [name.strip() for name in text.split(",") if name.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the study with command-line arguments ``argv``; print the tables, write the plots; return 0."""
    parser = build_parser()
    args = parser.parse_args(argv)
    chosen = _check(parser, args)
    known = {name for scenario in chosen for name in study_agents(scenario, args.steps)}
    requested = _names(args.agents)
    unknown = [name for name in requested or [] if name not in known]
    if unknown or requested == []:
        parser.error(f"--agents: unknown {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
    keys = jax.random.split(jax.random.key(args.seed), args.runs)
    all_results = {}
    for scenario in chosen:
        agents = {
            name: agent
            for name, agent in study_agents(scenario, args.steps).items()
            if requested is None or name in requested
        }
        print(f"{scenario.name}: running {len(agents)} agents...", file=sys.stderr)
        all_results[scenario.name] = run_scenario(agents, scenario, args.steps, keys)
        extra = None
        python = Path(args.smpy_python)
        if scenario.name == "abrupt-bernoulli":
            if python.exists():
                version, regrets = run_smpybandits(
                    python, scenario, args.steps, list(range(args.smpy_runs))
                )
                extra = {
                    f"{name} [SMPyBandits {version}]": values for name, values in regrets.items()
                }
            else:
                print(
                    f"SMPyBandits comparison skipped: {python} not found (make smpy-venv)",
                    file=sys.stderr,
                )
        print(
            f"\n{scenario.name} ({scenario.problem.n_arms} arms, {scenario.n_changes} changes, {args.steps:,} steps)"
        )
        print(format_table(all_results[scenario.name], extra))
    if not args.no_plot:
        for path in plot(all_results, Path(args.out_dir)):
            print(f"plot written to {path}", file=sys.stderr)
    return 0
