"""Populations of agents sharded along the instance axis, on several devices and hosts.

A study of many independent instances (seeds, stations, hyperparameter settings) is one vmapped
function ``f(*per_instance) -> outputs`` whose arguments and results all carry a leading instance
axis. :func:`shard_population` compiles it with that axis split over a one-dimensional
:class:`~jax.sharding.Mesh` (:func:`population_mesh`): every argument and result is placed by the
same :class:`~jax.sharding.NamedSharding` ``P("instances")``, so each device runs its
:math:`N / D` instances and, since the instances never meet, XLA's partitioner inserts no
communication at all (:func:`collectives` reads that off the compiled program). The results are
the same on one device and on many: every instance sees the same key and data wherever it runs.

Across hosts the mesh spans every process's devices after :func:`jax.distributed.initialize`;
each process computes only its own shards, and :func:`to_host` gathers the results once, after
the study. :func:`launch_local` starts such processes on this machine (coordinator on
127.0.0.1), and ``python -m agentax.sharding`` is the worker they run.

Reference:
  JAX documentation, *Distributed arrays and automatic parallelization* and *Multi-process
  environments* (``jax.sharding``, ``jax.distributed``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from agentax._files import atomic_file
from agentax.errors import AgentaxError

__all__ = [
    "INSTANCE_AXIS",
    "bandit_population",
    "bandit_study",
    "collectives",
    "launch_local",
    "main",
    "population_mesh",
    "population_sharding",
    "put_population",
    "shard_population",
    "to_host",
]

INSTANCE_AXIS = "instances"
_COLLECTIVES = re.compile(
    r"\b(all-gather|all-reduce|all-to-all|collective-permute|reduce-scatter|collective-broadcast)\b"
)


def population_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A one-dimensional mesh named :data:`INSTANCE_AXIS` over ``devices`` (default: every
    device of every process, :func:`jax.devices`), with automatic sharding propagation."""
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise AgentaxError("population_mesh needs at least one device, got an empty list")
    return Mesh(np.asarray(devices), (INSTANCE_AXIS,), axis_types=(AxisType.Auto,))


def population_sharding(mesh: Mesh) -> NamedSharding:
    """The placement of a population: leading (instance) axis split over the mesh, the rest whole."""
    return NamedSharding(mesh, PartitionSpec(INSTANCE_AXIS))


def _check_divisible(tree: Any, mesh: Mesh) -> None:
    sizes = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in jax.tree.leaves(tree)}
    if None in sizes or len(sizes) > 1:
        raise AgentaxError(
            f"every per-instance leaf needs the same leading instance axis, got sizes {sorted(sizes, key=str)}"
        )
    (size,) = sizes or {0}
    if size % mesh.size:
        raise AgentaxError(
            f"a population of {size} instances cannot be split evenly over {mesh.size} devices; "
            f"use a multiple of {mesh.size} instances"
        )


def put_population(tree: Any, mesh: Mesh) -> Any:
    """Place every leaf of ``tree`` (same leading instance axis) by :func:`population_sharding`.

    With several processes, every process passes the same whole value (for instance keys split
    from one seed) and keeps only its own shards.

    Raises:
      ~agentax.errors.AgentaxError: the leaves disagree on the instance count, or it is not a multiple of the
        number of devices.
    """
    _check_divisible(tree, mesh)
    return jax.tree.map(partial(_put, sharding=population_sharding(mesh)), tree)


def _put(leaf: Any, sharding: NamedSharding) -> jax.Array:
    """One whole value as a global array of which this process builds only its own shards."""
    if jax.dtypes.issubdtype(getattr(leaf, "dtype", None), jax.dtypes.prng_key):
        return jax.random.wrap_key_data(
            _put(jax.random.key_data(leaf), sharding), impl=jax.random.key_impl(leaf)
        )
    host = np.asarray(leaf)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def shard_population(fn: Callable[..., Any], mesh: Mesh) -> Callable[..., Any]:
    """``fn`` (one instance) vmapped and jitted with every argument and result sharded along the
    instance axis; call it with arrays placed by :func:`put_population`."""
    sharding = population_sharding(mesh)
    return jax.jit(jax.vmap(fn), in_shardings=sharding, out_shardings=sharding)


def collectives(compiled: jax.stages.Compiled) -> set[str]:
    """The cross-device operations (``all-gather``, ``all-reduce``, ...) of a compiled program;
    empty for a population whose instances never communicate."""
    return set(_COLLECTIVES.findall(compiled.as_text()))


def to_host(tree: Any) -> Any:
    """A sharded result as whole NumPy arrays, in every process (one gather, after the study)."""
    if jax.process_count() == 1:
        return jax.tree.map(np.asarray, jax.device_get(tree))
    return jax.tree.map(np.asarray, multihost_utils.process_allgather(tree, tiled=True))


def bandit_population(n_steps: int, mesh: Mesh) -> Callable[[jax.Array], Any]:
    """The reference population, sharded over ``mesh``: :class:`~agentax.agents.mab.EGreedy`
    (:math:`\\epsilon = 0.1`) on a stationary 3-armed Bernoulli bandit for ``n_steps``, one run per
    key; call it with keys placed by :func:`put_population`."""
    from agentax.agents.mab import EGreedy
    from agentax.envs import BanditProblem
    from agentax.simulate import simulate

    agent, problem = EGreedy(3, 0.1), BanditProblem.stationary([0.2, 0.5, 0.8])
    return shard_population(partial(simulate, agent, problem, n_steps), mesh)


def bandit_study(n_instances: int, n_steps: int, seed: int, mesh: Mesh) -> dict[str, np.ndarray]:
    """:func:`bandit_population` run on keys split from ``seed``; the actions and rewards of
    every instance, shape ``(n_instances, n_steps)``, on the host of every process."""
    keys = put_population(jax.random.split(jax.random.key(seed), n_instances), mesh)
    trajectory = bandit_population(n_steps, mesh)(keys)
    return to_host({"actions": trajectory.actions, "rewards": trajectory.rewards})


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_local(
    n_processes: int,
    out: Path,
    args: Sequence[str] = (),
    local_devices: int = 1,
    timeout: float = 300.0,
) -> list[float]:
    """Run ``python -m agentax.sharding`` as ``n_processes`` JAX processes on this machine.

    Each process has ``local_devices`` CPU devices; the coordinator listens on 127.0.0.1 at a free
    port; ``args`` go to :func:`main`; process 0 writes the study's result to ``out`` (``.npz``).
    Every process is killed when this returns or raises.

    Returns:
      each process's study time in seconds (compilation excluded), as the workers report it.

    Raises:
      ~agentax.errors.AgentaxError: a process failed or did not finish within ``timeout`` seconds.
    """
    address = f"127.0.0.1:{_free_port()}"
    root = str(Path(__file__).resolve().parent.parent)  # the workers import this agentax
    env = {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    command = [
        sys.executable,
        "-m",
        "agentax.sharding",
        "--coordinator",
        address,
        "--processes",
        str(n_processes),
        "--local-devices",
        str(local_devices),
    ]
    with contextlib.ExitStack() as stack:
        workers = []
        for rank in range(n_processes):
            worker = subprocess.Popen(
                [*command, "--rank", str(rank), "--out", str(out), *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            stack.callback(_kill, worker)
            workers.append(worker)
        reports = [_finish(worker, rank, timeout) for rank, worker in enumerate(workers)]
    return [float(report.split()[-1]) for report in reports]


def _kill(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.kill()
    worker.communicate()


def _finish(worker: subprocess.Popen, rank: int, timeout: float) -> str:
    try:
        stdout, stderr = worker.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AgentaxError(f"JAX process {rank} did not finish within {timeout} s") from None
    if worker.returncode != 0:
        raise AgentaxError(
            f"JAX process {rank} failed with exit code {worker.returncode}:\n{stderr[-2000:]}"
        )
    return stdout.strip()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m agentax.sharding", description="One process of a sharded bandit study."
    )
    parser.add_argument("--coordinator", required=True, help="host:port of process 0")
    parser.add_argument("--processes", type=int, required=True)
    parser.add_argument("--rank", type=int, required=True)
    parser.add_argument(
        "--out", type=Path, required=True, help="result file (.npz) written by process 0"
    )
    parser.add_argument("--local-devices", type=int, default=1, help="CPU devices of this process")
    parser.add_argument("--instances", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeats", type=int, default=0, help="timed runs after the first (compiling) one"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """One worker of :func:`launch_local`: join the other processes (if any), run
    :func:`bandit_study` over all their devices, write it (process 0), then time ``--repeats``
    more runs of the compiled study and print the best time in seconds as the last word."""
    args = _parser().parse_args(argv)
    jax.config.update("jax_num_cpu_devices", args.local_devices)
    if args.processes > 1:
        jax.config.update(
            "jax_cpu_collectives_implementation", "gloo"
        )  # CPU collectives across processes
        jax.distributed.initialize(
            args.coordinator, args.processes, args.rank, initialization_timeout=120
        )
    mesh = population_mesh()
    result = bandit_study(args.instances, args.steps, args.seed, mesh)
    if args.rank == 0:
        with atomic_file(args.out) as file:
            np.savez(file, **result)
    program = bandit_population(args.steps, mesh)
    keys = put_population(jax.random.split(jax.random.key(args.seed), args.instances), mesh)
    jax.block_until_ready(program(keys))
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        jax.block_until_ready(program(keys))
        times.append(time.perf_counter() - start)
    print(
        f"process {args.rank} of {args.processes} on {len(jax.devices())} devices: "
        f"best study time (s) {min(times, default=float('nan'))}"
    )
    if args.processes > 1:
        jax.distributed.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
