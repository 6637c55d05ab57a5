"""Checkpoint files: arrays and JSON metadata, written atomically, read without running any code.

A checkpoint is a ZIP archive of uncompressed ``.npy`` members (a NumPy ``.npz``, readable with
``np.load(path, allow_pickle=False)``) whose first member, ``agentax-checkpoint.json``, is a JSON
header: the format version, the name, dtype and shape of every array member, and the caller's
metadata. The archive comment, the last bytes of the file, reads
``agentax-checkpoint <version> sha256 <digest>``, where the digest is the SHA-256 of every byte
before it, so a changed, missing or added byte anywhere is detected.

Reading never unpickles or imports anything: the header is parsed by :func:`json.loads`, each
``.npy`` member's header is checked against the JSON header (numeric or boolean dtype, never
``object``; the recorded shape) before its bytes are viewed with :func:`numpy.frombuffer`, and
classes are looked up by name in an allow-list (:func:`register`, :func:`resolve_class`).

Writing goes to a temporary file in the target's directory, which is flushed and synced, renamed
over the target with :func:`os.replace` (atomic on POSIX and Windows), and the directory is
synced; a writer killed at any moment leaves either the old file or the new one, never a mix.
"""

from __future__ import annotations

import datetime
import hashlib
import inspect
import io
import json
import math
import os
import re
import struct
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from agentax._files import atomic_file
from agentax.errors import (
    AgentTypeError,
    CheckpointNotFoundError,
    CheckpointParameterError,
    CheckpointTypeError,
    CheckpointVersionError,
    CorruptCheckpointError,
    ExtensionTypeError,
    NotACheckpointError,
)

__all__ = [
    "FORMAT_VERSION",
    "SUFFIX",
    "write",
    "read",
    "default_path",
    "register",
    "class_path",
    "resolve_class",
    "encode_params",
    "decode_params",
    "check_facade_metadata",
]

#: The version of the file format this agentax writes and reads.
FORMAT_VERSION = 1
#: The file name suffix of checkpoints (added by :meth:`agentax.RLib.save` when missing).
SUFFIX = ".npz"

_HEADER = "agentax-checkpoint.json"
_MAGIC = b"PK\x03\x04"
_TRAILER = re.compile(rb"agentax-checkpoint (\d{1,9}) sha256 ([0-9a-f]{64})\Z")
_DIGEST_SIZE = 64
_ARRAY_KINDS = "biuf"  # bool, signed and unsigned integers, floats
_CHUNK = 1 << 20
# What the zipfile module raises for a malformed archive, besides BadZipFile.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    ValueError,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    struct.error,
)
_REGISTERED: dict[str, type] = {}


# -- the file ------------------------------------------------------------------------------


def write(
    path: str | os.PathLike, metadata: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> None:
    """Write ``metadata`` (JSON data) and ``arrays`` (numeric NumPy arrays) to ``path`` atomically.

    Raises:
      TypeError: an array has a dtype other than bool, integer or float, or metadata is not JSON.
    """
    arrays = {name: np.ascontiguousarray(array) for name, array in arrays.items()}
    for name, array in arrays.items():
        if array.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(
                f"checkpoint array {name!r} has dtype {array.dtype}; expected bool, integer or float"
            )
    header = {
        "format": "agentax-checkpoint",
        "version": FORMAT_VERSION,
        "arrays": {
            name: {"dtype": array.dtype.str, "shape": list(array.shape)}
            for name, array in arrays.items()
        },
        "metadata": metadata,
    }
    header_bytes = json.dumps(header, allow_nan=False).encode()
    with atomic_file(path) as file:
        _write_archive(file, header_bytes, arrays)
        _sign(file)


def _write_archive(file, header_bytes: bytes, arrays: Mapping[str, np.ndarray]) -> None:
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(_HEADER, header_bytes)
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=array.nbytes > 1 << 30) as member:
                np.lib.format.write_array(member, array, version=(1, 0), allow_pickle=False)
        archive.comment = _trailer(FORMAT_VERSION, b"0" * _DIGEST_SIZE)


def _trailer(version: int, digest: bytes) -> bytes:
    return b"agentax-checkpoint %d sha256 %s" % (version, digest)


def _sign(file) -> None:
    """Replace the placeholder digest at the end of ``file`` by the SHA-256 of what precedes it."""
    size = file.seek(0, os.SEEK_END) - _DIGEST_SIZE
    file.seek(0)
    digest = hashlib.sha256()
    for offset in range(0, size, _CHUNK):
        digest.update(file.read(min(_CHUNK, size - offset)))
    file.seek(size)
    file.write(digest.hexdigest().encode())


def read(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a checkpoint written by :func:`write`, checking every byte and every array.

    Returns:
      The metadata and the arrays (read-only NumPy arrays), by name.

    Raises:
      CheckpointNotFoundError: ``path`` does not exist.
      NotACheckpointError: the file is not an agentax checkpoint.
      CheckpointVersionError: the file has another format version.
      CorruptCheckpointError: the file was truncated or changed, or holds anything but the
        numeric arrays its header lists.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    if not _starts_like_checkpoint(data):
        raise NotACheckpointError(
            path, f"it does not start with the member {_HEADER!r} of a ZIP archive"
        )
    found = _TRAILER.search(data[-200:])
    if found is None:
        raise CorruptCheckpointError(
            path, "its end is missing or changed (truncated, or not written to the end)"
        )
    version = int(found.group(1))
    if version != FORMAT_VERSION:
        raise CheckpointVersionError(path, version, FORMAT_VERSION)
    if hashlib.sha256(data[:-_DIGEST_SIZE]).hexdigest().encode() != found.group(2):
        raise CorruptCheckpointError(
            path, "its SHA-256 differs from the one recorded when it was written (bytes changed)"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as error:
        raise CorruptCheckpointError(path, f"its ZIP structure is broken ({error})") from error
    with archive:
        header = _read_header(path, archive)
        arrays = {
            name: _read_array(path, archive, name, spec) for name, spec in header["arrays"].items()
        }
    return header["metadata"], arrays


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError as error:
        raise CheckpointNotFoundError(path) from error
    except IsADirectoryError as error:
        raise NotACheckpointError(path, "it is a directory") from error


def _starts_like_checkpoint(data: bytes) -> bool:
    name_length = int.from_bytes(data[26:28], "little")
    return data[:4] == _MAGIC and data[30 : 30 + name_length] == _HEADER.encode()


def _read_header(path: str, archive: zipfile.ZipFile) -> dict[str, Any]:
    if any(
        info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1
        for info in archive.infolist()
    ):
        raise CorruptCheckpointError(
            path, "it has compressed or encrypted members; agentax writes plain ones"
        )
    try:
        header = json.loads(archive.read(_HEADER))
    except (*_ZIP_ERRORS, KeyError) as error:
        raise CorruptCheckpointError(path, f"its JSON header cannot be read ({error})") from error
    valid = (
        isinstance(header, dict)
        and header.get("format") == "agentax-checkpoint"
        and isinstance(header.get("metadata"), dict)
        and isinstance(header.get("arrays"), dict)
        and all(_valid_spec(spec) for spec in header["arrays"].values())
    )
    if not valid:
        raise CorruptCheckpointError(
            path, "its JSON header does not have the fields of an agentax checkpoint"
        )
    if header.get("version") != FORMAT_VERSION:
        raise CheckpointVersionError(path, header.get("version"), FORMAT_VERSION)
    expected = [_HEADER, *(f"{name}.npy" for name in header["arrays"])]
    if archive.namelist() != expected:
        raise CorruptCheckpointError(
            path, f"its members {archive.namelist()} differ from those its header lists"
        )
    return header


def _valid_spec(spec: object) -> bool:
    return (
        isinstance(spec, dict)
        and isinstance(spec.get("dtype"), str)
        and isinstance(spec.get("shape"), list)
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in spec["shape"])
    )


def _read_array(
    path: str, archive: zipfile.ZipFile, name: str, spec: Mapping[str, Any]
) -> np.ndarray:
    """One ``.npy`` member, after checking its own header against the JSON header."""
    member = f"{name}.npy"
    try:
        dtype = np.dtype(spec["dtype"])
        with archive.open(member) as file:
            version = np.lib.format.read_magic(file)
            if version != (1, 0):
                raise ValueError(f".npy format version {version}; agentax writes (1, 0)")
            shape, fortran_order, stored_dtype = np.lib.format.read_array_header_1_0(file)
            expected = (tuple(spec["shape"]), False, dtype)
            if dtype.kind not in _ARRAY_KINDS or (shape, fortran_order, stored_dtype) != expected:
                raise ValueError(
                    f"it holds dtype {stored_dtype} shape {shape} (Fortran order {fortran_order}); "
                    f"the header lists dtype {spec['dtype']} shape {tuple(spec['shape'])}, and only bool, "
                    f"integer and float arrays are allowed"
                )
            data = file.read(dtype.itemsize * math.prod(shape) + 1)
    except (*_ZIP_ERRORS, TypeError) as error:
        raise CorruptCheckpointError(
            path, f"member {member!r} is not a plain array ({error})"
        ) from error
    if len(data) != dtype.itemsize * math.prod(shape):
        raise CorruptCheckpointError(
            path, f"member {member!r} has {len(data)} bytes of data, not the header's size"
        )
    return np.frombuffer(data, dtype).reshape(shape)


def default_path(directory: str | None = None, name: str | None = None) -> str:
    """``directory/name.npz``; by default the home directory and ``agentax-checkpoint-<date>-<time>``."""
    if name is None:
        name = f"agentax-checkpoint-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}"
    return os.path.join(os.path.expanduser(directory or "~"), name + SUFFIX)


# -- classes: named by import path, found only in an allow-list -------------------------------


def class_path(cls: type) -> str:
    """The name a checkpoint records for a class: ``module:qualified.name``."""
    return f"{cls.__module__}:{cls.__qualname__}"


def register(cls: type) -> type:
    """Allow checkpoints to name ``cls``, a user's agent or extension class (usable as a decorator).

    Raises:
      AgentTypeError: ``cls`` is neither a :class:`~agentax.agents.BaseAgent` nor a
        :class:`~agentax.extensions.BaseExt` subclass.
    """
    from agentax.agents.base import BaseAgent
    from agentax.extensions.base import BaseExt

    if not (inspect.isclass(cls) and issubclass(cls, (BaseAgent, BaseExt))):
        raise AgentTypeError(cls)
    _REGISTERED[class_path(cls)] = cls
    return cls


def _own_classes() -> dict[str, type]:
    """agentax's own agents and extensions: the classes its packages export."""
    import agentax.agents.contextual
    import agentax.agents.deep
    import agentax.agents.mab
    import agentax.extensions
    from agentax.agents.base import BaseAgent
    from agentax.extensions.base import BaseExt

    found = {}
    for package in (
        agentax.agents.mab,
        agentax.agents.contextual,
        agentax.agents.deep,
        agentax.extensions,
    ):
        for name in package.__all__:
            cls = getattr(package, name)
            if (
                inspect.isclass(cls)
                and issubclass(cls, (BaseAgent, BaseExt))
                and not inspect.isabstract(cls)
            ):
                found[class_path(cls)] = cls
    return found


def resolve_class(name: str, base: type, given: type | None = None) -> type:
    """The class a checkpoint names: ``given`` if the caller passes one, else from the allow-list.

    Raises:
      CheckpointTypeError: ``name`` is not on the allow-list (agentax's own classes and those
        passed to :func:`register`) or not a subclass of ``base``.
      AgentTypeError, ExtensionTypeError: ``given`` is not a subclass of ``base``.
    """
    kind, argument = (
        ("agent", "agent_type") if base.__name__ == "BaseAgent" else ("extension", "ext_type")
    )
    if given is not None:
        if not (inspect.isclass(given) and issubclass(given, base)):
            raise AgentTypeError(given) if kind == "agent" else ExtensionTypeError(given)
        return given
    cls = {**_own_classes(), **_REGISTERED}.get(name)
    if cls is None or not issubclass(cls, base):
        raise CheckpointTypeError(kind, name, argument)
    return cls


# -- parameters as data ----------------------------------------------------------------------


class _NotData(Exception):
    """A value that only code could rebuild (a module, an optimizer, a function)."""


def encode_params(
    params: Mapping[str, Any], prefix: str
) -> tuple[dict, dict[str, np.ndarray], dict[str, str]]:
    """Split constructor parameters into JSON data, arrays and the names of objects.

    Numbers, strings, booleans, ``None``, lists, tuples, dicts with string keys and NumPy/JAX
    arrays are data. Anything else (a flax module, an optax optimizer, a function, an agent
    object) is an object: only its name and type are recorded.

    Returns:
      ``(stored, arrays, objects)``: JSON for the data parameters, the array members they refer
      to (named under ``prefix``), and ``{name: type name}`` of the object parameters.
    """
    stored, arrays, objects = {}, {}, {}
    for name, value in params.items():
        found: dict[str, np.ndarray] = {}
        try:
            stored[name] = _encode(value, f"{prefix}/{name}", found)
        except _NotData:
            objects[name] = f"{type(value).__module__}.{type(value).__qualname__}"
        else:
            arrays.update(found)
    return stored, arrays, objects


def _encode(value: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if type(value) is list:
        return [_encode(item, f"{prefix}/{i}", arrays) for i, item in enumerate(value)]
    if type(value) is tuple:
        return {"$tuple": [_encode(item, f"{prefix}/{i}", arrays) for i, item in enumerate(value)]}
    if type(value) is dict and all(isinstance(key, str) for key in value):
        return {
            "$dict": {
                key: _encode(item, f"{prefix}/{i}", arrays)
                for i, (key, item) in enumerate(value.items())
            }
        }
    if isinstance(value, np.generic) or hasattr(value, "__array__") and hasattr(value, "dtype"):
        array = np.asarray(value)
        if array.dtype.kind not in _ARRAY_KINDS:
            raise _NotData
        arrays[prefix] = array
        return {"$array": prefix, "scalar": isinstance(value, np.generic)}
    raise _NotData


def decode_params(
    path: str,
    owner: str,
    argument: str,
    stored: Mapping[str, Any],
    objects: Mapping[str, str],
    arrays: Mapping[str, np.ndarray],
    given: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The stored parameters with ``given`` merged over them.

    Raises:
      CheckpointParameterError: an object parameter (see :func:`encode_params`) is not in ``given``.
      CorruptCheckpointError: the stored parameters are not in the form :func:`encode_params` writes.
    """
    given = dict(given or {})
    missing = {name: kind for name, kind in objects.items() if name not in given}
    if missing:
        raise CheckpointParameterError(owner, argument, missing)
    try:
        decoded = {name: _decode(value, arrays) for name, value in stored.items()}
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CorruptCheckpointError(
            path, f"its stored {argument} are malformed ({error!r})"
        ) from error
    return {**decoded, **given}


def _decode(value: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(value, list):
        return [_decode(item, arrays) for item in value]
    if not isinstance(value, dict):
        return value
    if "$tuple" in value:
        return tuple(_decode(item, arrays) for item in value["$tuple"])
    if "$dict" in value:
        return {key: _decode(item, arrays) for key, item in value["$dict"].items()}
    if "$float" in value:
        return float(value["$float"])
    array = np.array(arrays[value["$array"]])
    return array[()] if value["scalar"] else array


def check_facade_metadata(path: str, metadata: Mapping[str, Any]) -> None:
    """Check that ``metadata`` has the fields :meth:`agentax.RLib.save` writes, with their types.

    Raises:
      CorruptCheckpointError: a field is missing or has the wrong type.
    """

    def part(value: object) -> bool:
        return (
            isinstance(value, dict)
            and isinstance(value.get("type"), str)
            and isinstance(value.get("params"), dict)
            and isinstance(value.get("objects"), dict)
            and all(isinstance(kind, str) for kind in value["objects"].values())
        )

    def count(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    valid = (
        part(metadata.get("agent"))
        and (metadata.get("ext") is None or part(metadata["ext"]))
        and isinstance(metadata.get("no_ext_mode"), bool)
        and count(metadata.get("n_leaves"))
        and (metadata.get("auto_checkpoint") is None or count(metadata["auto_checkpoint"]))
        and (
            metadata.get("auto_checkpoint_path") is None
            or isinstance(metadata["auto_checkpoint_path"], str)
        )
    )
    if not valid:
        raise CorruptCheckpointError(path, "its metadata does not have the fields RLib.save writes")
