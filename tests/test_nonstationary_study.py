"""The non-stationary study end to end (small), and its recovery delay against hand-made runs."""

import jax.numpy as jnp
import numpy as np
import pytest

from agentax.nonstationary_study import (
    RECOVERY_WINDOW,
    main,
    recovery_delays,
    scenarios,
    study_agents,
)


def test_recovery_delay_hand_made():
    # 400 steps, a switch at 100 and one at 300. The agent is right from step 130 to 300
    # (a 50-step window starting at 105 holds 25 right picks: 105 + 50 = 155 > 130 + 25 = 155),
    # never right after 300: censored at the phase's length, 100.
    optimal = np.zeros(400, bool)
    optimal[130:300] = True
    delays = recovery_delays(jnp.asarray(optimal), [0, 100, 300], 400)
    assert RECOVERY_WINDOW == 50
    np.testing.assert_array_equal(delays, [5, 100])


def test_every_bandit_agent_is_in_the_study():
    abrupt, _, gaussian, _ = scenarios(1000)
    names = set(study_agents(abrupt, 1000))
    assert {
        "UCB",
        "KLUCB",
        "SWUCB",
        "CUSUMUCB",
        "GLRklUCB",
        "UCB(gamma)",
        "EGreedy",
        "Exp3",
        "ThompsonSampling",
    } <= names
    assert "KLUCB" not in study_agents(gaussian, 1000)  # its rewards must lie in [0, 1]


@pytest.mark.slow
def test_study_prints_its_tables_and_writes_its_plots(tmp_path, capsys):
    agents = "GLRklUCB,CUSUMUCB,SWUCB,UCB+CUSUM restarts,RandomScheduler"
    main(
        [
            "--scenarios",
            "abrupt-bernoulli,drift-gaussian",
            "--steps",
            "500",
            "--runs",
            "3",
            "--agents",
            agents,
            "--out-dir",
            str(tmp_path),
            "--smpy-python",
            str(tmp_path / "none"),
        ]
    )
    out = capsys.readouterr().out
    assert "abrupt-bernoulli (3 arms, 4 changes, 500 steps)" in out
    for name in ("GLRklUCB", "CUSUMUCB", "SWUCB", "UCB+CUSUM restarts", "RandomScheduler"):
        assert name in out
    for png in ("regret.png", "recovery.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_arguments_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--scenarios", "sideways"])
    assert "unknown sideways" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--agents", "UCB,Oracle"])
    assert "--agents: unknown Oracle" in capsys.readouterr().err


def test_python_m_agentax_dispatches_to_the_study(capsys):
    from agentax.__main__ import main as entry_point

    with pytest.raises(SystemExit):
        entry_point(["nonstationary", "--scenarios", "sideways"])
    assert (
        "python -m agentax nonstationary: error: --scenarios: unknown sideways"
        in capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        entry_point(["--agents", "Oracle"])  # anything else is the demo's
    assert "usage: python -m agentax [-h]" in capsys.readouterr().err
