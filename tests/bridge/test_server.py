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
from agentax.agents.mab import EGreedy, ThompsonSampling
from agentax.bridge import Bridge, BridgeClient, BridgeError, PROTOCOL_VERSION
from agentax.bridge.process import running_bridge, stop
from agentax.bridge.protocol import encode
from agentax.extensions import BasicMab

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
    return tuple(int(rl.sample(agent_id=0, context=np.float32(RATES), **ts_observations(t))) for t in range(n_steps))


def request(bridge, command, **fields):
    return msgpack.unpackb(bridge.handle(encode({"version": PROTOCOL_VERSION, "command": command, **fields})))


@pytest.fixture(scope="module")
def bridge():
    """One bridge for the in-process tests (each creates its own instances): compiled once."""
    return Bridge(RLib(agent_type=ThompsonSampling, agent_params=TS_PARAMS, no_ext_mode=True))


def test_sample_gives_the_actions_of_the_same_instance_in_process(bridge):
    (instance,) = request(bridge, "create", seeds=[7])["ids"]
    actions = [
        request(bridge, "sample", ids=[instance], observations={k: [v] for k, v in ts_observations(t).items()},
                shared={"context": RATES})["actions"][0]
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
        got = request(bridge, "sample", ids=ids, observations=per_id, shared={"context": RATES})["actions"]
        expected = rl.sample(agent_id=[0, 1, 2], context=np.broadcast_to(np.float32(RATES), (3, 4)),
                             **{k: np.asarray(v) for k, v in per_id.items()})
        assert got == expected.tolist()


def test_info_names_the_agent_and_the_observations_it_reads(bridge):
    open_before = request(bridge, "info")["instances"]
    ids = request(bridge, "create", seeds=[0, 1])["ids"]
    request(bridge, "close", ids=ids[1:])
    info = request(bridge, "info")
    assert info["ok"] and info["protocol"] == PROTOCOL_VERSION and info["agent"] == "ThompsonSampling"
    assert {"n_successful", "n_failed", "delta_time", "context"} <= set(info["observations"])
    assert info["n_actions"] == 4 and info["instances"] == open_before + 1


def sample_request(ids, **observations):
    return encode({"version": 1, "command": "sample", "ids": ids, "observations": observations})


# (request for an open instance `i` and a closed one `c`, error class, part of the message)
BAD_REQUESTS = [
    (lambda i, c: b"\xc1not msgpack", "BridgeRequestError", "not msgpack"),
    (lambda i, c: msgpack.packb([1, 2]), "BridgeRequestError", "a msgpack map"),
    (lambda i, c: encode({"version": 99, "command": "info"}), "BridgeRequestError", "protocol version 99; expected version 1"),
    (lambda i, c: encode({"version": 1, "command": "fly"}), "BridgeRequestError", "unknown command 'fly'"),
    (lambda i, c: encode({"version": 1, "command": "create"}), "BridgeRequestError", "create has no field 'seeds'"),
    (lambda i, c: encode({"version": 1, "command": "create", "seeds": ["x"]}), "BridgeRequestError", "create.seeds is ['x']"),
    (lambda i, c: sample_request([10_000]), "UnknownInstanceError", "unknown agent instance id 10000"),
    (lambda i, c: sample_request([i], n_successful=[1]), "MissingObservationError", "missing observation"),
    (lambda i, c: sample_request([i], n_successful=["many"]), "BridgeRequestError", "observation 'n_successful' is 'many'"),
    (lambda i, c: sample_request([i], n_successful=[1, 2]), "BridgeRequestError", "a list of 1 values, one per id"),
    (lambda i, c: encode({"version": 1, "command": "sample", "ids": [i], "observations": {"n_failed": [1]},
                          "shared": {"n_failed": 1}}), "BridgeRequestError", "observations ['n_failed'] are both per id and shared"),
    (lambda i, c: encode({"version": 1, "command": "sample", "ids": [i], "observations": {}, "is_training": "yes"}),
     "BridgeRequestError", "sample.is_training is 'yes'"),
    (lambda i, c: encode({"version": 1, "command": "close", "ids": [c]}), "BridgeRequestError", "were closed"),
]


@pytest.mark.parametrize("make_payload, error, message", BAD_REQUESTS, ids=[m for _, _, m in BAD_REQUESTS])
def test_a_bad_request_gets_an_error_reply_naming_the_problem_and_changes_nothing(bridge, make_payload, error, message):
    mine, closed = request(bridge, "create", seeds=[7, 8])["ids"]
    request(bridge, "close", ids=[closed])
    before = bridge.rlib.state(mine)
    reply = msgpack.unpackb(bridge.handle(make_payload(mine, closed)))
    assert reply["ok"] is False and reply["error"] == error and message in reply["message"], reply
    assert np.array_equal(bridge.rlib.state(mine)["alpha"], before["alpha"])
    # and it keeps serving: the instance goes on exactly as in process
    observations = {k: [v] for k, v in ts_observations(0).items()}
    reply = request(bridge, "sample", ids=[mine], observations=observations, shared={"context": RATES})
    assert tuple(reply["actions"]) == reference_actions(7, 1)


# -- over sockets, in a subprocess ---------------------------------------------------------------


@pytest.fixture
def ts_bridge(tmp_path):
    with running_bridge("ThompsonSampling", agent_params=TS_PARAMS, endpoint=f"ipc://{tmp_path}/bridge") as process:
        yield process


def test_the_bridge_serves_over_tcp_on_localhost_and_stops_cleanly_on_sigterm():
    with running_bridge("EGreedy", agent_params={"e": 0.1}, ext="BasicMab", ext_params={"n_arms": 3}) as process:
        assert process.endpoint.startswith("tcp://127.0.0.1:")
        with BridgeClient(process.endpoint, timeout=60) as client:
            ids = client.create([0])
            assert client.sample(ids, {"reward": [0.0]}).tolist()[0] in range(3)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert process.stdout.read().strip() == "stopped"


def test_a_client_that_disappears_mid_request_leaves_the_bridge_and_other_instances_intact(ts_bridge, tmp_path):
    with BridgeClient(ts_bridge.endpoint, timeout=60) as client:
        (mine,) = client.create([7])
        actions = [client.sample([mine], {k: [v] for k, v in ts_observations(0).items()}, {"context": RATES})[0]]
        for t in range(1, 6):
            # another client creates an instance, sends a request and vanishes before the reply
            with BridgeClient(ts_bridge.endpoint, timeout=60) as other:
                (theirs,) = other.create([100 + t])
                other._socket.send(encode({"version": 1, "command": "sample", "ids": [theirs],
                                           "observations": {k: [v] for k, v in ts_observations(t).items()},
                                           "shared": {"context": RATES}}))
            actions.append(client.sample([mine], {k: [v] for k, v in ts_observations(t).items()}, {"context": RATES})[0])
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
        assert delimiter == b"" and reply["ok"] is False and "the request has 2 frames" in reply["message"]
        dealer.send_multipart([b"", encode({"version": 1, "command": "info"})])
        assert msgpack.unpackb(dealer.recv_multipart()[1])["agent"] == "ThompsonSampling"
    finally:
        dealer.close()
        context.term()


def test_the_client_raises_the_bridges_error_and_times_out_when_no_bridge_answers(ts_bridge, tmp_path):
    with BridgeClient(ts_bridge.endpoint, timeout=60) as client:
        with pytest.raises(BridgeError, match="UnknownInstanceError: unknown agent instance id 3") as caught:
            client.sample([3], {"n_successful": [1]})
        assert caught.value.error == "UnknownInstanceError"
    with BridgeClient(f"ipc://{tmp_path}/nobody", timeout=0.2) as client:
        with pytest.raises(TimeoutError, match="did not answer in time"):
            client.info()


def test_an_unknown_agent_on_the_command_line_is_a_usage_error_naming_the_choices():
    done = subprocess.run([sys.executable, "-m", "agentax.bridge", "--agent", "Nope"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert "unknown agent 'Nope'; expected one of" in done.stderr and "ThompsonSampling" in done.stderr
