"""Native export (agentax.export): the exported functions, run by JAX from StableHLO and by IREE's
runtime (its Python API and the native ``iree-run-module`` tool), against the agents called in JAX.

Each agent is exported once (a module-scoped fixture); a closed loop of ``STEPS`` steps (split,
sample, split, update with the sampled action) runs in every runtime from the same key, and the
actions and states are compared at every step. ``iree-run-module`` runs a few of those steps, from
the JAX state of that step, with inputs and outputs in ``.npy`` files.
"""

import json
import os
import pickle
import subprocess
import sys

import jax
import numpy as np
import optax
import pytest

from agentax import RLib
from agentax import export as ex
from agentax.agents.contextual import LinTS
from agentax.agents.deep import DQN
from agentax.agents.mab import (
    CUSUM,
    CUSUMUCB,
    KLUCB,
    SWUCB,
    UCB,
    EGreedy,
    Exp3,
    GLRklUCB,
    LogNormalThompsonSampling,
    Masked,
    NormalThompsonSampling,
    RandomScheduler,
    Restarting,
    RoundRobinScheduler,
    Softmax,
    ThompsonSampling,
)
from agentax.errors import AgentaxError
from agentax.testing import example_observations
from tests.agents.cases.deep import _TinyQ

pytestmark = pytest.mark.skipif(
    not ex.iree_available(),
    reason="IREE is not installed: the export tests need pip install 'agentax[export]'",
)

STEPS = 200
NATIVE_STEPS = (0, 1, STEPS // 2, STEPS - 1)  # the steps iree-run-module also runs
KEY = np.asarray(jax.random.PRNGKey(7))

_DQN = dict(
    experience_replay_buffer_size=8, experience_replay_batch_size=4, optimizer=optax.adam(1e-3)
)
AGENTS = {
    "EGreedy": lambda: EGreedy(4, 0.3, e_min=0.05, e_decay=0.99, alpha=0.2),
    "Softmax": lambda: Softmax(4, lr=0.5, tau=0.5),
    "UCB": lambda: UCB(4, c=1.0, gamma=0.99),
    "Exp3": lambda: Exp3(4, gamma=0.1, min_reward=-10.0, max_reward=10.0),
    "RoundRobinScheduler": lambda: RoundRobinScheduler(4, initial_item=2),
    "RandomScheduler": lambda: RandomScheduler(5),
    "KLUCB": lambda: KLUCB(4),
    "SWUCB": lambda: SWUCB(4, window=5),
    "CUSUMUCB": lambda: CUSUMUCB(4, h=0.5, alpha=0.1, epsilon=0.0, m=1),
    "GLRklUCB": lambda: GLRklUCB(4, delta=0.5, alpha=0.2, history=4),
    "Restarting": lambda: Restarting(UCB(4, c=1.0), CUSUM(h=0.5, epsilon=0.0, m=1), alpha=0.1),
    "ThompsonSampling": lambda: ThompsonSampling(4, decay=0.1),
    "NormalThompsonSampling": lambda: NormalThompsonSampling(
        4, alpha=1.0, beta=1.0, lam=1.0, mu=0.0
    ),
    "LogNormalThompsonSampling": lambda: LogNormalThompsonSampling(
        4, alpha=1.0, beta=1.0, lam=1.0, mu=0.0
    ),
    "Masked": lambda: Masked(
        ThompsonSampling(4, decay=0.1), [True, False, True, True], max_tries=2
    ),
    "LinTS": lambda: LinTS(3, 2, v=0.5),
    "DQN": lambda: DQN(_TinyQ(2), 3, 2, **_DQN, epsilon=0.5, epsilon_decay=0.99),
}


@pytest.fixture(scope="module", params=sorted(AGENTS))
def exported(request, tmp_path_factory):
    """(name, agent, export directory, inputs of every step, the JAX reference trajectory)."""
    agent = AGENTS[request.param]()
    path = ex.export(agent, tmp_path_factory.mktemp(request.param))
    inputs = (
        example_observations(agent.update_observation_space, STEPS, seed=1),
        example_observations(agent.sample_observation_space, STEPS, seed=2),
    )
    return (
        request.param,
        agent,
        path,
        inputs,
        _run(_reference(agent), ex.read_manifest(path), inputs),
    )


def _reference(agent):
    """The agent's own jitted functions called on flat arrays as the manifest orders them."""
    state_def = jax.tree.structure(agent.init(KEY))

    def call(name, *args, manifest):
        arguments = [arg["name"] for arg in manifest["functions"][name]["arguments"]]
        if name == "split":
            return tuple(jax.random.split(args[0]))
        if name == "init":
            return tuple(jax.tree.leaves(agent.init(args[0])))
        n = arguments.index("key")
        state = jax.tree.unflatten(state_def, args[:n])
        observations = dict(zip(arguments[n + 1 :], args[n + 1 :], strict=True))
        out = getattr(agent, name)(state, args[n], **observations)
        return tuple(jax.tree.leaves(out))

    return call


def _run(call, manifest, inputs, steps=STEPS):
    """The closed loop: per step the key, the action and the state after the update, as NumPy arrays."""
    update_obs, sample_obs = inputs
    names = {
        name: [arg["name"] for arg in manifest["functions"][name]["arguments"]]
        for name in ("update", "sample")
    }
    n = names["sample"].index("key")
    key = KEY
    state = call("init", key, manifest=manifest)
    trajectory = []
    for t in range(steps):
        key, sample_key = call("split", key, manifest=manifest)
        (action,) = call(
            "sample",
            *state,
            sample_key,
            *(sample_obs[o][t] for o in names["sample"][n + 1 :]),
            manifest=manifest,
        )
        key, update_key = call("split", key, manifest=manifest)
        observations = [
            action if o == "action" else update_obs[o][t] for o in names["update"][n + 1 :]
        ]
        before = state
        state = call("update", *state, update_key, *observations, manifest=manifest)
        trajectory.append(
            {
                "key": np.asarray(key),
                "sample_key": np.asarray(sample_key),
                "update_key": np.asarray(update_key),
                "action": np.asarray(action),
                "before": [np.asarray(x) for x in before],
                "observations": [np.asarray(x) for x in observations],
                "state": [np.asarray(x) for x in state],
            }
        )
    return trajectory


def _loaded(path, runtime):
    functions = ex.load(path, runtime).functions
    return lambda name, *args, manifest: functions[name](*(np.asarray(a) for a in args))


def _replay(call, manifest, reference, inputs):
    """Every step of the reference run again from the reference's state, keys and observations."""
    names = [arg["name"] for arg in manifest["functions"]["sample"]["arguments"]]
    n = names.index("key")
    trajectory, key = [], KEY
    for t, step in enumerate(reference):
        key, sample_key = call("split", key, manifest=manifest)
        (action,) = call(
            "sample",
            *step["before"],
            sample_key,
            *(inputs[1][o][t] for o in names[n + 1 :]),
            manifest=manifest,
        )
        key, update_key = call("split", key, manifest=manifest)
        state = call(
            "update", *step["before"], update_key, *step["observations"], manifest=manifest
        )
        trajectory.append({"key": key, "action": action, "state": state})
    return trajectory


def _assert_same(trajectory, reference, rtol=0.0):
    """Keys and actions bit-identical; states too, or within ``rtol`` (and ``rtol / 10`` absolute)."""
    for t, (got, want) in enumerate(zip(trajectory, reference, strict=True)):
        np.testing.assert_array_equal(got["key"], want["key"], err_msg=f"key at step {t}")
        np.testing.assert_array_equal(got["action"], want["action"], err_msg=f"action at step {t}")
        for i, (a, b) in enumerate(zip(got["state"], want["state"], strict=True)):
            if rtol == 0.0:
                np.testing.assert_array_equal(a, b, err_msg=f"state leaf {i} at step {t}")
            else:
                np.testing.assert_allclose(
                    a, b, rtol=rtol, atol=rtol / 10, err_msg=f"state leaf {i} at step {t}"
                )


#: How far IREE's states may be from JAX's after one step from the same state (relative), for the
#: agents whose states are not bit-identical: exp, log, the Beta/Gamma and normal draws' arithmetic,
#: matrix products and Cholesky solves compile to different instruction sequences (docs/export.rst).
#: Keys and actions are compared exactly for every agent.
IREE_STATE_RTOL = {
    "Exp3": 4e-7,
    "LogNormalThompsonSampling": 4e-7,
    "DQN": 1e-5,
}


def _rtol(name):
    return IREE_STATE_RTOL.get(name, 0.0)


def test_exported_stablehlo_runs_the_same_loop_in_jax(exported):
    """The deserialized StableHLO, in a closed loop of its own: every key, action and state bit-identical."""
    _, _, path, inputs, reference = exported
    _assert_same(_run(_loaded(path, "jax"), ex.read_manifest(path), inputs), reference)


def test_iree_python_api_matches_jax(exported):
    name, _, path, inputs, reference = exported
    trajectory = _replay(_loaded(path, "iree"), ex.read_manifest(path), reference, inputs)
    _assert_same(trajectory, reference, rtol=_rtol(name))


def _native(path, name, args, n_results, workdir):
    """Run ``name.main`` of ``path/name.vmfb`` with the native iree-run-module; inputs and outputs as .npy."""
    command = [
        ex.native_tool("iree-run-module"),
        f"--module={os.path.join(path, name + '.vmfb')}",
        "--device=local-sync",
        "--function=main",
    ]
    for i, arg in enumerate(args):
        np.save(workdir / f"in{i}.npy", np.asarray(arg), allow_pickle=False)
        command.append(f"--input=@{workdir / f'in{i}.npy'}")
    command += [f"--output=@{workdir / f'out{i}.npy'}" for i in range(n_results)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return [np.load(workdir / f"out{i}.npy", allow_pickle=False) for i in range(n_results)]


def test_native_tool_matches_jax(exported, tmp_path):
    name, _, path, inputs, reference = exported
    sample_obs = inputs[1]
    manifest = ex.read_manifest(path)
    sample_names = [a["name"] for a in manifest["functions"]["sample"]["arguments"]]
    n = sample_names.index("key")
    n_state = len(manifest["functions"]["init"]["results"])
    initial = _native(path, "init", [KEY], n_state, tmp_path)
    first = reference[0]["before"]
    _assert_same(
        [{"key": 0, "action": 0, "state": initial}],
        [{"key": 0, "action": 0, "state": first}],
        _rtol(name),
    )
    for t in NATIVE_STEPS:
        step = reference[t]
        previous_key = reference[t - 1]["key"] if t else KEY
        middle_key, sample_key = _native(path, "split", [previous_key], 2, tmp_path)
        np.testing.assert_array_equal(sample_key, step["sample_key"])
        key, _ = _native(path, "split", [middle_key], 2, tmp_path)
        (action,) = _native(
            path,
            "sample",
            [*step["before"], sample_key, *(sample_obs[o][t] for o in sample_names[n + 1 :])],
            1,
            tmp_path,
        )
        state = _native(
            path,
            "update",
            [*step["before"], step["update_key"], *step["observations"]],
            n_state,
            tmp_path,
        )
        _assert_same([{"key": key, "action": action, "state": state}], [step], _rtol(name))


def test_manifest_describes_the_functions(exported):
    _, agent, path, _, reference = exported
    manifest = ex.read_manifest(path)
    assert manifest["versions"]["jax"] == jax.__version__
    assert set(manifest["functions"]) == {"split", "init", "update", "sample"}
    init, update = manifest["functions"]["init"], manifest["functions"]["update"]
    assert init["arguments"] == [{"name": "key", "shape": [2], "dtype": "uint32"}]
    # init's results, update's state arguments and results: the state's leaves, named, in flattening order.
    leaves = jax.tree_util.tree_flatten_with_path(agent.init(KEY))[0]
    expected = [
        {
            "name": "state." + jax.tree_util.keystr(p, simple=True, separator="."),
            "shape": list(x.shape),
            "dtype": x.dtype.name,
        }
        for p, x in leaves
    ]
    assert init["results"] == expected == update["results"] == update["arguments"][: len(expected)]
    assert [a["name"] for a in update["arguments"][len(expected) + 1 :]] == list(
        agent.update_observation_space.spaces
    )
    assert manifest["functions"]["sample"]["results"][0]["shape"] == list(
        reference[0]["action"].shape
    )


def test_stablehlo_loads_without_agentax(exported, tmp_path):
    """A fresh interpreter that never imports agentax runs the exported sample from its file alone."""
    _, _, path, inputs, reference = exported
    step = reference[5]
    manifest = ex.read_manifest(path)
    names = [a["name"] for a in manifest["functions"]["sample"]["arguments"]]
    args = [
        *step["before"],
        step["sample_key"],
        *(inputs[1][o][5] for o in names[names.index("key") + 1 :]),
    ]
    np.savez(tmp_path / "args.npz", *args)
    script = (
        "import sys, jax, numpy as np\n"
        f"exported = jax.export.deserialize(bytearray(open({os.path.join(path, 'sample.stablehlo')!r}, 'rb').read()))\n"
        f"data = np.load({str(tmp_path / 'args.npz')!r}, allow_pickle=False)\n"
        "out = exported.call(*(data[f'arr_{i}'] for i in range(len(data.files))))\n"
        "print(int(np.asarray(out)) if np.ndim(out) == 0 else np.asarray(out).tolist(), 'agentax' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ""},
        check=True,
    )
    action, imported = result.stdout.split()
    assert json.loads(action) == step["action"].tolist() and imported == "False"


@pytest.fixture(scope="module")
def trained_dqn(tmp_path_factory):
    """A DQN trained through the facade (rewarded for action 1 exactly when the first feature is
    positive), exported as a greedy sample with its state baked in."""
    rl = RLib(
        agent_type=DQN,
        agent_params=dict(q_network=_TinyQ(2), obs_space_shape=3, act_space_size=2, **_DQN),
        no_ext_mode=True,
    )
    rng = np.random.default_rng(0)
    obs, reward = rng.uniform(-1, 1, 3), 0.0
    for _ in range(400):
        action = rl.sample(env_state=obs, reward=reward, terminal=True, truncated=False)
        reward = float(action == (obs[0] > 0))
        obs = rng.uniform(-1, 1, 3)
    return rl, rl.export(
        tmp_path_factory.mktemp("dqn-greedy"), agent_id=0, sample_only=True, greedy=True
    )


@pytest.mark.parametrize("runtime", ["jax", "iree"])
def test_sample_only_export_of_a_trained_dqn_gives_the_facades_greedy_actions(trained_dqn, runtime):
    rl, path = trained_dqn
    manifest = ex.read_manifest(path)
    assert (
        set(manifest["functions"]) == {"split", "sample"}
        and manifest["state_baked"]
        and manifest["greedy"]
    )
    assert [a["name"] for a in manifest["functions"]["sample"]["arguments"]] == ["key", "env_state"]
    assert manifest["agent_params"]["obs_space_shape"] == 3
    assert manifest["agent_objects"]["q_network"].endswith("_TinyQ")
    sample = ex.load(path, runtime)["sample"]
    observations = np.random.default_rng(1).uniform(-5, 5, (60, 3)).astype(np.float32)
    facade = [
        int(
            rl.sample(
                env_state=o,
                reward=0.0,
                terminal=False,
                truncated=False,
                is_training=False,
                greedy=True,
            )
        )
        for o in observations
    ]
    exported = [int(sample(KEY, o)[0]) for o in observations]
    assert exported == facade and set(facade) == {0, 1}


def test_rl_export_writes_the_instance_that_iree_run_module_continues(tmp_path):
    """A trained facade instance, exported in full: iree-run-module continues it from its files
    (state, key, step count, last action; keys from the exported step_keys) with the facade's
    next actions and states, bit for bit."""
    rl = RLib(agent_type=EGreedy, agent_params=dict(n_arms=4, e=0.3, alpha=0.2), no_ext_mode=True)
    rewards = np.random.default_rng(3).uniform(-1, 1, 36).astype(np.float32)
    for reward in rewards[:30]:
        rl.sample(reward=float(reward))
    path = rl.export(tmp_path / "egreedy", formats=["iree"])
    manifest, instance = ex.read_manifest(path), ex.load_instance(path)
    assert set(manifest["functions"]) == {"split", "init", "update", "sample", "step_keys"}
    assert instance["step"] == 30 and [a["name"] for a in manifest["instance"]["arrays"]] == [
        "state.N",
        "state.Q",
        "state.e",
        "key",
        "last_action",
    ]
    update_names = [a["name"] for a in manifest["functions"]["update"]["arguments"][4:]]
    state, action = instance["state"], instance["last_action"]
    for t, reward in enumerate(rewards[30:]):
        count = np.array([instance["step"] + t, 0], np.uint32)
        update_key, sample_key = _native(path, "step_keys", [instance["key"], count], 2, tmp_path)
        observations = {"action": action, "reward": reward}
        state = _native(
            path,
            "update",
            [*state, update_key, *(observations[n] for n in update_names)],
            3,
            tmp_path,
        )
        (action,) = _native(path, "sample", [*state, sample_key], 1, tmp_path)
        assert int(action) == rl.sample(reward=float(reward)), f"action at step {t}"
        for got, want in zip(state, jax.tree.leaves(rl.state(0)), strict=True):
            np.testing.assert_array_equal(got, want, err_msg=f"state at step {t}")


def test_export_refuses_bad_requests(tmp_path):
    agent = EGreedy(3, 0.1)
    with pytest.raises(AgentaxError, match="formats must be a non-empty subset of"):
        ex.export(agent, tmp_path, formats=["tflite"])
    with pytest.raises(
        AgentaxError, match="greedy=True exports sample_greedy with a trained state"
    ):
        ex.export(agent, tmp_path, greedy=True)
    with pytest.raises(AgentaxError, match="EGreedy has no sample_greedy"):
        ex.export(agent, tmp_path, state=agent.init(KEY), greedy=True)
    instance = ex.Instance(agent.init(KEY), KEY, 0, np.int32(0))
    with pytest.raises(AgentaxError, match="give state= .* or instance= .*, not both"):
        ex.export(agent, tmp_path, state=agent.init(KEY), instance=instance)
    path = ex.export(agent, tmp_path / "no-instance", formats=["stablehlo"])
    with pytest.raises(AgentaxError, match="holds no instance: export with instance="):
        ex.load_instance(path)


def test_load_reads_only_data(tmp_path):
    """A manifest that is not agentax's, a pickle where an artifact should be: refused, nothing run."""
    with pytest.raises(AgentaxError, match="not an agentax export directory"):
        ex.load(tmp_path)
    path = ex.export(EGreedy(3, 0.1), tmp_path / "e", formats=["stablehlo"])
    with pytest.raises(AgentaxError, match="holds no iree artifact of 'split'"):
        ex.load(path, "iree")
    with pytest.raises(AgentaxError, match="runtime must be 'jax' or 'iree'"):
        ex.load(path, "tflite")
    sample = ex.load(path)["sample"]
    with pytest.raises(AgentaxError, match=r"sample: key must be uint32\[2\], got int64\[2\]"):
        sample(np.zeros(3, np.int32), np.zeros(3, np.float32), np.float32(0.1), np.array([1, 2]))
    marker = tmp_path / "ran"
    with open(os.path.join(path, "sample.stablehlo"), "wb") as file:
        file.write(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(
        AgentaxError, match="sample.stablehlo is not a serialized jax.export function"
    ):
        ex.load(path)
    assert not marker.exists()


class _Payload:
    """Unpickling this creates a file: the proof that a loader unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))
