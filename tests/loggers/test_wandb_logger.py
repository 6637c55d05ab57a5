"""WeightsAndBiasesLogger in offline mode: the run file written by wandb holds every value.

The run file (``run-<id>.wandb``) is a LevelDB-style log of protobuf ``Record`` messages: a
7-byte header (``:W&B``, magic, version), then 32 KiB blocks of chunks, each with a 7-byte
header (CRC-32, little-endian length, type: 1 full, 2 first, 3 middle, 4 last). The reader below
follows that layout and decodes the records with wandb's own protobuf classes.
"""

import json
import struct

import pytest

from agentax.loggers import WeightsAndBiasesLogger
from tests.loggers.helpers import make_rl, play_many

wandb_pb2 = pytest.importorskip(
    "wandb.proto.wandb_internal_pb2", reason="wandb is not installed (pip install 'agentax[wandb]')"
)

wandb = pytest.importorskip("wandb")
_BLOCK, _HEADER = 32768, 7


def records(path):
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    position, pieces = _HEADER, []
    while position + _HEADER <= len(data):
        room = _BLOCK - position % _BLOCK
        if room < _HEADER:  # the rest of a block too small for a chunk header is padding
            position += room
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + _HEADER])
        pieces.append(data[position + _HEADER : position + _HEADER + length])
        position += _HEADER + length
        if kind in (1, 4):  # a full record, or the last chunk of one
            record = wandb_pb2.Record()
            record.ParseFromString(b"".join(pieces))
            pieces = []
            yield record


def history(run_dir):
    (path,) = run_dir.glob("wandb/offline-run-*/run-*.wandb")
    rows = []
    for record in records(path):
        if record.WhichOneof("record_type") == "history":
            rows.append(
                {
                    item.key or "/".join(item.nested_key): json.loads(item.value_json)
                    for item in record.history.item
                }
            )
    return rows


def test_offline_run_holds_each_instance_and_custom_value(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_SILENT", "true")
    params = {"wandb_kwargs": {"mode": "offline", "dir": str(tmp_path), "project": "agentax-tests"}}
    with make_rl(WeightsAndBiasesLogger, params, sources="action") as rl:
        played = play_many(rl, n_instances=2, n_steps=4)
        rl.log("loss", 0.5)
    wandb.teardown()  # the wandb-core service writes the run file on its own schedule: stop it to flush
    rows = history(tmp_path)
    logged = {
        (key, row["global_step"]): value
        for row in rows
        for key, value in row.items()
        if key != "global_step"
    }
    for instance in range(2):
        for step in range(4):
            assert logged[(f"action/{instance}", step + 1)] == played["action"][step, instance]
    assert logged[("loss", 1)] == 0.5
