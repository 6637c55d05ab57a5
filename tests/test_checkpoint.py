"""Checkpoints: exact resume for every agent family, refusal of changed files, atomic writes.

Exact resume is checked against the run that never stopped: a facade is saved at step ``t``, its
world (bandit, context stream or environment) is copied, the saved facade goes on for ``m`` steps,
and the loaded one, driven by the copy, must give the same actions bit for bit and end in the same
states.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import chex
import gymnasium as gym
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import linen as nn

from agentax import RLib, checkpoint
from agentax.agents.contextual import LinUCB, NeuralEGreedy
from agentax.agents.deep import DDPG, DQN, DDPGActor, DDPGCritic, DiscreteActorCritic, PPODiscrete
from agentax.agents.mab import UCB, EGreedy, ThompsonSampling
from agentax.errors import (
    AgentaxError,
    CheckpointError,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    CheckpointParameterError,
    CheckpointTypeError,
    CheckpointVersionError,
    CorruptCheckpointError,
    NotACheckpointError,
    UnknownInstanceError,
)
from agentax.extensions import BasicMab, Gymnasium, GymnasiumVectorized

ROOT = pathlib.Path(__file__).resolve().parent.parent


# -- worlds: deterministic given their own random state, copied at the save -------------------


class Bandit:
    """Bernoulli arms; ``agent_id`` may list several instances stepped together."""

    def __init__(self, agent_id=0, probabilities=(0.2, 0.5, 0.7, 0.4), seed=0):
        self.agent_id, self.p = agent_id, np.asarray(probabilities)
        self.rng, self.action = np.random.default_rng(seed), None

    def step(self, rl):
        reward = (
            0.0
            if self.action is None
            else (self.rng.random(np.shape(self.action)) < self.p[self.action]) * 1.0
        )
        self.action = rl.sample(reward=reward, agent_id=self.agent_id)
        return self.action


class Contexts:
    """A linear contextual bandit: 4 arms, 3 features, noisy rewards."""

    theta = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, -0.5], [0.5, 0.5, 0.0], [-1.0, 0.2, 1.0]])

    def __init__(self, seed=0):
        self.rng, self.played, self.reward = np.random.default_rng(seed), np.zeros(3), 0.0

    def step(self, rl):
        context = self.rng.normal(size=self.theta.shape)
        action = rl.sample(context=context, action_context=self.played, reward=self.reward)
        self.played = context[action]
        self.reward = float(context[action] @ self.theta[action] + 0.3 * self.rng.normal())
        return action


class GymEnv:
    """A gymnasium environment played through the ``Gymnasium`` extension."""

    def __init__(self, env_id="CartPole-v1", seed=0):
        self.env, self.seed, self.action, self.done = gym.make(env_id), seed, None, True

    def step(self, rl):
        if self.done:
            self.action, self.done = rl.sample(*self.env.reset(seed=self.seed)), False
            self.seed = None
            return self.action
        observation, reward, terminal, truncated, info = self.env.step(self.action)
        self.done = terminal or truncated
        self.action = rl.sample(observation, reward, terminal, truncated, info)
        return self.action


class VectorCartPole:
    """Two CartPole-v1 environments stepped together (they reset themselves)."""

    def __init__(self, seed=0):
        self.env = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")
        self.seed, self.action = seed, None

    def step(self, rl):
        if self.action is None:
            self.action = rl.sample(*self.env.reset(seed=self.seed))
        else:
            self.action = rl.sample(*self.env.step(np.asarray(self.action)))
        return self.action


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.Dense(2)(nn.relu(nn.Dense(16)(x)))


def resume_and_compare(rl, world, tmp_path, t, m, **load_params):
    """Save at step ``t``, go on for ``m`` steps, and check the loaded facade does exactly the same."""
    for _ in range(t):
        world.step(rl)
    path = rl.save(str(tmp_path / "experiment"))
    twin = copy.deepcopy(world)
    expected = [world.step(rl) for _ in range(m)]
    loaded = RLib.load(path, **load_params)
    got = [twin.step(loaded) for _ in range(m)]
    np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))
    assert loaded.n_instances == rl.n_instances
    for i in range(rl.n_instances):
        chex.assert_trees_all_equal(loaded.state(i), rl.state(i))
    return path, loaded


@pytest.mark.parametrize(
    "agent_type, params",
    [(EGreedy, {"e": 0.3, "e_decay": 0.99}), (UCB, {"c": 1.0}), (ThompsonSampling, {"decay": 0.0})],
    ids=["EGreedy", "UCB", "ThompsonSampling"],
)
def test_a_bandit_resumes_exactly(tmp_path, agent_type, params):
    rl = RLib(
        agent_type=agent_type, agent_params=params, ext_type=BasicMab, ext_params={"n_arms": 4}
    )
    path, _ = resume_and_compare(rl, Bandit(), tmp_path, t=25, m=40)
    assert path == str(tmp_path / "experiment.npz")


def test_instances_stepped_together_resume_exactly(tmp_path):
    rl = RLib(
        agent_type=EGreedy, agent_params={"e": 0.5}, ext_type=BasicMab, ext_params={"n_arms": 4}
    )
    ids = [rl.init(seed) for seed in (3, 1, 4, 1, 5)]
    resume_and_compare(rl, Bandit(agent_id=ids), tmp_path, t=17, m=30)


@pytest.mark.parametrize(
    "agent_type, params",
    [(LinUCB, {"alpha": 1.0}), (NeuralEGreedy, {"e": 0.2})],
    ids=["LinUCB", "NeuralEGreedy"],
)
def test_a_contextual_bandit_resumes_exactly(tmp_path, agent_type, params):
    rl = RLib(agent_type=agent_type, agent_params={"n_arms": 4, "n_features": 3, **params})
    resume_and_compare(rl, Contexts(), tmp_path, t=30, m=30)


@pytest.mark.slow
def test_dqn_resumes_exactly_with_its_buffer_optimizer_and_epsilon(tmp_path):
    params = {
        "q_network": MLP(),
        "optimizer": optax.adam(1e-3),
        "experience_replay_buffer_size": 300,
        "experience_replay_batch_size": 16,
        "epsilon_decay": 0.98,
    }
    rl = RLib(
        agent_type=DQN,
        agent_params=params,
        ext_type=Gymnasium,
        ext_params={"env_id": "CartPole-v1"},
    )
    world = GymEnv()
    for _ in range(120):  # learning has started: the buffer holds > a batch, epsilon has decayed
        world.step(rl)
    state = rl.state()
    assert 16 < int(state.replay_buffer.size) < 300 and float(state.epsilon) < 0.5
    with pytest.raises(
        CheckpointParameterError, match=r"'q_network' \(.*MLP\), 'optimizer' \(.*\)"
    ) as raised:
        RLib.load(rl.save(str(tmp_path / "dqn")))
    assert "agent_params={'q_network': ..., 'optimizer': ...}" in str(raised.value)
    resume_and_compare(
        rl,
        world,
        tmp_path,
        t=0,
        m=60,
        agent_params={"q_network": MLP(), "optimizer": optax.adam(1e-3)},
    )


@pytest.mark.slow
def test_ddpg_resumes_exactly_with_its_networks_and_noise(tmp_path):
    networks = {"q_network": DDPGCritic(), "a_network": DDPGActor((1,), -2.0, 2.0)}
    rl = RLib(
        agent_type=DDPG,
        agent_params={
            **networks,
            "experience_replay_buffer_size": 200,
            "experience_replay_batch_size": 16,
        },
        ext_type=Gymnasium,
        ext_params={"env_id": "Pendulum-v1"},
    )
    resume_and_compare(rl, GymEnv("Pendulum-v1"), tmp_path, t=40, m=30, agent_params=networks)


@pytest.mark.slow
def test_ppo_resumes_exactly_with_its_rollout_buffer(tmp_path):
    params = {
        "network": DiscreteActorCritic(2),
        "rollout_length": 8,
        "batch_size": 8,
        "num_epochs": 2,
    }
    rl = RLib(
        agent_type=PPODiscrete,
        agent_params=params,
        ext_type=GymnasiumVectorized,
        ext_params={"env_id": "CartPole-v1", "num_envs": 2},
    )
    # 8 + 5 steps: one rollout was learned from, the next one is partly filled at the save.
    resume_and_compare(
        rl, VectorCartPole(), tmp_path, t=13, m=20, agent_params={"network": DiscreteActorCritic(2)}
    )


# -- what is stored, what is given again -------------------------------------------------------


def test_saved_instances_keep_their_ids_and_the_others_start_afresh(tmp_path):
    rl = RLib(agent_type=UCB, agent_params={"c": 1.0}, ext_type=BasicMab, ext_params={"n_arms": 3})
    for seed in range(4):
        rl.init(seed)
    world = Bandit(agent_id=[0, 1, 2, 3])
    for _ in range(10):
        world.step(rl)
    loaded = RLib.load(rl.save(str(tmp_path / "two"), agent_ids=[2]))
    assert loaded.n_instances == 3
    chex.assert_trees_all_equal(loaded.state(2), rl.state(2))
    fresh = RLib(
        agent_type=UCB, agent_params={"c": 1.0}, ext_type=BasicMab, ext_params={"n_arms": 3}
    )
    fresh.init()  # seed 42, as reinforced-lib fills the ids that were not saved
    for i in (0, 1):
        chex.assert_trees_all_equal(loaded.state(i), fresh.state(0))
    # The loaded facade grows as any other: a new instance is made exactly as init() makes it.
    assert loaded.init(7) == 3 and fresh.init(7) == 1
    chex.assert_trees_all_equal(loaded.state(3), fresh.state(1))
    assert loaded.sample(reward=[1.0, 0.0], agent_id=[3, 2]).shape == (2,)


def test_parameters_given_to_load_are_merged_over_the_stored_ones(tmp_path):
    rl = RLib(
        agent_type=EGreedy, agent_params={"e": 0.2}, ext_type=BasicMab, ext_params={"n_arms": 3}
    )
    world = Bandit(probabilities=(0.5, 0.5, 0.5))
    for _ in range(6):
        world.step(rl)
    loaded = RLib.load(rl.save(str(tmp_path / "e")), agent_params={"alpha": 0.5})
    before, arm = loaded.state(), int(world.action)
    loaded.sample(reward=1.0)
    after = loaded.state()
    # alpha = 0.5 now: Q_a <- Q_a + 0.5 (1 - Q_a) for the arm played; e = 0.2 is still the stored one.
    np.testing.assert_allclose(after.Q[arm], before.Q[arm] + 0.5 * (1.0 - before.Q[arm]), rtol=1e-6)
    resaved = checkpoint.read(loaded.save(str(tmp_path / "e2")))[0]
    assert resaved["agent"]["params"] == {"e": 0.2, "alpha": 0.5}


def test_parameters_are_stored_as_data_and_objects_by_name():
    params = {
        "none": None,
        "flag": True,
        "n": 3,
        "x": 0.5,
        "inf": float("-inf"),
        "name": "a",
        "list": [1, (2, 3)],
        "dict": {"k": [None]},
        "array": np.arange(3.0),
        "scalar": np.float32(2.5),
        "jax": jnp.ones(2, jnp.int32),
        "network": MLP(),
        "optimizer": optax.sgd(0.1),
        "function": len,
    }
    stored, arrays, objects = checkpoint.encode_params(params, "p")
    json.dumps(stored, allow_nan=False)  # plain JSON
    assert objects == {
        "network": f"{__name__}.MLP",
        "optimizer": "optax._src.base.GradientTransformationExtraArgs",
        "function": "builtins.builtin_function_or_method",
    }
    decoded = checkpoint.decode_params(
        "f",
        "Agent",
        "agent_params",
        stored,
        objects,
        arrays,
        {"network": 1, "optimizer": 2, "function": 3},
    )
    assert (
        decoded["list"] == [1, (2, 3)]
        and decoded["dict"] == {"k": [None]}
        and decoded["inf"] == float("-inf")
    )
    assert isinstance(decoded["scalar"], np.float32) and decoded["scalar"] == 2.5
    np.testing.assert_array_equal(decoded["array"], np.arange(3.0))
    assert decoded["jax"].dtype == np.int32 and list(decoded["jax"]) == [1, 1]
    assert {k: decoded[k] for k in ("none", "flag", "n", "x", "name", "network")} == {
        "none": None,
        "flag": True,
        "n": 3,
        "x": 0.5,
        "name": "a",
        "network": 1,
    }


class MyEGreedy(EGreedy):
    """A user's agent: not agentax's own, so checkpoints may name it only once it is allowed."""


def test_a_users_agent_is_loaded_only_when_registered_or_given(tmp_path):
    rl = RLib(
        agent_type=MyEGreedy, agent_params={"e": 0.1}, ext_type=BasicMab, ext_params={"n_arms": 3}
    )
    rl.sample(reward=0.0)
    path = rl.save(str(tmp_path / "mine"))
    with pytest.raises(CheckpointTypeError, match=rf"'{__name__}:MyEGreedy'.*pass agent_type="):
        RLib.load(path)
    assert isinstance(RLib.load(path, agent_type=MyEGreedy).agent, MyEGreedy)
    checkpoint.register(MyEGreedy)
    assert isinstance(RLib.load(path).agent, MyEGreedy)
    with pytest.raises(AgentaxError, match="agent_type must be a subclass"):
        checkpoint.register(dict)


def test_changed_shape_parameters_are_a_clear_mismatch(tmp_path):
    rl = RLib(agent_type=UCB, agent_params={"c": 1.0}, ext_type=BasicMab, ext_params={"n_arms": 3})
    rl.sample(reward=0.0)
    with pytest.raises(
        CheckpointMismatchError, match=r"array .* is \(\(1, 3\), .*expects \(\(1, 5\)"
    ):
        RLib.load(rl.save(str(tmp_path / "u")), ext_params={"n_arms": 5})


def test_save_names_the_file_as_reinforced_lib_does(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    rl = RLib(agent_type=UCB, agent_params={"c": 1.0}, ext_type=BasicMab, ext_params={"n_arms": 3})
    path = rl.save()
    assert os.path.dirname(path) == str(tmp_path) and os.path.basename(path).startswith(
        "agentax-checkpoint-"
    )
    assert path.endswith(".npz") and RLib.load(path).n_instances == 0
    assert rl.save(str(tmp_path / "x.npz")) == str(tmp_path / "x.npz")
    assert rl.save(tmp_path / "y") == str(tmp_path / "y.npz")
    rl.init()
    with pytest.raises(UnknownInstanceError, match="unknown agent instance id 3"):
        rl.save(tmp_path / "z", agent_ids=[0, 3])
    assert not (tmp_path / "z.npz").exists()


def test_auto_checkpoint_keeps_the_last_three_and_each_resumes(tmp_path):
    rl = RLib(
        agent_type=EGreedy,
        agent_params={"e": 0.3},
        ext_type=BasicMab,
        ext_params={"n_arms": 4},
        auto_checkpoint=5,
        auto_checkpoint_path=str(tmp_path),
    )
    world = Bandit()
    for _ in range(20):
        world.step(rl)
    at_20 = copy.deepcopy(world)
    expected = [world.step(rl) for _ in range(12)]
    names = sorted(os.listdir(tmp_path), key=lambda name: int(name.split("-step-")[1][:-4]))
    assert names == [f"agentax-checkpoint-agent-0-step-{n}.npz" for n in (20, 25, 30)]
    loaded = RLib.load(tmp_path / names[0])
    assert [at_20.step(loaded) for _ in range(12)] == expected


def test_auto_checkpoint_saves_instances_stepped_together_in_one_file(tmp_path):
    rl = RLib(
        agent_type=UCB,
        agent_params={"c": 1.0},
        ext_type=BasicMab,
        ext_params={"n_arms": 4},
        auto_checkpoint=3,
        auto_checkpoint_path=str(tmp_path),
    )
    ids = [rl.init(seed) for seed in range(3)]
    world = Bandit(agent_id=ids)
    for _ in range(3):
        world.step(rl)
    assert os.listdir(tmp_path) == ["agentax-checkpoint-agents-0-and-2-more-step-3.npz"]
    loaded = RLib.load(tmp_path / os.listdir(tmp_path)[0])
    for i in ids:
        chex.assert_trees_all_equal(loaded.state(i), rl.state(i))


@pytest.mark.parametrize("every", [0, -1, 2.5, True])
def test_auto_checkpoint_must_be_a_positive_integer(every):
    with pytest.raises(ValueError, match="auto_checkpoint must be a positive integer"):
        RLib(agent_type=UCB, agent_params={"c": 1.0}, auto_checkpoint=every)


# -- files that must be refused, running nothing from them --------------------------------------


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory):
    rl = RLib(agent_type=UCB, agent_params={"c": 1.0}, ext_type=BasicMab, ext_params={"n_arms": 3})
    world = Bandit(probabilities=(0.1, 0.5, 0.9))
    for _ in range(5):
        world.step(rl)
    return pathlib.Path(rl.save(str(tmp_path_factory.mktemp("small") / "small"))).read_bytes()


def members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


def forge(path: pathlib.Path, contents: list[tuple[str, bytes]], version: int = 1) -> pathlib.Path:
    """Write ``contents`` as a checkpoint with a valid digest, as someone who read the format would."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in contents:
            archive.writestr(name, data)
        archive.comment = b"agentax-checkpoint %d sha256 " % version + b"0" * 64
    signed = buffer.getvalue()[:-64]
    path.write_bytes(signed + hashlib.sha256(signed).hexdigest().encode())
    return path


def test_the_file_is_a_plain_npz_with_a_json_header(tmp_path, small_checkpoint):
    path = tmp_path / "c.npz"
    path.write_bytes(small_checkpoint)
    with np.load(path, allow_pickle=False) as arrays:
        assert list(arrays["steps"]) == [5] and list(arrays["ids"]) == [0]
    header = json.loads(dict(members(small_checkpoint))["agentax-checkpoint.json"])
    assert header["version"] == checkpoint.FORMAT_VERSION == 1
    assert header["metadata"]["agent"] == {
        "type": "agentax.agents.mab.ucb:UCB",
        "params": {"c": 1.0},
        "objects": {},
    }
    assert header["metadata"]["ext"]["params"] == {"n_arms": 3}
    assert (
        forge(tmp_path / "same.npz", members(small_checkpoint)).read_bytes() != small_checkpoint
    )  # other dates
    assert RLib.load(tmp_path / "same.npz").n_instances == 1  # the forger's signing is the format's


def test_every_changed_byte_is_refused(tmp_path, small_checkpoint):
    path = tmp_path / "changed.npz"
    for position in range(len(small_checkpoint)):
        changed = bytearray(small_checkpoint)
        changed[position] ^= 0x20
        path.write_bytes(bytes(changed))
        with pytest.raises(CheckpointError):
            RLib.load(path)


def test_every_truncation_is_refused(tmp_path, small_checkpoint):
    path = tmp_path / "truncated.npz"
    for size in range(len(small_checkpoint)):
        path.write_bytes(small_checkpoint[:size])
        with pytest.raises(CheckpointError):
            RLib.load(path)
    path.write_bytes(small_checkpoint[:-100])
    with pytest.raises(CorruptCheckpointError, match="its end is missing or changed"):
        RLib.load(path)


class Payload:
    """Unpickling this creates the file ``marker``: what an attacker's code would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def object_npy(marker) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([Payload(marker)], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def test_a_pickle_payload_in_any_member_is_refused_and_never_run(tmp_path, small_checkpoint):
    marker = tmp_path / "payload-ran"
    np.load(
        io.BytesIO(object_npy(tmp_path / "control")), allow_pickle=True
    )  # the payload is live...
    assert (tmp_path / "control").exists()
    original = members(small_checkpoint)
    header = json.loads(original[0][1])
    header["arrays"]["stack/0"] = {"dtype": "|O", "shape": [1]}
    import pickle

    blob = pickle.dumps(Payload(marker))
    attacks = {
        "object .npy in place of an array": [
            (n, object_npy(marker) if n == "stack/0.npy" else d) for n, d in original
        ],
        "object .npy announced by the header": [
            (original[0][0], json.dumps(header).encode()),
            *[(n, object_npy(marker) if n == "stack/0.npy" else d) for n, d in original[1:]],
        ],
        "pickle bytes in place of an array": [
            (n, blob if n == "steps.npy" else d) for n, d in original
        ],
        "an extra pickle member": [*original, ("payload.pkl", blob)],
    }
    for what, contents in attacks.items():
        for member in (forge(tmp_path / "forged.npz", contents), None):
            if member is None:  # the same file with its digest left as it was: refused even sooner
                data = (tmp_path / "forged.npz").read_bytes()
                (tmp_path / "forged.npz").write_bytes(data[:-64] + small_checkpoint[-64:])
            with pytest.raises(CorruptCheckpointError):
                RLib.load(tmp_path / "forged.npz")
            assert not marker.exists(), what


def test_another_format_version_is_refused(tmp_path, small_checkpoint):
    with pytest.raises(
        CheckpointVersionError, match="format version 2; this agentax reads version 1"
    ):
        RLib.load(forge(tmp_path / "v2.npz", members(small_checkpoint), version=2))
    contents = members(small_checkpoint)
    header = json.loads(contents[0][1])
    header["version"] = 2
    with pytest.raises(CheckpointVersionError, match="version 2"):
        RLib.load(
            forge(
                tmp_path / "h2.npz", [(contents[0][0], json.dumps(header).encode()), *contents[1:]]
            )
        )


def test_a_missing_path_is_refused(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="does not exist") as raised:
        RLib.load(tmp_path / "nothing.npz")
    assert isinstance(raised.value, FileNotFoundError)


@pytest.mark.parametrize("kind", ["empty", "text", "npz", "directory"])
def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path, kind):
    path = tmp_path / "other.npz"
    if kind == "npz":
        np.savez(path, x=np.arange(3))
    elif kind == "directory":
        path.mkdir()
    else:
        path.write_text("" if kind == "empty" else "hello, world\n")
    with pytest.raises(NotACheckpointError, match="is not an agentax checkpoint"):
        RLib.load(path)


def test_forged_metadata_is_refused(tmp_path, small_checkpoint):
    contents = members(small_checkpoint)
    header = json.loads(contents[0][1])
    header["metadata"]["agent"]["params"]["c"] = {"$array": "params/none", "scalar": False}
    with pytest.raises(CorruptCheckpointError, match="stored agent_params are malformed"):
        RLib.load(
            forge(
                tmp_path / "m.npz", [(contents[0][0], json.dumps(header).encode()), *contents[1:]]
            )
        )
    del header["metadata"]["no_ext_mode"]
    with pytest.raises(CorruptCheckpointError, match="metadata does not have the fields"):
        RLib.load(
            forge(
                tmp_path / "m.npz", [(contents[0][0], json.dumps(header).encode()), *contents[1:]]
            )
        )


# -- atomic writes ------------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    from agentax import RLib
    from agentax.agents.mab import EGreedy
    from agentax.extensions import BasicMab

    rl = RLib(agent_type=EGreedy, agent_params={"e": 0.1}, ext_type=BasicMab, ext_params={"n_arms": 4_000_000})
    rl.sample(reward=0.0)
    rl.save(sys.argv[1])  # the previous checkpoint: 32 MB
    print("saved", flush=True)
    rl.sample(reward=1.0)
    rl.save(sys.argv[1])  # killed while writing this one
    print("saved again", flush=True)
""")


def kill_writer_mid_save(path: pathlib.Path) -> bool:
    """Run the writer, SIGKILL it as soon as its second save's temporary file appears.

    Returns whether the kill landed before the rename (a temporary file is left behind).
    """
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline() == "saved\n"  # bounded by the timeout of the finally clause
        deadline = time.monotonic() + 120
        while writer.poll() is None and time.monotonic() < deadline:
            if any(name.endswith(".tmp") for name in os.listdir(path.parent)):
                os.kill(writer.pid, signal.SIGKILL)
                break
            time.sleep(0.0005)
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.wait(timeout=60)
        writer.stdout.close()
    return any(name.endswith(".tmp") for name in os.listdir(path.parent))


@pytest.mark.slow
def test_a_writer_killed_mid_save_leaves_the_previous_checkpoint(tmp_path):
    killed_mid_save = False
    for attempt in range(3):  # the kill may land after the rename on a busy machine: then try again
        directory = tmp_path / str(attempt)
        directory.mkdir()
        path = directory / "experiment.npz"
        killed_mid_save = kill_writer_mid_save(path)
        _, arrays = checkpoint.read(path)  # whichever file is there is whole
        if killed_mid_save:
            assert list(arrays["steps"]) == [1]  # the previous checkpoint, intact
            assert RLib.load(path).n_instances == 1
            break
        assert list(arrays["steps"]) == [2]
    assert killed_mid_save


@pytest.mark.slow
def test_the_benchmark_runs_and_reports_every_figure(tmp_path):
    """``benchmarks/checkpoint.py --quick``: the code path of ``make bench-checkpoint`` (no timing asserted)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "checkpoint_benchmark", ROOT / "benchmarks" / "checkpoint.py"
    )
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    assert benchmark.main(["--quick", "--output", str(tmp_path / "r.json")]) == 0
    rows = json.loads((tmp_path / "r.json").read_text())["results"]
    assert [row["experiment"] for row in rows] == ["bandits", "dqn"]
    assert rows[0]["instances"] == 50 and rows[1]["instances"] == 1
    for row in rows:
        assert row["save_seconds"] > 0 and row["load_seconds"] > 0
        # The file holds the arrays once, plus a JSON header and ZIP entries of a few hundred bytes.
        assert row["raw_array_bytes"] < row["file_bytes"] < row["raw_array_bytes"] + 20_000


def test_a_compressed_member_is_refused(tmp_path, small_checkpoint):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members(small_checkpoint):
            archive.writestr(name, data)
        archive.comment = b"agentax-checkpoint 1 sha256 " + b"0" * 64
    signed = buffer.getvalue()[:-64]
    (tmp_path / "z.npz").write_bytes(signed + hashlib.sha256(signed).hexdigest().encode())
    with pytest.raises(CorruptCheckpointError, match="compressed or encrypted members"):
        RLib.load(tmp_path / "z.npz")
