"""Start ``python -m agentax.bridge`` in a subprocess, wait until it serves, and always stop it."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["running_bridge", "stop"]


@contextmanager
def running_bridge(
    agent: str | None,
    *,
    agent_params: dict[str, Any] | None = None,
    ext: str | None = None,
    ext_params: dict[str, Any] | None = None,
    endpoint: str = "tcp://127.0.0.1:*",
    start_timeout: float = 120.0,
    options: Sequence[str] = (),
) -> Iterator[subprocess.Popen]:
    """A bridge process serving ``agent``; its bound endpoint is ``process.endpoint``.

    ``options`` are more command-line arguments (e.g. ``["--resume", path]`` with ``agent=None``).

    On leaving the block the process gets SIGTERM, then SIGKILL if it has not exited 10 s later.

    Raises:
      RuntimeError: the bridge exited, or did not print ``serving ...`` within ``start_timeout`` s.
    """
    command = [
        sys.executable,
        "-m",
        "agentax.bridge",
        "--endpoint",
        endpoint,
        "--agent-params",
        json.dumps(agent_params or {}),
        "--ext-params",
        json.dumps(ext_params or {}),
        *options,
    ]
    if agent is not None:
        command += ["--agent", agent]
    if ext is not None:
        command += ["--ext", ext]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        process.endpoint = _wait_serving(process, start_timeout)
        yield process
    finally:
        stop(process)


def _wait_serving(process: subprocess.Popen, timeout: float) -> str:
    """The endpoint from the bridge's ``serving <endpoint>`` line."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=max(0.0, deadline - time.monotonic())):
                line = process.stdout.readline()
                if line.startswith("serving "):
                    return line.split(maxsplit=1)[1].strip()
                if not line:
                    raise RuntimeError(
                        f"the bridge exited with {process.wait()} before serving: {' '.join(process.args)}"
                    )
    raise RuntimeError(f"the bridge did not start serving within {timeout} s")


def stop(process: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM the bridge and wait; SIGKILL it after ``timeout`` s. Returns its exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode
