"""The bridge: requests answered by a real RLib, over real ZeroMQ sockets in a real subprocess."""

import functools
import signal
import subprocess
import sys

import msgpack
import numpy as np
import pytest
import zmq

from agentax import RLib
from agentax.agents.mab import ThompsonSampling
from agentax.bridge import PROTOCOL_VERSION, Bridge, BridgeClient, BridgeError
from agentax.bridge.process import running_bridge
from agentax.bridge.protocol import encode

RATES = [8.6, 17.2, 25.8, 34.4]
TS_PARAMS = {"n_arms": 4, "decay": 1.0}


def ts_observations(step):
    """A fixed sequence of Thompson-sampling observations (as the ns-3 manager's "agent" mode sends)."""
    return {"n_successful": step % 3, "n_failed": step % 2, "delta_time": 0.01 * (1 + step % 4)}


@functools.cache
def reference_actions(seed, n_steps):
    """The actions of an in-process RLib instance given the same observations."""
    rl = RLib(agent_type=ThompsonSampling, agent_params=TS_PARAMS, no_ext_mode=True)
    rl.init(seed)
    return tuple(
        int(rl.sample(agent_id=0, context=np.float32(RATES), **ts_observations(t)))
        for t in range(n_steps)
    )


def request(bridge, command, **fields):
    return msgpack.unpackb(
        bridge.handle(encode({"version": PROTOCOL_VERSION, "command": command, **fields}))
    )


@pytest.fixture(scope="module")
def bridge():
    """One bridge for the in-process tests (each creates its own instances): compiled once."""
    return Bridge(RLib(agent_type=ThompsonSampling, agent_params=TS_PARAMS, no_ext_mode=True))


def test_sample_gives_the_actions_of_the_same_instance_in_process(bridge):
    (instance,) = request(bridge, "create", seeds=[7])["ids"]
    actions = [
        request(
            bridge,
            "sample",
            ids=[instance],
            observations={k: [v] for k, v in ts_observations(t).items()},
            shared={"context": RATES},
        )["actions"][0]
        for t in range(30)
    ]
    assert tuple(actions) == reference_actions(7, 30)


def test_one_request_steps_k_instances_like_k_facade_calls(bridge):
    ids = request(bridge, "create", seeds=[1, 2, 3])["ids"]
    assert ids == list(range(ids[0], ids[0] + 3))
    rl = RLib(agent_type=ThompsonSampling, agent_params=TS_PARAMS, no_ext_mode=True)
    for seed in (1, 2, 3):
        rl.init(seed)
    for t in range(10):
        per_id = {k: [v + i for i in range(3)] for k, v in ts_observations(t).items()}
        got = request(bridge, "sample", ids=ids, observations=per_id, shared={"context": RATES})[
            "actions"
        ]
        expected = rl.sample(
            agent_id=[0, 1, 2],
            context=np.broadcast_to(np.float32(RATES), (3, 4)),
            **{k: np.asarray(v) for k, v in per_id.items()},
        )
        assert got == expected.tolist()


def test_info_names_the_agent_and_the_observations_it_reads(bridge):
    open_before = request(bridge, "info")["instances"]
    ids = request(bridge, "create", seeds=[0, 1])["ids"]
    request(bridge, "close", ids=ids[1:])
    info = request(bridge, "info")
    assert (
        info["ok"] and info["protocol"] == PROTOCOL_VERSION and info["agent"] == "ThompsonSampling"
    )
    assert {"n_successful", "n_failed", "delta_time", "context"} <= set(info["observations"])
    assert info["n_actions"] == 4 and info["instances"] == open_before + 1


def sample_request(ids, **observations):
    return encode({"version": 1, "command": "sample", "ids": ids, "observations": observations})


# (request for an open instance `i` and a closed one `c`, error class, part of the message)
BAD_REQUESTS = [
    (lambda i, c: b"\xc1not msgpack", "BridgeRequestError", "not msgpack"),
    (lambda i, c: msgpack.packb([1, 2]), "BridgeRequestError", "a msgpack map"),
    (
        lambda i, c: encode({"version": 99, "command": "info"}),
        "BridgeRequestError",
        "protocol version 99; expected version 1",
    ),
    (
        lambda i, c: encode({"version": 1, "command": "fly"}),
        "BridgeRequestError",
        "unknown command 'fly'",
    ),
    (
        lambda i, c: encode({"version": 1, "command": "create"}),
        "BridgeRequestError",
        "create has no field 'seeds'",
    ),
    (
        lambda i, c: encode({"version": 1, "command": "create", "seeds": ["x"]}),
        "BridgeRequestError",
        "create.seeds is ['x']",
    ),
    (
        lambda i, c: sample_request([10_000]),
        "UnknownInstanceError",
        "unknown agent instance id 10000",
    ),
    (
        lambda i, c: sample_request([i], n_successful=[1]),
        "MissingObservationError",
        "missing observation",
    ),
    (
        lambda i, c: sample_request([i], n_successful=["many"]),
        "BridgeRequestError",
        "observation 'n_successful' is 'many'",
    ),
    (
        lambda i, c: sample_request([i], n_successful=[1, 2]),
        "BridgeRequestError",
        "a list of 1 values, one per id",
    ),
    (
        lambda i, c: encode(
            {
                "version": 1,
                "command": "sample",
                "ids": [i],
                "observations": {"n_failed": [1]},
                "shared": {"n_failed": 1},
            }
        ),
        "BridgeRequestError",
        "observations ['n_failed'] are both per id and shared",
    ),
    (
        lambda i, c: encode(
            {
                "version": 1,
                "command": "sample",
                "ids": [i],
                "observations": {},
                "is_training": "yes",
            }
        ),
        "BridgeRequestError",
        "sample.is_training is 'yes'",
    ),
    (
        lambda i, c: encode({"version": 1, "command": "close", "ids": [c]}),
        "BridgeRequestError",
        "were closed",
    ),
]


@pytest.mark.parametrize(
    "make_payload, error, message", BAD_REQUESTS, ids=[m for _, _, m in BAD_REQUESTS]
)
def test_a_bad_request_gets_an_error_reply_naming_the_problem_and_changes_nothing(
    bridge, make_payload, error, message
):
    mine, closed = request(bridge, "create", seeds=[7, 8])["ids"]
    request(bridge, "close", ids=[closed])
    before = bridge.rlib.state(mine)
    reply = msgpack.unpackb(bridge.handle(make_payload(mine, closed)))
    assert reply["ok"] is False and reply["error"] == error and message in reply["message"], reply
    assert np.array_equal(bridge.rlib.state(mine)["alpha"], before["alpha"])
    # and it keeps serving: the instance goes on exactly as in process
    observations = {k: [v] for k, v in ts_observations(0).items()}
    reply = request(
        bridge, "sample", ids=[mine], observations=observations, shared={"context": RATES}
    )
    assert tuple(reply["actions"]) == reference_actions(7, 1)


# -- over sockets, in a subprocess ---------------------------------------------------------------


@pytest.fixture
def ts_bridge(tmp_path):
    with running_bridge(
        "ThompsonSampling", agent_params=TS_PARAMS, endpoint=f"ipc://{tmp_path}/bridge"
    ) as process:
        yield process


def test_the_bridge_serves_over_tcp_on_localhost_and_stops_cleanly_on_sigterm():
    with running_bridge(
        "EGreedy", agent_params={"e": 0.1}, ext="BasicMab", ext_params={"n_arms": 3}
    ) as process:
        assert process.endpoint.startswith("tcp://127.0.0.1:")
        with BridgeClient(process.endpoint, timeout=60) as client:
            ids = client.create([0])
            assert client.sample(ids, {"reward": [0.0]}).tolist()[0] in range(3)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert process.stdout.read().strip() == "stopped"


def test_a_client_that_disappears_mid_request_leaves_the_bridge_and_other_instances_intact(
    ts_bridge, tmp_path
):
    with BridgeClient(ts_bridge.endpoint, timeout=60) as client:
        (mine,) = client.create([7])
        actions = [
            client.sample(
                [mine], {k: [v] for k, v in ts_observations(0).items()}, {"context": RATES}
            )[0]
        ]
        for t in range(1, 6):
            # another client creates an instance, sends a request and vanishes before the reply
            with BridgeClient(ts_bridge.endpoint, timeout=60) as other:
                (theirs,) = other.create([100 + t])
                other._socket.send(
                    encode(
                        {
                            "version": 1,
                            "command": "sample",
                            "ids": [theirs],
                            "observations": {k: [v] for k, v in ts_observations(t).items()},
                            "shared": {"context": RATES},
                        }
                    )
                )
            actions.append(
                client.sample(
                    [mine], {k: [v] for k, v in ts_observations(t).items()}, {"context": RATES}
                )[0]
            )
        assert tuple(actions) == reference_actions(7, 6)
        assert client.info()["instances"] == 6


def test_a_request_of_several_frames_is_refused_and_the_bridge_keeps_serving(ts_bridge):
    context = zmq.Context()
    dealer = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.RCVTIMEO, 60_000)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.connect(ts_bridge.endpoint)
    try:
        dealer.send_multipart([b"", encode({"version": 1, "command": "info"}), b"extra"])
        delimiter, reply = dealer.recv_multipart()
        reply = msgpack.unpackb(reply)
        assert (
            delimiter == b""
            and reply["ok"] is False
            and "the request has 2 frames" in reply["message"]
        )
        dealer.send_multipart([b"", encode({"version": 1, "command": "info"})])
        assert msgpack.unpackb(dealer.recv_multipart()[1])["agent"] == "ThompsonSampling"
    finally:
        dealer.close()
        context.term()


def test_the_client_raises_the_bridges_error_and_times_out_when_no_bridge_answers(
    ts_bridge, tmp_path
):
    with BridgeClient(ts_bridge.endpoint, timeout=60) as client:
        with pytest.raises(
            BridgeError, match="UnknownInstanceError: unknown agent instance id 3"
        ) as caught:
            client.sample([3], {"n_successful": [1]})
        assert caught.value.error == "UnknownInstanceError"
    with (
        BridgeClient(f"ipc://{tmp_path}/nobody", timeout=0.2) as client,
        pytest.raises(TimeoutError, match="did not answer in time"),
    ):
        client.info()


def test_an_unknown_agent_on_the_command_line_is_a_usage_error_naming_the_choices():
    done = subprocess.run(
        [sys.executable, "-m", "agentax.bridge", "--agent", "Nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert (
        "unknown agent 'Nope'; expected one of" in done.stderr and "ThompsonSampling" in done.stderr
    )


# -- checkpoints: save and load through the bridge -------------------------------------------------


def ts_bridge_in_process(checkpoint_dir=None):
    return Bridge(
        RLib(agent_type=ThompsonSampling, agent_params=TS_PARAMS, no_ext_mode=True),
        checkpoint_dir=checkpoint_dir,
    )


def step_all(bridge, ids, steps):
    """The actions of ``ids`` (one request each, as ns-3 sends them) over ``steps``."""
    return [
        request(
            bridge,
            "sample",
            ids=[i],
            observations={k: [v] for k, v in ts_observations(t).items()},
            shared={"context": RATES},
        )["actions"][0]
        for t in steps
        for i in ids
    ]


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    """A bridge's checkpoint after 8 steps of instances 0 and 2 (1 closed), and the next 8 steps unbroken."""
    directory = tmp_path_factory.mktemp("checkpoints")
    bridge = ts_bridge_in_process(directory)
    ids = request(bridge, "create", seeds=[7, 8, 9])["ids"]
    request(bridge, "close", ids=[ids[1]])
    step_all(bridge, [ids[0], ids[2]], range(8))
    reply = request(bridge, "save", path="run")
    assert reply["ok"] and reply["path"] == "run.npz" and reply["ids"] == [ids[0], ids[2]]
    return directory, [ids[0], ids[2]], ids[1], step_all(bridge, [ids[0], ids[2]], range(8, 16))


def test_a_bridge_that_loads_a_saved_checkpoint_continues_bit_identically_and_keeps_closed_ids_closed(
    saved_run,
):
    directory, open_ids, closed_id, unbroken = saved_run
    bridge = ts_bridge_in_process(directory)
    request(bridge, "create", seeds=[1])  # whatever it held before is replaced
    reply = request(bridge, "load", path="run.npz")
    assert (
        reply["ok"]
        and reply["ids"] == open_ids
        and reply["instances"] == 2
        and reply["agent"] == "ThompsonSampling"
    )
    assert step_all(bridge, open_ids, range(8, 16)) == unbroken
    refused = request(bridge, "sample", ids=[closed_id], observations={"n_successful": [1]})
    assert refused["ok"] is False and f"instances [{closed_id}] were closed" in refused["message"]
    assert request(bridge, "info")["instances"] == 2


def test_a_bridge_checkpoint_is_an_ordinary_rlib_checkpoint(saved_run):
    directory, open_ids, _, unbroken = saved_run
    rl = RLib.load(str(directory / "run.npz"))
    assert step_all(Bridge(rl), open_ids, range(8, 16)) == unbroken


def test_save_without_a_path_picks_a_dated_name_in_the_checkpoint_directory(tmp_path):
    bridge = ts_bridge_in_process(tmp_path)
    request(bridge, "create", seeds=[3])
    reply = request(bridge, "save")
    assert reply["path"].startswith("agentax-checkpoint-") and (tmp_path / reply["path"]).is_file()


def test_a_bridge_with_no_instances_saves_and_loads_none(tmp_path):
    written, ids = ts_bridge_in_process(tmp_path).save(tmp_path / "empty")
    loaded = Bridge.from_checkpoint(written)
    assert written == str(tmp_path / "empty.npz") and ids == [] and loaded.open_ids() == []
    assert request(loaded, "create", seeds=[3])["ids"] == [0]


def test_save_with_every_instance_closed_is_refused(tmp_path):
    bridge = ts_bridge_in_process(tmp_path)
    request(bridge, "close", ids=request(bridge, "create", seeds=[3])["ids"])
    reply = request(bridge, "save", path="empty")
    assert reply["ok"] is False and "every instance is closed" in reply["message"]
    assert list(tmp_path.iterdir()) == []


def tamper(directory):
    data = bytearray((directory / "run.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (directory / "tampered.npz").write_bytes(bytes(data))
    return "tampered.npz"


def link_out(directory):
    (directory / "out").symlink_to(directory.parent)
    return "out/run.npz"


def text_file(directory):
    (directory / "notes.npz").write_text("not a checkpoint")
    return "notes.npz"


# (command, path or a function making it in the checkpoint directory, error class, part of the message)
BAD_CHECKPOINT_REQUESTS = [
    (
        "load",
        "../run.npz",
        "BridgeRequestError",
        "path '../run.npz' leads out of the checkpoint directory",
    ),
    (
        "save",
        "../escaped",
        "BridgeRequestError",
        "path '../escaped.npz' leads out of the checkpoint directory",
    ),
    (
        "save",
        "/tmp/absolute",
        "BridgeRequestError",
        "path '/tmp/absolute.npz' leads out of the checkpoint directory",
    ),
    (
        "load",
        link_out,
        "BridgeRequestError",
        "path 'out/run.npz' leads out of the checkpoint directory",
    ),
    ("load", "nul\0.npz", "BridgeRequestError", "leads out of the checkpoint directory"),
    ("load", "missing.npz", "CheckpointNotFoundError", "the file does not exist"),
    ("load", tamper, "CorruptCheckpointError", "its SHA-256 differs"),
    ("load", text_file, "NotACheckpointError", "is not an agentax checkpoint"),
    ("load", 3, "BridgeRequestError", "load.path is 3"),
    ("save", "no-such-dir/run", "FileNotFoundError", "no-such-dir"),
]


@pytest.mark.parametrize(
    "command, path, error, message",
    BAD_CHECKPOINT_REQUESTS,
    ids=[m for *_, m in BAD_CHECKPOINT_REQUESTS],
)
def test_a_bad_checkpoint_request_gets_an_error_reply_naming_the_problem_and_the_bridge_keeps_serving(
    saved_run, tmp_path, command, path, error, message
):
    directory = tmp_path / "checkpoints"
    directory.mkdir()
    (directory / "run.npz").write_bytes((saved_run[0] / "run.npz").read_bytes())
    bridge = ts_bridge_in_process(directory)
    (mine,) = request(bridge, "create", seeds=[7])["ids"]
    named = path(directory) if callable(path) else path
    rlib, files = bridge.rlib, sorted(tmp_path.rglob("*"))
    reply = request(bridge, command, path=named)
    assert reply["ok"] is False and reply["error"] == error and message in reply["message"], reply
    assert (
        bridge.rlib is rlib and sorted(tmp_path.rglob("*")) == files
    )  # nothing written, nothing replaced
    assert tuple(step_all(bridge, [mine], range(1))) == reference_actions(7, 1)


@pytest.mark.parametrize(
    "version, checkpoint_dir, message",
    [
        (1, True, "command 'save' in protocol version 1; expected version 2 or later"),
        (
            2,
            False,
            "save on a bridge without a checkpoint directory; expected a bridge started with --checkpoint-dir",
        ),
    ],
)
def test_save_needs_protocol_version_2_and_a_checkpoint_directory(
    tmp_path, version, checkpoint_dir, message
):
    bridge = ts_bridge_in_process(tmp_path if checkpoint_dir else None)
    reply = msgpack.unpackb(
        bridge.handle(encode({"version": version, "command": "save", "path": "x"}))
    )
    assert reply["ok"] is False and reply["version"] == version and message in reply["message"]
    assert list(tmp_path.iterdir()) == []


def test_a_version_1_request_gets_a_version_1_reply(bridge):
    reply = msgpack.unpackb(bridge.handle(encode({"version": 1, "command": "info"})))
    assert reply["ok"] and reply["version"] == 1 and reply["protocol"] == PROTOCOL_VERSION == 2


def test_sigterm_saves_the_checkpoint_named_on_the_command_line_and_resume_continues_bit_identically(
    tmp_path,
):
    final = tmp_path / "final.npz"
    observations = [{k: [v] for k, v in ts_observations(t).items()} for t in range(12)]
    options = ["--checkpoint-dir", str(tmp_path), "--checkpoint", str(final)]
    with running_bridge(
        "ThompsonSampling",
        agent_params=TS_PARAMS,
        endpoint=f"ipc://{tmp_path}/first",
        options=options,
    ) as process:
        with BridgeClient(process.endpoint, timeout=60) as client:
            (mine,) = client.create([7])
            actions = [
                client.sample([mine], observations[t], {"context": RATES})[0] for t in range(3)
            ]
            assert client.save("mid") == "mid.npz"
            replayed = [
                client.sample([mine], observations[t], {"context": RATES})[0] for t in range(3, 6)
            ]
            assert client.load("mid.npz") == [mine]  # back to step 3: the same actions again
            actions += [
                client.sample([mine], observations[t], {"context": RATES})[0] for t in range(3, 6)
            ]
            assert actions[3:] == replayed
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert process.stdout.read().splitlines() == [f"saved 1 instances to {final}", "stopped"]
    with (
        running_bridge(
            None, endpoint=f"ipc://{tmp_path}/second", options=["--resume", str(final)]
        ) as process,
        BridgeClient(process.endpoint, timeout=60) as client,
    ):
        actions += [
            client.sample([mine], observations[t], {"context": RATES})[0] for t in range(6, 12)
        ]
    assert tuple(actions) == reference_actions(7, 12)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            ["--resume", "/nonexistent/agentax.npz"],
            "no checkpoint at '/nonexistent/agentax.npz': the file does not exist",
        ),
        (
            ["--agent", "UCB", "--resume", "x.npz"],
            "give either --agent (a new agent) or --resume PATH",
        ),
        (
            ["--agent", "UCB", "--checkpoint-dir", "/nonexistent"],
            "--checkpoint-dir '/nonexistent' is not a directory",
        ),
    ],
)
def test_a_bad_checkpoint_option_is_a_usage_error_naming_the_problem(arguments, message):
    done = subprocess.run(
        [sys.executable, "-m", "agentax.bridge", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr
