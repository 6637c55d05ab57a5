"""The example programs run, and what they print is what the maths predicts.

With exploration probability e = 0.1 over 3 arms, an epsilon-greedy agent that has found the
best arm picks it with probability 1 - e + e / 3 = 0.9 + 0.0333 = 0.933.
"""

import importlib.util
import pathlib

import gymnasium as gym
import jax.numpy as jnp
import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
GREEDY_SHARE = 0.9 + 0.1 / 3


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quickstart_finds_the_best_arm():
    result = load("quickstart").main(n_steps=1000, seed=0)
    # 500 late rounds: the share's standard deviation is sqrt(0.933 * 0.067 / 500) = 0.011.
    assert abs(result["best_share"] - GREEDY_SHARE) < 0.04
    # Arm 2 is pulled ~900 times: its estimate's standard deviation is sqrt(0.8 * 0.2 / 900) = 0.013.
    assert abs(result["estimates"][2] - 0.8) < 0.05


def test_pure_functions_match_the_expected_regret():
    result = load("pure_functions").main()
    assert abs(result["estimates"][2] - 0.8) < 0.08  # ~270 pulls of arm 2: std 0.024
    # Exploring costs e times the mean gap of a uniformly random arm per step:
    # 0.1 * (0.6 + 0.3 + 0.0) / 3 = 0.03, i.e. 30 over 1,000 steps; learning adds a few more.
    assert 30.0 < result["mean_regret"] < 50.0
    assert abs(result["late_optimal"] - GREEDY_SHARE) < 0.02  # 256 agents x 200 steps


def test_many_instances_each_learn_their_own_best_arm():
    result = load("many_instances").main(n_users=30, n_rounds=300, seed=0)
    assert result["actions"].shape == (300, 30)
    assert result["found"] == 1.0
    # Users 0 and 3 face the same bandit, but their instances are seeded differently.
    assert np.any(result["actions"][:, 0] != result["actions"][:, 3])


@pytest.fixture(scope="module")
def custom_extension():
    return load("custom_extension")


def test_custom_extension_computes_observations_by_hand(custom_extension):
    ext = custom_extension.AdRevenue(prices=[1.0, 2.0, 4.0])
    functions = ext.observation_functions
    # Ad 2 costs 4.0 per click; 30 clicks in 1,000 impressions earn 4.0 * 30 / 1000 = 0.12 each.
    reward = functions["reward"](
        clicks=jnp.int32(30), impressions=jnp.int32(1000), action=jnp.int32(2)
    )
    np.testing.assert_allclose(reward, 0.12, rtol=1e-6)
    assert int(functions["n_successful"](clicks=jnp.int32(30))) == 30
    assert int(functions["n_failed"](clicks=jnp.int32(30), impressions=jnp.int32(1000))) == 970
    assert ext.parameter_functions["n_arms"]() == 3


@pytest.mark.parametrize("prices", [[], [1.0, 0.0], [1.0, float("inf")], [[1.0, 2.0]]])
def test_custom_extension_rejects_bad_prices(custom_extension, prices):
    with pytest.raises(ValueError, match="prices"):
        custom_extension.AdRevenue(prices=prices)


def test_custom_extension_supplies_n_arms_to_the_agent(custom_extension):
    from agentax import RLib
    from agentax.agents.mab import EGreedy

    rl = RLib(
        agent_type=EGreedy,
        agent_params={"e": 0.1},
        ext_type=custom_extension.AdRevenue,
        ext_params={"prices": [1.0, 2.0, 4.0, 8.0]},
    )
    assert rl.agent.n_arms == 4
    assert rl.action_space == gym.spaces.Discrete(4)


def test_custom_extension_reward_decides_the_favourite(custom_extension):
    result = custom_extension.main()
    by_clicks, by_revenue = result["by_clicks"], result["by_revenue"]
    assert by_clicks["favourite"] == 0  # highest click-through rate, 0.08
    assert by_revenue["favourite"] == 2  # highest revenue per impression, 4.0 * 0.03 = 0.12
    for run in (by_clicks, by_revenue):
        # At most the steady-state share (+ sampling noise, std 0.0125 over 400 rounds); less while
        # the estimates are still settling early on, which takes longer when rewards are close.
        assert GREEDY_SHARE - 0.08 < np.mean(run["shown"] == run["favourite"]) < GREEDY_SHARE + 0.04
    # The favourite is shown ~370 times, 1,000 impressions each: the revenue estimate of ad 2 has
    # standard deviation 4.0 * sqrt(0.03 * 0.97 / 1000) / sqrt(370) = 0.0011.
    np.testing.assert_allclose(by_revenue["estimates"][2], 0.12, atol=0.006)
    np.testing.assert_allclose(by_clicks["estimates"][0], 0.08, atol=0.006)


def test_resume_gives_the_unbroken_runs_actions():
    result = load("resume").main(n_rounds=300, stop_at=270, seed=0)
    np.testing.assert_array_equal(result["interrupted"], result["unbroken"])
    assert result["identical"] and result["unbroken"].shape == (300, 10)
    # Checkpoints at rounds 50, ..., 250: the last three are kept.
    assert result["kept"] == [
        f"agentax-checkpoint-agents-0-and-9-more-step-{n}.npz" for n in (150, 200, 250)
    ]


def test_logging_writes_csv_tensorboard_and_plots(tmp_path):
    import csv

    result = load("logging").main(log_dir=tmp_path, n_instances=4, n_rounds=200, seed=0)
    with open(result["csv"], newline="") as file:
        rows = list(csv.DictReader(file))
    steps = [r for r in rows if r["agent_id"]]
    regrets = [float(r["regret"]) for r in rows if not r["agent_id"]]
    assert len(steps) == 4 * 200 and len(regrets) == 200
    assert regrets[-1] == pytest.approx(result["regret"])
    # UCB's regret grows like log(t): far below the 0.3 per round of a uniformly random arm.
    assert result["regret"] < 0.3 * 200 / 2
    for instance in "0123":  # each instance's cumulative reward is the sum of its rewards
        own = [r for r in steps if r["agent_id"] == instance]
        np.testing.assert_allclose(
            float(own[-1]["cumulative"]), sum(float(r["reward"]) for r in own), rtol=1e-5
        )
    assert list(result["tensorboard"].glob("events.out.tfevents.*"))
    assert {path.name.split("-")[2] for path in result["plots"]} == {
        "action",
        "reward",
        "cumulative",
        "N",
        "regret",
    }
