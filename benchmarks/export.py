"""Per-call latency of an exported ``sample`` in IREE's runtime, next to JAX's jitted call.

For EGreedy (4 arms) and Thompson sampling (4 arms, exact Beta draws), ``sample`` is exported with
:func:`agentax.export.export` and called with its inputs prepared once:

* JAX: the agent's jitted ``sample`` on device arrays (``block_until_ready`` on the action), and
  the deserialized :mod:`jax.export` artifact's ``call``;
* IREE's Python API: drivers ``local-sync`` (on the calling thread) and ``local-task`` (a thread
  pool), inputs as NumPy arrays (copied in at every call) or as device arrays made once, the action
  read back to the host at every call;
* ``iree-benchmark-module``, the native tool (no Python), with both drivers;

each for modules compiled for this CPU (``--iree-llvmcpu-target-cpu=host``) and for a generic
x86-64 CPU. The figure is the median over repeats of the mean time per call, in microseconds. The
number of dispatches (kernels) per call, read from the module's disassembly, is reported too::

    python benchmarks/export.py            # the full run
    python benchmarks/export.py --quick    # few calls, one repeat: only checks it works
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentax import export as ex  # noqa: E402
from agentax.agents.mab import EGreedy, ThompsonSampling  # noqa: E402
from benchmarks._results import write_json  # noqa: E402

OUTPUT = ROOT / "benchmarks" / "results" / "export.json"
AGENTS = {"EGreedy": lambda: EGreedy(4, 0.1), "ThompsonSampling": lambda: ThompsonSampling(4)}
CPUS = {"host": "--iree-llvmcpu-target-cpu=host", "generic": "--iree-llvmcpu-target-cpu=generic"}
DRIVERS = ("local-sync", "local-task")


def _per_call(call: Callable[[], object], calls: int, repeats: int) -> float:
    """Median over ``repeats`` of the mean seconds per call, in microseconds."""
    for _ in range(min(calls, 100)):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times) * 1e6


def _sample_arguments(agent) -> list[np.ndarray]:
    """A state after a few updates, a key and the sample observations, as the manifest orders them."""
    state = agent.init(jax.random.PRNGKey(0))
    for arm in range(4):
        observations = {
            "action": arm,
            "reward": 0.5,
            "n_successful": 3,
            "n_failed": 1,
            "delta_time": 1.0,
        }
        names = agent.update_observation_space.spaces
        state = agent.update(state, jax.random.PRNGKey(arm), **{n: observations[n] for n in names})
    sample_obs = [
        np.linspace(1.0, 2.0, 4, dtype=np.float32) for _ in agent.sample_observation_space.spaces
    ]
    return (
        [np.asarray(x) for x in jax.tree.leaves(state)]
        + [np.asarray(jax.random.PRNGKey(1))]
        + sample_obs
    )


def _jax_figures(agent, arguments, path, calls, repeats) -> dict[str, float]:
    state_def = jax.tree.structure(agent.init(jax.random.PRNGKey(0)))
    n = state_def.num_leaves
    state = jax.tree.unflatten(state_def, [jax.device_put(x) for x in arguments[:n]])
    key, observations = (
        jax.device_put(arguments[n]),
        [jax.device_put(x) for x in arguments[n + 1 :]],
    )
    names = list(agent.sample_observation_space.spaces)
    exported = jax.export.deserialize(bytearray((path / "sample.stablehlo").read_bytes()))
    device_args = [jax.device_put(x) for x in arguments]
    call = jax.jit(exported.call)

    def jitted():
        return agent.sample(
            state, key, **dict(zip(names, observations, strict=True))
        ).block_until_ready()

    def deserialized():
        return call(*device_args).block_until_ready()

    return {
        "jax jit": _per_call(jitted, calls, repeats),
        "jax.export, jitted call": _per_call(deserialized, calls, repeats),
    }


def _iree_figures(path, arguments, calls, repeats) -> dict[str, float]:
    from iree import runtime

    figures = {}
    for driver in DRIVERS:
        config = runtime.Config(driver)
        context = runtime.SystemContext(config=config)
        context.add_vm_module(
            runtime.VmModule.copy_buffer(context.instance, (path / "sample.vmfb").read_bytes())
        )
        function = context.modules["sample"]["main"]
        device_args = [runtime.asdevicearray(config.device, x) for x in arguments]
        # _per_call runs each lambda before the loop moves on, so the loop variables it reads are current
        figures[f"iree python {driver}, numpy inputs"] = _per_call(
            lambda: function(*arguments).to_host(),  # noqa: B023
            calls,
            repeats,
        )
        figures[f"iree python {driver}, device inputs"] = _per_call(
            lambda: function(*device_args).to_host(),  # noqa: B023
            calls,
            repeats,
        )
    return figures


def _native_figures(path, arguments, calls, workdir) -> dict[str, float]:
    """``iree-benchmark-module``'s real and CPU time per call (google-benchmark's JSON report); the CPU
    time leaves out waits (for the thread pool, or for the processor on a loaded machine)."""
    inputs = []
    for i, argument in enumerate(arguments):
        np.save(workdir / f"in{i}.npy", argument, allow_pickle=False)
        inputs.append(f"--input=@{workdir / f'in{i}.npy'}")
    figures = {}
    for driver in DRIVERS:
        command = [
            ex.native_tool("iree-benchmark-module"),
            f"--module={path / 'sample.vmfb'}",
            f"--device={driver}",
            "--function=main",
            *inputs,
            "--benchmark_format=json",
            f"--benchmark_min_time={calls}x",
        ]
        report = json.loads(
            subprocess.run(command, check=True, capture_output=True, text=True, timeout=300).stdout
        )
        run = report["benchmarks"][0]
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[run["time_unit"]]
        figures[f"iree-benchmark-module {driver}"] = run["real_time"] * scale
        figures[f"iree-benchmark-module {driver}, CPU time"] = run["cpu_time"] * scale
    return figures


def _dispatches(path: Path) -> int:
    """How many kernels one call of ``sample`` launches (dispatch ops in the module's disassembly)."""
    listing = subprocess.run(
        [ex.native_tool("iree-dump-module"), str(path / "sample.vmfb")],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return len(re.findall(r"vm\.call\.variadic @hal\.command_buffer\.dispatch", listing))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="few calls, one repeat: only check that it works"
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    calls, repeats = (20, 1) if args.quick else (5000, 5)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in AGENTS.items():
            agent = make()
            arguments = _sample_arguments(agent)
            for cpu, flag in CPUS.items():
                path = Path(ex.export(agent, Path(tmp) / f"{name}-{cpu}", iree_flags=[flag]))
                figures = (
                    {} if cpu != "host" else _jax_figures(agent, arguments, path, calls, repeats)
                )
                figures.update(_iree_figures(path, arguments, calls, repeats))
                figures.update(_native_figures(path, arguments, calls, Path(tmp)))
                versions = ex.read_manifest(path)["versions"]
                results.append(
                    {
                        "agent": name,
                        "cpu": cpu,
                        "dispatches": _dispatches(path),
                        "microseconds": figures,
                    }
                )
                print(
                    f"\n{name}, IREE module for a {cpu} CPU ({results[-1]['dispatches']} dispatches per call)"
                )
                for what, figure in figures.items():
                    print(f"| {what:45s} {figure:8.1f} us")
    write_json(
        args.output,
        {
            "quick": args.quick,
            "calls": calls,
            "repeats": repeats,
            "machine": {
                "cpu": platform.processor() or platform.machine(),
                "python": platform.python_version(),
            },
            "versions": versions,
            "results": results,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
