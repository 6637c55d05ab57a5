"""Populations sharded along the instance axis: same results on 1 and 4 devices and on 2 processes.

The 4-device checks run ``tests/sharding_four_devices.py`` in a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` (the flag must be set before JAX starts);
the 2-process study runs ``python -m agentax.sharding`` twice through :func:`launch_local`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from agentax import RLib
from agentax.agents.mab import EGreedy
from agentax.errors import AgentaxError
from agentax.sharding import bandit_study, launch_local, population_mesh, put_population

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def four_devices(tmp_path_factory):
    """The arrays and the report of ``sharding_four_devices.py``."""
    out = tmp_path_factory.mktemp("four")
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.sharding_four_devices",
            str(out / "a.npz"),
            str(out / "r.json"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(np.load(out / "a.npz")), json.loads((out / "r.json").read_text())


@pytest.mark.parametrize("name", ["simulate", "state", "wifi"])
def test_four_devices_give_the_one_device_results(four_devices, name):
    arrays, report = four_devices
    assert report["devices"] == 4
    one = sorted(k for k in arrays if k.startswith(f"{name}/one/"))
    assert one
    for key in one:
        np.testing.assert_array_equal(
            arrays[key], arrays[key.replace("/one/", "/four/")], err_msg=key
        )


@pytest.mark.parametrize("name", ["simulate", "state", "wifi"])
def test_no_instance_leaves_its_device(four_devices, name):
    """No collective at all in the compiled 4-device program, and every output stays split:
    8 instances, 2 rows on each of the 4 devices."""
    _, report = four_devices
    assert report[name] == {
        "collectives": [],
        "out_specs": ["P('instances',)"],
        "out_devices": [4],
        "shard_rows": [2],
    }


def test_the_collective_check_sees_a_reduction_over_the_population(four_devices):
    """The control: a mean over the instances needs an all-reduce, and it is found."""
    assert four_devices[1]["control"] == ["all-reduce"]


def test_the_nonstationary_study_and_a_padded_sweep_on_four_devices(four_devices):
    arrays, _ = four_devices
    for key in ("study/{}/final", "study/{}/delays", "sweep/{}"):
        np.testing.assert_array_equal(arrays[key.format("one")], arrays[key.format("four")])
    assert arrays["sweep/four"].shape == (3, 1, 120)  # 3 runs padded to 4 for the devices, then cut


@pytest.mark.parametrize("n", [8, 6])
def test_the_facade_on_four_devices_gives_the_one_device_results(four_devices, n):
    """One step of the last instance alone, then 50 of ``rl.sample(reward=..., agent_id=range(n))``:
    same actions, states and step counts; 6 instances (not a multiple of 4, created one by one)
    take the gather-and-scatter path, in a stack padded to 8."""
    arrays, report = four_devices
    for name in ("actions", "states", "steps"):
        np.testing.assert_array_equal(
            arrays[f"facade{n}/one/{name}"], arrays[f"facade{n}/four/{name}"], err_msg=name
        )
    assert arrays[f"facade{n}/one/actions"].shape == (50, n)
    assert set(np.unique(arrays[f"facade{n}/one/actions"])) == set(
        range(5)
    )  # e = 0.3 explores every arm
    np.testing.assert_array_equal(arrays[f"facade{n}/one/steps"], [50] * (n - 1) + [51])
    assert report[f"facade{n}/four/capacity"] == 8


def test_the_facade_step_of_every_instance_stays_on_each_device(four_devices):
    """The compiled all-instances step on 4 devices: no collective, new rows and actions split 2 per device."""
    assert four_devices[1]["facade"] == {
        "collectives": [],
        "out_specs": ["P('instances',)"],
        "out_devices": [4],
        "shard_rows": [2],
    }
    assert four_devices[1]["refused"]  # a refused step, decided on the host, changes nothing


def test_a_facade_saved_on_four_devices_loads_on_one_and_on_four(four_devices):
    arrays, report = four_devices
    for name in ("actions", "states", "steps"):
        np.testing.assert_array_equal(
            arrays[f"resumed/one/{name}"], arrays[f"resumed/four/{name}"], err_msg=name
        )
    np.testing.assert_array_equal(
        arrays["resumed/four/steps"], [50] * 7 + [51]
    )  # 21 steps saved, then 30 more
    assert report["resumed/four/specs"] == ["P('instances',)"]


def test_the_facade_refuses_a_mesh_without_an_instance_axis():
    mesh = jax.sharding.Mesh(np.asarray(jax.devices()), ("x",))
    with pytest.raises(AgentaxError, match="a jax.sharding.Mesh with an axis named 'instances'"):
        RLib(agent_type=EGreedy, agent_params={"n_arms": 3, "e": 0.1}, no_ext_mode=True, mesh=mesh)
    with pytest.raises(AgentaxError, match="True or None, got 4"):
        RLib(agent_type=EGreedy, agent_params={"n_arms": 3, "e": 0.1}, no_ext_mode=True, mesh=4)


def test_a_facade_on_a_one_device_mesh_steps_as_without_one(tmp_path):
    """``mesh=True`` here (one device): every path gives the unplaced facade's actions, and a checkpoint resumes."""
    rewards = np.random.default_rng(0).random((12, 4)).astype(np.float32)
    placed, plain = (
        RLib(agent_type=EGreedy, agent_params={"n_arms": 3, "e": 0.5}, no_ext_mode=True, mesh=mesh)
        for mesh in (True, None)
    )
    for rl in (placed, plain):
        rl.init(seed=[5, 6, 7, 8])
    for agent_id, r in zip([range(4), 2, [3, 1]] * 4, rewards, strict=True):
        r = r[list(agent_id)] if isinstance(agent_id, (range, list)) else r[0]
        np.testing.assert_array_equal(
            placed.sample(reward=r, agent_id=agent_id), plain.sample(reward=r, agent_id=agent_id)
        )
    resumed = RLib.load(placed.save(tmp_path / "c"), mesh=True)
    np.testing.assert_array_equal(
        resumed.sample(reward=rewards[0], agent_id=range(4)),
        plain.sample(reward=rewards[0], agent_id=range(4)),
    )


def test_two_processes_give_the_one_process_result(tmp_path):
    """Two JAX processes (coordinator on 127.0.0.1), each with half of the 16 instances."""
    times = launch_local(
        2, tmp_path / "two.npz", ["--instances", "16", "--steps", "100", "--seed", "5"], timeout=600
    )
    assert len(times) == 2
    two = np.load(tmp_path / "two.npz")
    one = bandit_study(16, 100, 5, population_mesh())
    np.testing.assert_array_equal(two["actions"], one["actions"])
    np.testing.assert_array_equal(two["rewards"], one["rewards"])
    assert set(np.unique(one["actions"])) == {0, 1, 2}


def test_a_failing_process_is_reported_with_its_error(tmp_path):
    with pytest.raises(AgentaxError, match="15 instances cannot be split evenly over 2 devices"):
        launch_local(2, tmp_path / "x.npz", ["--instances", "15"], timeout=600)
    assert not (tmp_path / "x.npz").exists()


def test_a_process_over_its_time_is_killed(tmp_path):
    with pytest.raises(AgentaxError, match="did not finish within 0.01 s"):
        launch_local(1, tmp_path / "x.npz", timeout=0.01)


def test_population_leaves_must_agree_on_the_instance_count():
    mesh = population_mesh()
    with pytest.raises(AgentaxError, match=r"same leading instance axis, got sizes \[3, 4\]"):
        put_population({"a": np.zeros(3), "b": np.zeros((4, 2))}, mesh)
    with pytest.raises(AgentaxError, match="at least one device"):
        population_mesh([])


def test_one_device_placement_keeps_values_and_keys():
    keys = jax.random.split(jax.random.key(0), 4)
    placed = put_population({"keys": keys, "x": np.arange(4.0)}, population_mesh())
    np.testing.assert_array_equal(jax.random.key_data(placed["keys"]), jax.random.key_data(keys))
    np.testing.assert_array_equal(placed["x"], np.arange(4.0))


@pytest.mark.slow
def test_scaling_benchmark_quick_run_reports_every_configuration():
    """``benchmarks/scaling.py --quick``: a positive rate for each configuration (no timing asserted)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "agentax_benchmarks_scaling", ROOT / "benchmarks" / "scaling.py"
    )
    scaling = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scaling)
    result = scaling.main(["--quick"])
    assert set(result["agent_steps_per_second"]) == {
        "1 device",
        "2 devices",
        "4 devices",
        "2 processes x 1 device",
    }
    assert all(rate > 0 for rate in result["agent_steps_per_second"].values())
    assert result["scaling_efficiency"]["1 device"] == 1.0
