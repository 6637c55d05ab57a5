"""How the facade drives loggers: sources, one logger per type, blocks, custom values, the end."""

import gc
import json
import pathlib
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest

from agentax import AgentaxError
from agentax.errors import (
    LoggersFinishedError,
    LoggerTypeError,
    LogSourceError,
    UnsupportedLogTypeError,
)
from agentax.loggers import BaseLogger, CsvLogger, PlotsLogger, SourceType
from tests.loggers.helpers import make_rl, play_many, play_one

ROOT = pathlib.Path(__file__).resolve().parents[2]


class RecordingLogger(BaseLogger):
    """A logger that keeps what it is given (blocks, calls of init and finish)."""

    instances = []

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.params = kwargs
        self.blocks, self.calls = [], []
        RecordingLogger.instances.append(self)

    def init(self, sources):
        self.calls.append(("init", sources))

    def log_block(self, block):
        self.blocks.append(block)

    def log_scalar(self, source, value, custom):
        self.calls.append(("scalar", source, value, custom))

    def finish(self):
        self.calls.append(("finish",))


class ReinforcedLibStyleLogger(BaseLogger):
    """A logger written for reinforced-lib: only the per-value methods."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def log_scalar(self, source, value, custom):
        self.seen.append((source, value, custom))

    def log_array(self, source, value, custom):
        self.seen.append((source, np.asarray(value).tolist(), custom))


@pytest.fixture(autouse=True)
def forget_instances():
    RecordingLogger.instances = []


def test_one_logger_per_type_whatever_the_sources():
    rl = make_rl(
        [RecordingLogger, RecordingLogger],
        {"anything": 1},
        sources=["action", "reward", "cumulative"],
    )
    assert len(RecordingLogger.instances) == 1 and RecordingLogger.instances[0].params == {
        "anything": 1
    }
    play_one(rl, 2)
    rl.finish()
    (logger,) = RecordingLogger.instances
    assert logger.calls == [("init", ["action", "reward", "cumulative"]), ("finish",)]


def test_k_instances_arrive_in_few_blocks_of_whole_steps():
    rl = make_rl(RecordingLogger, {}, sources=["action", "reward"])
    played = play_many(rl, n_instances=100, n_steps=50)
    rl.finish()
    blocks = RecordingLogger.instances[0].blocks
    assert len(blocks) < 10  # 5,000 rows; buffered, flushed at 4,096 rows or once a second
    ids = np.concatenate([b.agent_id for b in blocks])
    steps = np.concatenate([b.step for b in blocks])
    actions = np.concatenate([b.values["action"] for b in blocks])
    np.testing.assert_array_equal(ids, np.tile(np.arange(100), 50))
    np.testing.assert_array_equal(steps, np.repeat(np.arange(1, 51), 100))
    np.testing.assert_array_equal(actions, played["action"].ravel())


def test_a_reinforced_lib_logger_gets_values_one_by_one():
    logger_holder = []

    class Kept(ReinforcedLibStyleLogger):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            logger_holder.append(self)

    with make_rl(Kept, {}, sources=["action", ("Q", SourceType.STATE)]) as rl:
        record = play_one(rl, 2)
        rl.log("loss", 0.5)
    expected = []
    for step in range(2):
        expected += [
            ("action", record["action"][step], False),
            (("Q", SourceType.STATE), record["Q"][step].tolist(), False),
        ]
    assert logger_holder[0].seen == expected + [("loss", 0.5, True)]


def test_custom_value_of_a_kind_the_logger_cannot_log():
    with make_rl(PlotsLogger, {"plots_ext": "png"}, sources="action") as rl:
        with pytest.raises(
            UnsupportedLogTypeError, match="PlotsLogger cannot log a value of type dict"
        ):
            rl.log("config", {"e": 0.1})
        rl._logs.loggers[0]._series.clear()  # nothing to draw


@pytest.mark.parametrize(
    "types, sources, error, message",
    [
        (
            int,
            "action",
            LoggerTypeError,
            "subclasses of agentax.loggers.BaseLogger, got <class 'int'>",
        ),
        (RecordingLogger, 3, LogSourceError, "source 3 is not a source"),
        (RecordingLogger, ("Q", "state"), LogSourceError, r"\('Q', 'state'\) is not a source"),
    ],
)
def test_malformed_configuration_is_refused_at_construction(types, sources, error, message):
    with pytest.raises(error, match=message):
        make_rl(types, {}, sources=sources)


@pytest.mark.parametrize(
    "source, message",
    [
        (
            "regret",
            r"'regret' names no observation, state field or metric; "
            r"expected one of the given observations \['reward'\], "
            r"the state fields \['N', 'Q', 'e'\] or the metrics \['action', 'reward', 'cumulative', 'propensity'\]",
        ),
        (
            ("q", SourceType.STATE),
            r"is not a field of the agent's state; expected one of \['N', 'Q', 'e'\]",
        ),
        (
            ("loss", SourceType.METRIC),
            r"is not a metric; expected one of \['action', 'reward', 'cumulative', 'propensity'\]",
        ),
    ],
)
def test_unknown_source_is_refused_at_the_first_step(source, message):
    rl = make_rl(RecordingLogger, {}, sources=source)
    with pytest.raises(LogSourceError, match=message):
        rl.sample(reward=0.0)


def test_log_needs_loggers_and_refuses_after_finish():
    rl = make_rl(None, None)
    with pytest.raises(AgentaxError, match="no loggers are set"):
        rl.log("loss", 1.0)
    rl = make_rl(RecordingLogger, {}, sources="action")
    with pytest.raises(LogSourceError, match="is not a name"):
        rl.log(3, 1.0)
    rl.finish()
    rl.finish()
    assert RecordingLogger.instances[0].calls.count(("finish",)) == 1
    with pytest.raises(LoggersFinishedError, match="finish"):
        rl.log("loss", 1.0)


def test_leaving_the_with_block_finishes_even_on_error(tmp_path):
    path = tmp_path / "error.csv"
    with (
        pytest.raises(RuntimeError, match="the experiment failed"),
        make_rl(CsvLogger, {"csv_path": path}, sources="action") as rl,
    ):
        record = play_one(rl, 2)
        raise RuntimeError("the experiment failed")
    assert path.read_text().splitlines() == ["agent_id,step,action"] + [
        f"0,{i + 1},{a}" for i, a in enumerate(record["action"])
    ]


def test_a_dropped_facade_is_collected_and_its_loggers_finished(tmp_path):
    path = tmp_path / "dropped.csv"
    rl = make_rl(CsvLogger, {"csv_path": path}, sources="action")
    play_one(rl, 3)
    facade = weakref.ref(rl)
    del rl
    gc.collect()
    assert facade() is None
    assert len(path.read_text().splitlines()) == 4


def test_interpreter_exit_finishes_the_loggers(tmp_path):
    path = tmp_path / "atexit.csv"
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(ROOT)!r})
        from agentax.loggers import CsvLogger
        from tests.loggers.helpers import make_rl, play_one
        rl = make_rl(CsvLogger, {{"csv_path": {str(path)!r}}}, sources=["action", "reward"])
        print(json.dumps(play_one(rl, 3, seed=5), default=lambda q: q.tolist()))
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert path.read_text().splitlines() == ["agent_id,step,action,reward"] + [
        f"0,{step + 1},{action},{reward!r}"
        for step, (action, reward) in enumerate(
            zip(record["action"], record["reward"], strict=True)
        )
    ]
