"""StdoutLogger prints one tab-separated line per instance and step, and custom values alone."""

import numpy as np

from agentax.loggers import StdoutLogger
from tests.loggers.helpers import make_rl, play_one


def test_lines_name_each_value(capsys):
    with make_rl(StdoutLogger, {}) as rl:
        record = play_one(rl, 3)
        rl.log("loss", 0.5)
        rl.log("weights", np.array([1, 2]))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    cumulative = np.cumsum(record["reward"]).tolist()
    for step, line in enumerate(lines[:3]):
        q = ", ".join(f"{v:.8g}" for v in record["Q"][step])
        assert line == (
            f"agent_id: 0\tstep: {step + 1}\taction: {record['action'][step]}\t"
            f"reward: {record['reward'][step]!r}\tcumulative: {cumulative[step]!r}\tQ-state: [{q}]"
        )
    assert lines[3:] == ["loss: 0.5", "weights: [1, 2]"]


def test_batched_step_prints_a_line_per_instance(capsys):
    with make_rl(StdoutLogger, {}, sources="action") as rl:
        ids = [rl.init(seed) for seed in range(4)]
        actions = rl.sample(reward=np.zeros(4), agent_id=ids[::-1])
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"agent_id: {i}\tstep: 1\taction: {a}" for i, a in zip(ids[::-1], actions, strict=True)
    ]
