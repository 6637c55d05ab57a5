"""Hyperparameter sweeps: per-instance hyperparameters give the runs of the agents built with them."""

from __future__ import annotations

from functools import partial

import jax
import numpy as np
import pytest

from agentax.agents.mab import UCB, EGreedy, Softmax, ThompsonSampling
from agentax.envs import BanditProblem
from agentax.errors import AgentaxError
from agentax.simulate import simulate
from agentax.sweep import (
    SweepResult,
    format_table,
    grid,
    main,
    plot,
    run_sweep,
    with_hyperparameters,
)

PROBLEM = BanditProblem.switching([[0.2, 0.5, 0.8], [0.8, 0.5, 0.2]], [0, 80])


def test_grid_is_the_cartesian_product_last_axis_fastest():
    settings = grid(a=[1, 2], b=[3, 4, 5])
    np.testing.assert_array_equal(settings["a"], [1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(settings["b"], [3, 4, 5, 3, 4, 5])
    assert settings["a"].dtype == np.float32
    with pytest.raises(ValueError, match="at least one value"):
        grid(a=[])


@pytest.mark.parametrize(
    ("agent", "build", "settings"),
    [
        (
            EGreedy(3, 0.1),
            EGreedy,
            {"e": [0.05, 0.3, 0.3], "e_decay": [1.0, 0.98, 0.98], "e_min": [0.0, 0.0, 0.02]},
        ),
        (UCB(3, 1.0), UCB, {"c": [0.3, 2.0, 2.0], "gamma": [1.0, 1.0, 0.9]}),
        (Softmax(3, lr=0.1), Softmax, grid(lr=[0.05, 0.5])),
        (ThompsonSampling(3), ThompsonSampling, grid(decay=[0.0, 0.05])),
    ],
    ids=["EGreedy", "UCB", "Softmax", "ThompsonSampling"],
)
def test_each_setting_runs_as_the_agent_built_with_it(agent, build, settings):
    """Setting i with seed j gives the actions and regret of ``simulate(build(3, **setting_i), key_j)``."""
    n_seeds, n_steps = 3, 160
    result = run_sweep(agent, PROBLEM, settings, n_seeds, n_steps, seed=7, summarize=lambda t: t)
    keys = jax.random.split(jax.random.key(7), n_seeds)
    n_settings = len(next(iter(settings.values())))
    assert result.values.actions.shape == (n_settings, n_seeds, n_steps)
    for i in range(n_settings):
        alone = build(3, **{name: float(values[i]) for name, values in settings.items()})
        trajectories = jax.vmap(partial(simulate, alone, PROBLEM, n_steps))(keys)
        np.testing.assert_array_equal(result.values.actions[i], trajectories.actions)
        np.testing.assert_allclose(result.values.regret[i], trajectories.regret, rtol=1e-6)
    assert (
        len({result.values.actions[i, 0].tobytes() for i in range(n_settings)}) > 1
    )  # the settings matter


def test_with_hyperparameters_leaves_the_agent_as_it_was():
    agent = EGreedy(3, 0.1)
    swept = with_hyperparameters(agent, {"e": 0.7})
    assert float(swept.init(jax.random.key(0)).e) == pytest.approx(0.7)
    assert float(agent.init(jax.random.key(0)).e) == pytest.approx(0.1)


def test_unknown_and_structural_hyperparameters_are_refused():
    with pytest.raises(
        AgentaxError,
        match=r"EGreedy has no numeric hyperparameter \['c'\]; it can sweep \['alpha', 'e'",
    ):
        run_sweep(EGreedy(3, 0.1), PROBLEM, {"c": [1.0]}, 2, 10)
    with pytest.raises(
        AgentaxError, match="EGreedy's alpha selects code in Python, so it cannot vary per instance"
    ):
        run_sweep(EGreedy(3, 0.1), PROBLEM, {"alpha": [0.0, 0.1]}, 2, 10)
    with pytest.raises(AgentaxError, match=r"UCB has no numeric hyperparameter \['n_arms'\]"):
        run_sweep(UCB(3, 1.0), PROBLEM, {"n_arms": [2.0]}, 2, 10)


def test_values_outside_the_parameter_space_are_refused():
    with pytest.raises(ValueError, match=r"e must lie in \[0.0, 1.0\], got \[1.5\]"):
        run_sweep(EGreedy(3, 0.1), PROBLEM, {"e": [0.1, 1.5]}, 2, 10)
    with pytest.raises(ValueError, match="one value per setting"):
        run_sweep(EGreedy(3, 0.1), PROBLEM, {"e": [0.1, 0.2], "e_min": [0.0]}, 2, 10)


def test_table_ranks_settings_by_mean_regret_and_plot_is_written(tmp_path):
    result = SweepResult(
        {"c": np.array([0.5, 2.0], np.float32)}, np.array([[10.0, 12.0], [4.0, 6.0]])
    )
    lines = format_table(result, top=2).splitlines()
    assert lines[0].split() == ["c", "regret", "(mean", "±", "95%", "CI)"]
    assert lines[2].split()[:2] == ["2", "5.0"] and lines[3].split()[:2] == ["0.5", "11.0"]
    assert (
        lines[2].split()[3] == "12.7"
    )  # t(0.975, 1) * std([4, 6], ddof=1) / sqrt(2) = 12.706 * 1.414 / 1.414
    path = plot(result, tmp_path / "sweep.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_line_sweeps_a_thousand_ucb_settings(tmp_path, capsys):
    assert (
        main(
            [
                "--agent",
                "UCB",
                "--seeds",
                "2",
                "--steps",
                "500",
                "--top",
                "3",
                "--out",
                str(tmp_path / "s.png"),
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert "UCB: 1,000 settings x 2 seeds on abrupt-bernoulli (500 steps)" in err
    rows = out.splitlines()
    assert rows[0].split()[:2] == ["c", "gamma"] and len(rows) == 5
    assert (tmp_path / "s.png").stat().st_size > 0
    with pytest.raises(SystemExit):
        main(["--seeds", "1"])
    assert "--seeds: expected a whole number >= 2, got 1" in capsys.readouterr().err
