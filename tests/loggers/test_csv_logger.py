"""CsvLogger: the file read back holds every row the facade stepped, with the right values."""

import csv
import json

import numpy as np
import pytest

from agentax.loggers import CsvLogger, SourceType
from tests.loggers.helpers import make_rl, play_many, play_one


def read(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_one_instance_rows_hold_the_steps_values(tmp_path):
    path = tmp_path / "run.csv"
    rl = make_rl(CsvLogger, {"csv_path": path})
    record = play_one(rl, 30)
    assert not path.exists()  # written atomically at finish
    rl.finish()
    rows = read(path)
    assert list(rows[0]) == ["agent_id", "step", "action", "reward", "cumulative", "Q-state"]
    assert [int(r["step"]) for r in rows] == list(range(1, 31))
    assert {r["agent_id"] for r in rows} == {"0"}
    assert [int(r["action"]) for r in rows] == record["action"]
    assert [float(r["reward"]) for r in rows] == record["reward"]
    np.testing.assert_allclose([float(r["cumulative"]) for r in rows], np.cumsum(record["reward"]))
    q = np.array([json.loads(r["Q-state"]) for r in rows])
    np.testing.assert_allclose(q, np.array(record["Q"]), rtol=1e-7)  # float32 written with 8 digits


def test_k_instances_in_one_call_get_a_row_each(tmp_path):
    path = tmp_path / "many.csv"
    rl = make_rl(CsvLogger, {"csv_path": path}, sources=["action", "reward", "cumulative"])
    played = play_many(rl, n_instances=50, n_steps=120)  # 6,000 rows: more than one flushed block
    rl.finish()
    rows = read(path)
    assert len(rows) == 50 * 120
    ids = np.array([int(r["agent_id"]) for r in rows])
    steps = np.array([int(r["step"]) for r in rows])
    actions = np.array([int(r["action"]) for r in rows])
    rewards = np.array([float(r["reward"]) for r in rows])
    cumulative = np.array([float(r["cumulative"]) for r in rows])
    # Row order is step by step, instances in the order given.
    np.testing.assert_array_equal(ids, np.tile(np.arange(50), 120))
    np.testing.assert_array_equal(steps, np.repeat(np.arange(1, 121), 50))
    np.testing.assert_array_equal(actions, played["action"].ravel())
    np.testing.assert_array_equal(rewards, played["reward"].ravel())
    np.testing.assert_allclose(cumulative, np.cumsum(played["reward"], axis=0).ravel(), rtol=1e-6)


def test_custom_values_get_their_own_columns_and_counts(tmp_path):
    path = tmp_path / "custom.csv"
    with make_rl(CsvLogger, {"csv_path": path}, sources="reward") as rl:
        rl.sample(reward=0.0)
        rl.log("loss", 0.5)
        rl.sample(reward=1.0)
        rl.log("loss", 0.25)
        rl.log("weights", np.array([1.5, 2.0]))
        rl.log("info", {"phase": "warm-up"})
    rows = read(path)
    assert list(rows[0]) == ["agent_id", "step", "reward", "loss", "weights", "info"]
    assert [(r["agent_id"], r["step"], r["reward"], r["loss"]) for r in rows[:4]] == [
        ("0", "1", "0.0", None),
        ("", "1", "", "0.5"),
        ("0", "2", "1.0", None),
        ("", "2", "", "0.25"),
    ]
    assert json.loads(rows[4]["weights"]) == [1.5, 2.0]
    assert json.loads(rows[5]["info"]) == {"phase": "warm-up"}


def test_finish_twice_writes_once(tmp_path):
    path = tmp_path / "twice.csv"
    rl = make_rl(CsvLogger, {"csv_path": path}, sources="action")
    play_one(rl, 3)
    rl.finish()
    first = path.read_bytes()
    rl.finish()
    play_one(rl, 3)  # after finish, steps are no longer logged
    rl.finish()
    assert path.read_bytes() == first and len(read(path)) == 3


@pytest.mark.parametrize("value", [0.1, 1e-30, -3.25, 123456789.0])
def test_float64_values_read_back_exactly(tmp_path, value):
    path = tmp_path / "exact.csv"
    with make_rl(CsvLogger, {"csv_path": path}, sources=("reward", SourceType.OBSERVATION)) as rl:
        rl.sample(reward=value)
    cell = float(read(path)[0]["reward-observation"])
    assert cell == value


def test_blocks_written_directly_with_named_agents(tmp_path):
    # The demo's use: agent_id holds names, one of them not ASCII and with a comma (quoted).
    from agentax.loggers import LogBlock

    logger = CsvLogger(csv_path=tmp_path / "named.csv")
    logger.init(["regret"])
    logger.log_block(
        LogBlock(np.array(["UCB", "Ægir, v2"]), np.array([1, 1]), {"regret": np.array([0.5, -2.0])})
    )
    logger.finish()
    assert read(tmp_path / "named.csv") == [
        {"agent_id": "UCB", "step": "1", "regret": "0.5"},
        {"agent_id": "Ægir, v2", "step": "1", "regret": "-2.0"},
    ]
