"""Native export of an agent: its pure functions as StableHLO and as IREE modules, with a JSON manifest.

:func:`export` writes, into one directory, each exported function twice:

* ``<name>.stablehlo``: the function serialized by :func:`jax.export.export` (versioned StableHLO
  with its calling convention), which any later JAX deserializes with
  :func:`jax.export.deserialize` and calls without agentax;
* ``<name>.vmfb``: the same StableHLO compiled by IREE for the ``llvm-cpu`` backend, a module that
  IREE's runtime (its C API, its Python API or the ``iree-run-module`` tool) runs without Python;

and ``manifest.json``, which lists each function's arguments and results in order, with names,
shapes and dtypes, so that a C or C++ caller needs nothing else. Every argument and result is one
array: a state is passed as its leaves in :func:`jax.tree.flatten` order, a PRNG key as JAX's raw
``uint32[2]`` Threefry key.

The functions (``S...`` the state leaves, ``k`` a key, ``U...``/``O...`` the observations of
``update``/``sample`` in the order of the agent's observation spaces):

* ``split(k) -> (k, k)``: :func:`jax.random.split` into two keys (a new key to keep, one to use);
* ``init(k) -> S...``; ``update(S..., k, U...) -> S...``; ``sample(S..., k, O...) -> action``;
* or, with a trained ``state`` given, only ``sample(k, O...) -> action`` with the state as constants
  (``greedy=True``: the agent's ``sample_greedy``);
* with an :class:`Instance` given, its arrays as ``.npy`` files beside the functions, and
  ``step_keys(k, count) -> (k, k)``, the keys the facade uses at a step.

Loading (:func:`load`) reads the manifest as JSON and the artifacts as StableHLO or IREE bytecode;
it never unpickles and never imports code named in the files.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from agentax import checkpoint
from agentax._files import atomic_file
from agentax._threefry import unrolled_threefry
from agentax.agents.base import BaseAgent
from agentax.errors import AgentaxError
from agentax.spaces import array_dtype, array_shape

__all__ = [
    "FORMATS",
    "IREE_FLAGS",
    "MANIFEST",
    "ExportedAgent",
    "Instance",
    "export",
    "iree_available",
    "load",
    "load_instance",
    "native_tool",
    "read_manifest",
]

#: The manifest's file name inside an export directory.
MANIFEST = "manifest.json"
#: Artifact formats and their file suffixes.
FORMATS = {"stablehlo": ".stablehlo", "iree": ".vmfb"}
#: Flags given to ``iree-compile`` besides the input type and the ``llvm-cpu`` backend. ``host``
#: compiles for this machine's CPU, as XLA does: with its fused multiply-adds, which change the last
#: bit of ``a * b + c``, so that the modules give JAX's numbers; ``generic`` runs on any x86-64 CPU.
IREE_FLAGS = ("--iree-llvmcpu-target-cpu=host",)
_FORMAT_VERSION = 1
_KEY = jax.ShapeDtypeStruct((2,), jnp.uint32)


def iree_available() -> bool:
    """Whether IREE's compiler and runtime (the ``agentax[export]`` extra) are installed."""
    try:
        import iree.compiler
        import iree.runtime  # noqa: F401
    except ImportError:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class Instance:
    """A trained instance to continue from, written beside the functions by :func:`export`.

    Attributes:
      state: the instance's state (a pytree of the agent's state).
      key: its PRNG key, JAX's raw ``uint32[2]``.
      step: how many steps it has taken.
      last_action: the action its last step returned (the next ``update``'s ``action``).
      step_keys: ``(key, count) -> (update_key, sample_key)``, the keys of step ``count`` (given
        as its ``uint32`` words ``(count mod 2**32, count // 2**32)``), exported as ``step_keys``;
        ``None``: the caller splits keys with ``split``.
    """

    state: Any
    key: Any
    step: int
    last_action: Any
    step_keys: Callable | None = None


def export(
    agent: BaseAgent,
    path: str | os.PathLike,
    *,
    state: Any = None,
    greedy: bool = False,
    instance: Instance | None = None,
    agent_params: Mapping[str, Any] | None = None,
    formats: Sequence[str] = ("stablehlo", "iree"),
    iree_flags: Sequence[str] = IREE_FLAGS,
) -> str:
    """Write ``agent``'s functions into the directory ``path`` (created if missing) with a manifest.

    Args:
      agent: the agent; its observation spaces must be :class:`gymnasium.spaces.Dict` of leaves.
      path: the export directory; files of an earlier export there are replaced.
      state: a trained state: only ``sample`` (and ``split``) are written, with this state baked in.
      greedy: with ``state``, export ``sample_greedy`` (the agent must define it) as ``sample``.
      instance: a trained instance, written as ``.npy`` files (:func:`load_instance`) beside
        ``init``, ``update`` and ``sample`` so that a caller continues it; not with ``state``.
      agent_params: the agent's constructor parameters, recorded in the manifest (numbers, strings
        and arrays as data; objects such as a flax module by type name only).
      formats: any of ``"stablehlo"`` and ``"iree"``.
      iree_flags: extra ``iree-compile`` flags.

    Returns:
      The directory written.

    Raises:
      agentax.errors.AgentaxError: an unknown format, IREE missing for ``"iree"``, ``greedy``
        without a state or without ``sample_greedy``, both ``state`` and ``instance``, or an
        agent whose spaces do not describe its observations.
    """
    formats = _check_formats(formats)
    if state is not None and instance is not None:
        raise AgentaxError(
            "give state= (baked into sample) or instance= (written beside), not both"
        )
    functions = _functions(agent, state, greedy)
    if instance is not None and instance.step_keys is not None:
        functions["step_keys"] = (
            lambda key, count: tuple(instance.step_keys(key, count)),
            [("key", _KEY), ("count", _KEY)],
            ["update_key", "sample_key"],
        )
    os.makedirs(path, exist_ok=True)
    entries = {
        name: _write_function(path, name, fn, args, results, formats, iree_flags)
        for name, (fn, args, results) in functions.items()
    }
    params = {name: _listed(value) for name, value in (agent_params or {}).items()}
    stored, _, objects = checkpoint.encode_params(params, "agent_params")
    manifest = {
        "format": "agentax-export",
        "format_version": _FORMAT_VERSION,
        "agent": checkpoint.class_path(type(agent)),
        "agent_params": stored,
        "agent_objects": objects,
        "state_baked": state is not None,
        "greedy": bool(greedy),
        "versions": _versions(formats),
        "iree": {"target_backends": ["llvm-cpu"], "flags": list(iree_flags)}
        if "iree" in formats
        else None,
        "functions": entries,
        "instance": None if instance is None else _write_instance(path, instance, entries),
    }
    with atomic_file(os.path.join(path, MANIFEST)) as file:
        file.write(json.dumps(manifest, indent=1).encode())
    return os.fspath(path)


def _listed(value: Any) -> Any:
    """An array parameter as nested lists, so that the manifest holds it as JSON."""
    return np.asarray(value).tolist() if isinstance(value, (np.ndarray, jax.Array)) else value


def _write_instance(path, instance: Instance, entries: dict) -> dict:
    """Write ``instance``'s arrays as ``instance.<name>.npy`` files; return the manifest entry."""
    names = [arg["name"] for arg in entries["init"]["results"]]
    leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(instance.state)]
    arrays = dict(zip(names, leaves, strict=True))
    arrays["key"] = np.asarray(instance.key, np.uint32)
    arrays["last_action"] = np.asarray(instance.last_action)
    listed = []
    for name, array in arrays.items():
        with atomic_file(os.path.join(path, _instance_file(name))) as file:
            np.save(file, array, allow_pickle=False)
        listed.append({**_spec(name, array), "file": _instance_file(name)})
    return {"step": int(instance.step), "arrays": listed}


def _instance_file(name: str) -> str:
    return f"instance.{name}.npy"


def load_instance(path: str | os.PathLike) -> dict[str, Any]:
    """The instance an export holds: ``{"step": int, "state": [leaves], "key", "last_action"}``.

    The arrays are read as ``.npy`` data only (never unpickled).

    Raises:
      agentax.errors.AgentaxError: the export holds no instance (exported without ``instance=``).
    """
    entry = read_manifest(path).get("instance")
    if not entry:
        raise AgentaxError(f"{path} holds no instance: export with instance=... (rl.export)")
    arrays = {}
    for spec in entry["arrays"]:
        if not re.fullmatch(r"[\w.]+", spec["name"]):
            raise AgentaxError(f"{path}: bad instance array name {spec['name']!r} in the manifest")
        arrays[spec["name"]] = np.load(
            os.path.join(path, _instance_file(spec["name"])), allow_pickle=False
        )
    state = [arrays[name] for name in arrays if name.startswith("state.")]
    return {
        "step": entry["step"],
        "state": state,
        "key": arrays["key"],
        "last_action": arrays["last_action"],
    }


def _check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    formats = tuple(formats)
    unknown = [name for name in formats if name not in FORMATS]
    if unknown or not formats:
        raise AgentaxError(
            f"formats must be a non-empty subset of {sorted(FORMATS)}, got {list(formats)}"
        )
    if "iree" in formats and not iree_available():
        raise AgentaxError(
            "the 'iree' format needs IREE's compiler and runtime: pip install 'agentax[export]'"
        )
    return formats


def _functions(
    agent: BaseAgent, state: Any, greedy: bool
) -> dict[str, tuple[Callable, list, list[str]]]:
    """``{name: (function of flat arrays, named argument specs, result names)}`` of what to export."""
    split = (lambda key: tuple(jax.random.split(key))), [("key", _KEY)], ["key", "subkey"]
    sample_obs = _observation_specs(agent.sample_observation_space, "sample")
    sample_names = [name for name, _ in sample_obs]
    if state is not None:
        sample, state = _sampler(agent, greedy), jax.tree.map(jnp.asarray, state)
        baked = lambda key, *obs: sample(state, key, **dict(zip(sample_names, obs, strict=True)))  # noqa: E731
        return {"split": split, "sample": (baked, [("key", _KEY), *sample_obs], ["action"])}
    if greedy:
        raise AgentaxError("greedy=True exports sample_greedy with a trained state: give state=...")
    leaves, state_def = _state_leaves(agent)
    state_specs = [
        (f"state.{name}", jax.ShapeDtypeStruct(leaf.shape, leaf.dtype)) for name, leaf in leaves
    ]
    state_names = [name for name, _ in state_specs]
    update_obs = _observation_specs(agent.update_observation_space, "update")
    update_names = [name for name, _ in update_obs]
    n = len(state_specs)

    def update(*args):
        state_now = jax.tree.unflatten(state_def, args[:n])
        return tuple(
            jax.tree.leaves(
                agent.update(
                    state_now, args[n], **dict(zip(update_names, args[n + 1 :], strict=True))
                )
            )
        )

    def sample(*args):
        state_now = jax.tree.unflatten(state_def, args[:n])
        return agent.sample(
            state_now, args[n], **dict(zip(sample_names, args[n + 1 :], strict=True))
        )

    return {
        "split": split,
        "init": (lambda key: tuple(jax.tree.leaves(agent.init(key))), [("key", _KEY)], state_names),
        "update": (update, [*state_specs, ("key", _KEY), *update_obs], state_names),
        "sample": (sample, [*state_specs, ("key", _KEY), *sample_obs], ["action"]),
    }


def _sampler(agent: BaseAgent, greedy: bool) -> Callable:
    if not greedy:
        return agent.sample
    if agent.sample_greedy is None:
        raise AgentaxError(f"{type(agent).__name__} has no sample_greedy: export with greedy=False")
    return agent.sample_greedy


def _state_leaves(agent: BaseAgent) -> tuple[list[tuple[str, Any]], Any]:
    """The state's leaves with their names (``alpha``, ``network.params.Dense_0.kernel``, ...) and its treedef."""
    shape = jax.eval_shape(agent.init, jax.random.PRNGKey(0))
    with_paths, state_def = jax.tree_util.tree_flatten_with_path(shape)
    return [
        (jax.tree_util.keystr(p, simple=True, separator="."), leaf) for p, leaf in with_paths
    ], state_def


def _observation_specs(
    space: gym.spaces.Space | None, method: str
) -> list[tuple[str, jax.ShapeDtypeStruct]]:
    if space is None:
        return []
    if not isinstance(space, gym.spaces.Dict):
        raise AgentaxError(
            f"{method}'s observation space must be a gymnasium Dict of named leaves, got {space}"
        )
    return [
        (name, jax.ShapeDtypeStruct(array_shape(sub), array_dtype(sub)))
        for name, sub in space.spaces.items()
    ]


def _write_function(
    path, name: str, fn: Callable, args: list, results: list[str], formats, iree_flags
) -> dict:
    """Export ``fn`` for ``args``, write its artifacts and return its manifest entry."""
    with unrolled_threefry():
        exported = jax.export.export(jax.jit(fn, keep_unused=True))(*(spec for _, spec in args))
    if len(results) != len(exported.out_avals):  # an action that is a tuple of arrays
        results = [f"{results[0]}.{i}" for i in range(len(exported.out_avals))]
    files = {}
    for kind in formats:
        files[kind] = name + FORMATS[kind]
        data = (
            exported.serialize()
            if kind == "stablehlo"
            else _iree_compile(exported, name, iree_flags)
        )
        with atomic_file(os.path.join(path, files[kind])) as file:
            file.write(bytes(data))
    return {
        "arguments": [_spec(arg, spec) for arg, spec in args],
        "results": [
            _spec(result, aval) for result, aval in zip(results, exported.out_avals, strict=True)
        ],
        "files": files,
        "iree_function": f"{name}.main",
    }


def _spec(name: str, aval: Any) -> dict:
    return {"name": name, "shape": list(aval.shape), "dtype": np.dtype(aval.dtype).name}


def _iree_compile(exported: jax.export.Exported, name: str, flags: Sequence[str]) -> bytes:
    """Compile the exported StableHLO with IREE for ``llvm-cpu``, as the module ``name`` (function ``name.main``)."""
    from iree import compiler

    text = re.sub(
        r"^module @[\w.$-]+", f"module @{name}", exported.mlir_module(), count=1, flags=re.M
    )
    try:
        return compiler.compile_str(
            text, target_backends=["llvm-cpu"], input_type="stablehlo", extra_args=list(flags)
        )
    except compiler.CompilerToolError as error:
        raise AgentaxError(f"IREE could not compile {name}: {str(error)[:2000]}") from error


def _versions(formats: Sequence[str]) -> dict[str, str]:
    packages = ["agentax", "jax", "jaxlib"] + (
        ["iree-base-compiler", "iree-base-runtime"] if "iree" in formats else []
    )
    return {package: metadata.version(package) for package in packages}


def native_tool(name: str) -> str:
    """Path of one of IREE's native command-line tools (``iree-run-module``, ``iree-benchmark-module``),
    not the Python launcher of the same name that pip puts on ``PATH``."""
    try:
        import iree._runtime_libs as libs
    except ImportError as error:
        raise AgentaxError(
            "IREE's runtime is not installed: pip install 'agentax[export]'"
        ) from error
    tool = os.path.join(os.path.dirname(libs.__file__), name)
    if not os.access(tool, os.X_OK):
        raise AgentaxError(f"IREE's runtime has no tool {name!r} (looked for {tool})")
    return tool


class ExportedAgent:
    """An export directory loaded for one runtime: ``functions[name](*arrays) -> tuple of NumPy arrays``.

    Attributes:
      manifest: the parsed ``manifest.json``.
      functions: the exported functions by name; each checks its arguments against the manifest.
      runtime: ``"jax"`` or ``"iree"``.
    """

    def __init__(self, manifest: dict, functions: dict[str, Callable], runtime: str) -> None:
        self.manifest, self.functions, self.runtime = manifest, functions, runtime

    def __getitem__(self, name: str) -> Callable:
        if name not in self.functions:
            raise AgentaxError(
                f"no exported function {name!r}; the export has {sorted(self.functions)}"
            )
        return self.functions[name]


def load(
    path: str | os.PathLike, runtime: str = "jax", *, driver: str = "local-sync"
) -> ExportedAgent:
    """Load an export directory for ``runtime``: ``"jax"`` (the StableHLO files) or ``"iree"`` (the modules).

    Only data is read: the manifest as JSON, the functions as serialized StableHLO or IREE
    bytecode, whose file names the loader derives itself (never from paths in the manifest).

    Args:
      path: the directory :func:`export` wrote.
      runtime: ``"jax"`` or ``"iree"``.
      driver: IREE's HAL driver (``"local-sync"``: on the calling thread; ``"local-task"``: a pool).

    Raises:
      agentax.errors.AgentaxError: not an export directory, a format it does not hold, an unknown runtime.
    """
    kind = {"jax": "stablehlo", "iree": "iree"}.get(runtime)
    if kind is None:
        raise AgentaxError(f"runtime must be 'jax' or 'iree', got {runtime!r}")
    manifest = read_manifest(path)
    loader = _jax_function if kind == "stablehlo" else _iree_loader(driver)
    functions = {}
    for name, entry in manifest["functions"].items():
        if kind not in entry["files"]:
            raise AgentaxError(
                f"{path} holds no {kind} artifact of {name!r}: export with formats including {kind!r}"
            )
        file_name = os.path.join(path, name + FORMATS[kind])
        with open(file_name, "rb") as file:
            data = file.read()
        try:
            functions[name] = _checked(name, entry, loader(name, data))
        except Exception as error:  # the runtimes raise their own types on bytes they cannot read
            what = "serialized jax.export function" if kind == "stablehlo" else "IREE module"
            raise AgentaxError(f"{file_name} is not a {what}: {error}") from error
    return ExportedAgent(manifest, functions, runtime)


def read_manifest(path: str | os.PathLike) -> dict:
    """The manifest of an export directory, checked to be one agentax wrote."""
    try:
        with open(os.path.join(path, MANIFEST), "rb") as file:
            manifest = json.loads(file.read())
    except (OSError, ValueError) as error:
        raise AgentaxError(
            f"{path} is not an agentax export directory (no readable {MANIFEST}): {error}"
        ) from error
    if not isinstance(manifest, dict) or manifest.get("format") != "agentax-export":
        raise AgentaxError(f"{os.path.join(path, MANIFEST)} is not an agentax export manifest")
    if manifest.get("format_version") != _FORMAT_VERSION:
        version = manifest.get("format_version")
        raise AgentaxError(
            f"export format version {version!r}; this agentax reads {_FORMAT_VERSION}"
        )
    for name in manifest["functions"]:
        if not re.fullmatch(r"[a-z_]+", name):
            raise AgentaxError(f"{path}: bad function name {name!r} in the manifest")
    return manifest


def _jax_function(name: str, data: bytes) -> Callable:
    call = jax.jit(
        jax.export.deserialize(bytearray(data)).call
    )  # jitted: traced once, not at every call
    return lambda *args: tuple(np.asarray(x) for x in jax.tree.leaves(call(*args)))


def _iree_loader(driver: str) -> Callable[[str, bytes], Callable]:
    try:
        from iree import runtime
    except ImportError as error:
        raise AgentaxError(
            "IREE's runtime is not installed: pip install 'agentax[export]'"
        ) from error
    context = runtime.SystemContext(config=runtime.Config(driver))

    def load_one(name: str, data: bytes) -> Callable:
        context.add_vm_module(runtime.VmModule.copy_buffer(context.instance, data))
        function = context.modules[name].main

        def call(*args):
            out = function(
                *args
            )  # a tuple, one array, or None for no result (a stateless agent's update)
            return tuple(
                np.asarray(x)
                for x in (out if isinstance(out, tuple) else () if out is None else (out,))
            )

        return call

    return load_one


def _checked(name: str, entry: dict, call: Callable) -> Callable:
    """``call`` after checking the number, shapes and dtypes of its arguments against the manifest."""
    specs = [
        (arg["name"], tuple(arg["shape"]), np.dtype(arg["dtype"])) for arg in entry["arguments"]
    ]

    def checked(*args):
        if len(args) != len(specs):
            names = ", ".join(spec[0] for spec in specs)
            raise AgentaxError(f"{name} takes {len(specs)} arguments ({names}), got {len(args)}")
        arrays = []
        for value, (arg, shape, dtype) in zip(args, specs, strict=True):
            array = np.asarray(value)
            if array.shape != shape or array.dtype != dtype:
                expected, got = (
                    f"{dtype.name}{list(shape)}",
                    f"{array.dtype.name}{list(array.shape)}",
                )
                raise AgentaxError(f"{name}: {arg} must be {expected}, got {got}")
            arrays.append(array)
        return call(*arrays)

    return checked
