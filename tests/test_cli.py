"""The demo command line: ``python -m agentax``."""

import subprocess
import sys

import gymnasium as gym
import matplotlib.image
import numpy as np
import pytest

from agentax.agents import mab
from agentax.agents.base import BaseAgent
from agentax.cli import HYPERPARAMETERS, _configure, _skipped, agent_types, build_parser, main

EASY = ["--arms", "0.1,0.9", "--steps", "300", "--runs", "4", "--seed", "0"]


def run_table(argv, capsys):
    """Run the demo in-process; return ``{agent: (regret mean, regret std, optimal %, last-10% optimal %)}``."""
    assert main(argv) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    separator = next(i for i, line in enumerate(lines) if line.startswith("---"))
    table = {}
    for line in lines[separator + 1 :]:
        name, mean, plus_minus, std, optimal, tail, run_seconds, compile_seconds = line.split()
        assert plus_minus == "±"
        assert float(run_seconds) >= 0 and float(compile_seconds) >= 0
        table[name] = (float(mean), float(std), float(optimal.rstrip("%")), float(tail.rstrip("%")))
    return table, lines[0], err


def test_table_ranks_learning_agents_above_the_schedulers_on_an_easy_problem(capsys):
    table, title, err = run_table(
        ["--agents", "RandomScheduler,ucb,EGreedy,RoundRobinScheduler", *EASY, "--no-plot"], capsys
    )
    assert title == "Bernoulli bandit, 2 arms (means 0.1, 0.9); 4 runs × 300 steps"
    assert list(table)[:2] == ["EGreedy", "UCB"] or list(table)[:2] == [
        "UCB",
        "EGreedy",
    ]  # sorted by regret
    # Round robin alternates the arms: 150 picks of the worse arm, each costing 0.9 - 0.1 = 0.8,
    # give 150 * 0.8 = 120 regret in every run; half the picks are optimal, also in the last 30
    # steps (15 of 30).
    assert table["RoundRobinScheduler"] == (120.0, 0.0, 50.0, 50.0)
    # A uniformly random arm costs 0.8 / 2 = 0.4 per step in expectation: 300 * 0.4 = 120, with a
    # standard deviation of 0.8 * sqrt(300 / 4) = 6.9 per run, 3.5 for the mean of 4 runs.
    random_regret, _, random_optimal, _ = table["RandomScheduler"]
    assert abs(random_regret - 120.0) < 15.0 and abs(random_optimal - 50.0) < 10.0
    for learner in ("UCB", "EGreedy"):
        regret, _, optimal, tail = table[learner]
        assert regret < 20.0 < 100.0 < random_regret
        assert optimal > 90.0 and tail > 90.0
    assert "agents" in err  # the progress bar went to stderr, not into the table


def test_switch_at_rotates_the_means_and_a_greedy_agent_is_left_behind(capsys):
    # EGreedy (e = 0.05, sample averages) locks onto arm 1 (mean 0.9) in the first 150 steps; after
    # the rotation arm 1 has mean 0.1, but its average over 150 good pulls falls only slowly, so the
    # agent keeps pulling it. The stationary run above picks the best arm > 90% of the time.
    table, title, _ = run_table(
        ["--agents", "EGreedy", *EASY, "--switch-at", "150", "--no-plot"], capsys
    )
    assert (
        title
        == "Bernoulli bandit, 2 arms (means 0.1, 0.9), means rotated at step 150; 4 runs × 300 steps"
    )
    regret, _, optimal, tail = table["EGreedy"]
    assert tail < 50.0 and optimal < 75.0 and regret > 60.0


def test_plot_is_a_png_of_the_expected_size(tmp_path, capsys):
    path = tmp_path / "regret.png"
    table, _, err = run_table(
        ["--agents", "RoundRobinScheduler", *EASY, "--switch-at", "100", "--plot", str(path)],
        capsys,
    )
    assert list(table) == ["RoundRobinScheduler"]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(path)
    assert image.shape == (572, 1430, 4)  # 13 x 5.2 inches at 110 dpi, RGBA
    assert image[..., :3].std() > 0.05  # something was drawn on the white background
    assert f"plot written to {path}" in err


@pytest.mark.slow  # compiles one program per agent
def test_default_run_includes_every_available_agent(capsys):
    table, _, _ = run_table(["--steps", "100", "--runs", "2", "--no-plot"], capsys)
    assert sorted(table) == sorted(set(agent_types()) - {"LogNormalThompsonSampling"})
    assert "EGreedy" in table and "RandomScheduler" in table
    for regret, std, optimal, tail in table.values():
        # 7 arms, best 0.8 and worst 0.2: regret lies between 0 and 100 * 0.6.
        assert (
            0.0 <= regret <= 60.0
            and std >= 0.0
            and 0.0 <= optimal <= 100.0
            and 0.0 <= tail <= 100.0
        )


def test_every_registered_agent_builds_with_its_demo_hyperparameters():
    parser = build_parser()
    for n_steps, noise in ((5000, "bernoulli"), (10, "gaussian")):
        args = parser.parse_args(["--steps", str(n_steps), "--noise", noise])
        config = _configure(parser, args)
        runnable = [
            name for name in agent_types() if name != "LogNormalThompsonSampling"
        ]  # rewards can be <= 0
        assert list(config.agents) == runnable
        assert all(agent.action_space == gym.spaces.Discrete(7) for agent in config.agents.values())
    known = [name for name in HYPERPARAMETERS if name in mab.__all__]
    assert set(known) <= set(agent_types())


class _NeedsOnlyArms(BaseAgent):
    def __init__(self, n_arms, scale=1.0):
        self.n_arms = n_arms

    init = update = sample = staticmethod(lambda *args: None)


class _WrapsAnAgent(_NeedsOnlyArms):
    def __init__(self, agent, mask):
        pass


def test_agents_are_discovered_from_the_package_and_special_ones_skipped(monkeypatch):
    monkeypatch.setattr(mab, "NeedsOnlyArms", _NeedsOnlyArms, raising=False)
    monkeypatch.setattr(mab, "WrapsAnAgent", _WrapsAnAgent, raising=False)
    monkeypatch.setattr(
        mab, "__all__", ["EGreedy", "EGreedyState", "NeedsOnlyArms", "WrapsAnAgent"]
    )
    assert list(agent_types()) == ["EGreedy", "NeedsOnlyArms"]


class _LogRewards(_NeedsOnlyArms):
    pass


def test_agents_that_need_positive_rewards_are_skipped_or_refused(monkeypatch, capsys):
    if "LogNormalThompsonSampling" not in mab.__all__:
        monkeypatch.setattr(mab, "LogNormalThompsonSampling", _LogRewards, raising=False)
        monkeypatch.setattr(mab, "__all__", [*mab.__all__, "LogNormalThompsonSampling"])
    parser = build_parser()
    for noise, can_be in (("bernoulli", "0"), ("gaussian", "negative")):
        config = _configure(parser, parser.parse_args(["--noise", noise]))
        assert "LogNormalThompsonSampling" not in config.agents and "EGreedy" in config.agents
        reason = (
            "LogNormalThompsonSampling models the logarithm of the reward, which needs rewards > 0, "
            f"but {noise} rewards can be {can_be}"
        )
        assert _skipped(config) == [reason]
        with pytest.raises(SystemExit) as exit_info:
            main(["--agents", "UCB,lognormalthompsonsampling", "--noise", noise])
        assert exit_info.value.code == 2 and f"--agents: {reason}" in capsys.readouterr().err
    assert "not LogNormalThompsonSampling, which needs rewards > 0" in " ".join(
        parser.format_help().split()
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "-5"], "--steps: expected a whole number >= 1, got -5"),
        (["--steps", "many"], "--steps: expected a whole number, got 'many'"),
        (["--runs", "0"], "--runs: expected a whole number >= 1, got 0"),
        (["--seed", "-1"], "--seed: expected a whole number >= 0, got -1"),
        (["--arms", "0.5,1.5"], "--arms: Bernoulli means must lie in [0, 1]"),
        (["--arms", "1"], "--arms: expected at least 2 arms, got 1"),
        (["--arms", "0.2,high"], "--arms: expected a number of arms (e.g. 10) or arm means"),
        (["--arms", "0.3,0.3"], "--arms: all arm means are equal (0.3)"),
        (["--noise", "poisson"], "--noise: invalid choice: 'poisson'"),
        (["--std", "-1"], "--std: expected a finite number >= 0, got -1"),
        (
            ["--steps", "100", "--switch-at", "100"],
            "--switch-at: must lie in 1..99 (before the last step), got 100",
        ),
        (["--switch-at", "0"], "--switch-at: expected a whole number >= 1, got 0"),
        (["--agents", "UCB,Oracle"], "--agents: unknown agent(s) Oracle; valid names: EGreedy"),
        (["--agents", ","], "--agents: unknown agent(s) ','; valid names: EGreedy"),
        (["--plot", "/no/such/dir/regret.png"], "--plot: directory '/no/such/dir' does not exist"),
        (["--log-dir", "/dev/null"], "--log-dir: '/dev/null' exists and is not a directory"),
    ],
)
def test_bad_input_exits_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("usage: python -m agentax")


def test_module_help_and_errors_from_a_subprocess():
    help_run = subprocess.run(
        [sys.executable, "-m", "agentax", "--help"], capture_output=True, text=True, timeout=120
    )
    assert help_run.returncode == 0, help_run.stderr
    for expected in (
        "--agents",
        "--arms",
        "--noise",
        "--steps",
        "--runs",
        "--seed",
        "--switch-at",
        "--plot",
        "--no-plot",
        "(default: 5000)",
        "examples:",
        "--switch-at 2500",
    ):
        assert expected in help_run.stdout
    bad_run = subprocess.run(
        [sys.executable, "-m", "agentax", "--noise", "cauchy"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad_run.returncode == 2
    assert "invalid choice: 'cauchy'" in bad_run.stderr and "Traceback" not in bad_run.stderr


def _problem(*argv):
    parser = build_parser()
    return _configure(parser, parser.parse_args(["--agents", "EGreedy", *argv])).problem


def test_arm_count_draws_means_from_the_seed():
    first, again, other = (
        _problem("--arms", "5", "--seed", "3"),
        _problem("--arms", "5", "--seed", "3"),
        _problem("--arms", "5", "--seed", "4"),
    )
    assert first.means.shape == (1, 5)
    assert np.all((first.means >= 0) & (first.means <= 1))
    np.testing.assert_array_equal(first.means, again.means)
    assert not np.array_equal(first.means, other.means)


def test_switch_rotates_the_means_so_another_arm_is_best():
    problem = _problem("--arms", "0.1,0.5,0.9,0.3", "--steps", "100", "--switch-at", "40")
    np.testing.assert_array_equal(problem.starts, [0, 40])
    before, after = np.asarray(problem.means)
    shift = int(np.argmax(after)) - int(np.argmax(before))
    assert shift % 4 != 0
    np.testing.assert_allclose(after, np.roll(before, shift))


def test_log_dir_holds_each_agents_curves_in_csv_and_tensorboard(tmp_path, capsys):
    import csv

    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    )
    log_dir = tmp_path / "logs"
    table, _, err = run_table(
        ["--agents", "RoundRobinScheduler,EGreedy", *EASY, "--no-plot", "--log-dir", str(log_dir)],
        capsys,
    )
    assert f"logs written to {log_dir}" in err
    with open(log_dir / "demo.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["agent_id", "step", "regret", "regret_std", "optimal"]
    by_agent = {
        name: [r for r in rows if r["agent_id"] == name]
        for name in ("RoundRobinScheduler", "EGreedy")
    }
    assert len(rows) == 600 and all(len(own) == 300 for own in by_agent.values())
    # Round robin alternates the arms in every run: at step t it has picked the worse arm (regret
    # 0.9 - 0.1 = 0.8) ceil(t / 2) times, and every run picks the best arm at the even steps.
    robin = by_agent["RoundRobinScheduler"]
    np.testing.assert_allclose(
        [float(r["regret"]) for r in robin], 0.8 * np.ceil(np.arange(1, 301) / 2), rtol=1e-6
    )
    assert [float(r["optimal"]) for r in robin[:4]] == [0.0, 1.0, 0.0, 1.0]
    assert {float(r["regret_std"]) for r in robin} == {0.0}
    egreedy_final = float(by_agent["EGreedy"][-1]["regret"])
    assert egreedy_final == pytest.approx(table["EGreedy"][0], abs=0.05)  # the table rounds to 0.1
    accumulator = event_accumulator.EventAccumulator(
        str(log_dir / "tensorboard"), size_guidance={"scalars": 0}
    )
    accumulator.Reload()
    events = accumulator.Scalars("regret/RoundRobinScheduler")
    assert [e.step for e in events] == list(range(1, 301)) and events[-1].value == pytest.approx(
        120.0
    )
    assert accumulator.Scalars("optimal/EGreedy")[-1].value == float(
        by_agent["EGreedy"][-1]["optimal"]
    )
