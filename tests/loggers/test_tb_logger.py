"""TensorboardLogger: TensorBoard's own event reader finds every tag, step and value."""

import json

import numpy as np
import pytest

from agentax.loggers import TensorboardLogger
from tests.loggers.helpers import make_rl, play_many, play_one

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="TensorBoard's event reader is in the tensorboard package",
)


def read(log_dir):
    accumulator = event_accumulator.EventAccumulator(
        str(log_dir), size_guidance={"scalars": 0, "tensors": 0}
    )
    accumulator.Reload()
    return accumulator


def series(accumulator, tag):
    events = accumulator.Scalars(tag)
    return [e.step for e in events], [e.value for e in events]


def test_scalars_per_source_and_instance(tmp_path):
    rl = make_rl(TensorboardLogger, {"tb_log_dir": str(tmp_path)})
    record = play_one(rl, 20)
    rl.log("loss", 0.5)
    rl.log("loss", 0.25)
    rl.log("config", {"e": 0.1})
    rl.finish()
    accumulator = read(tmp_path)
    steps, actions = series(accumulator, "action/0")
    assert steps == list(range(1, 21)) and actions == record["action"]
    assert series(accumulator, "reward/0")[1] == record["reward"]
    np.testing.assert_allclose(
        series(accumulator, "cumulative/0")[1], np.cumsum(record["reward"]), rtol=1e-6
    )
    for arm in range(3):  # a per-arm state field: one curve per arm
        np.testing.assert_allclose(
            series(accumulator, f"Q-state/0/{arm}")[1], np.array(record["Q"])[:, arm], rtol=1e-6
        )
    assert series(accumulator, "loss") == ([1, 2], [0.5, 0.25])
    text = accumulator.Tensors("config/text_summary")[0]
    assert json.loads(text.tensor_proto.string_val[0].decode()) == {"e": 0.1}


def test_instances_are_told_apart(tmp_path):
    rl = make_rl(TensorboardLogger, {"tb_log_dir": str(tmp_path)}, sources="action")
    played = play_many(rl, n_instances=3, n_steps=10)
    rl.finish()
    accumulator = read(tmp_path)
    for instance in range(3):
        steps, actions = series(accumulator, f"action/{instance}")
        assert steps == list(range(1, 11))
        assert actions == played["action"][:, instance].tolist()
