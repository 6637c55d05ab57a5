"""``python -m agentax.bridge``: serve an agentax agent to other processes (e.g. ns-3) over ZeroMQ."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence

from agentax.agents.base import BaseAgent
from agentax.bridge.protocol import COMMANDS, PROTOCOL_VERSION
from agentax.bridge.server import Bridge, serve
from agentax.errors import AgentaxError
from agentax.extensions.base import BaseExt
from agentax.rlib import RLib

__all__ = ["build_parser", "main"]


def _named(kind: str, packages: Sequence[str], base: type, name: str) -> type:
    """The subclass of ``base`` exported as ``name`` by one of ``packages``."""
    exported = {
        member: getattr(module, member)
        for module in map(importlib.import_module, packages)
        for member in module.__all__
    }
    classes = {
        n: c
        for n, c in exported.items()
        if inspect.isclass(c) and issubclass(c, base) and c is not base
    }
    if name not in classes:
        raise AgentaxError(f"unknown {kind} {name!r}; expected one of {sorted(classes)}")
    return classes[name]


AGENT_PACKAGES = ("agentax.agents.mab", "agentax.agents.contextual", "agentax.agents.deep")
EXTENSION_PACKAGES = ("agentax.extensions",)


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m agentax.bridge``."""
    commands = "\n".join(f"  {name:8s}{fields}" for name, fields in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="python -m agentax.bridge",
        description="Serve an agentax agent over ZeroMQ: clients (e.g. the ns-3 AgentaxWifiManager) create "
        "instances and ask for actions, sending msgpack maps {version, command, ...}.",
        epilog=f"protocol version {PROTOCOL_VERSION}, commands (request fields -> reply fields):\n{commands}\n\n"
        "example: python -m agentax.bridge --agent ThompsonSampling --agent-params '{\"decay\": 1.0}' "
        "--ext IEEE_802_11_ax_RA --endpoint ipc:///tmp/agentax-bridge",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--agent",
        help="an agent class of agentax.agents (e.g. ThompsonSampling); required unless --resume",
    )
    parser.add_argument(
        "--agent-params", type=json.loads, default={}, help="its parameters, a JSON object"
    )
    parser.add_argument(
        "--ext",
        default=None,
        help="an extension class of agentax.extensions (none: observations "
        "are the agent's own, by name)",
    )
    parser.add_argument(
        "--ext-params", type=json.loads, default={}, help="its parameters, a JSON object"
    )
    parser.add_argument(
        "--endpoint",
        default="tcp://127.0.0.1:5555",
        help="ZeroMQ endpoint to bind: tcp://HOST:PORT (PORT * picks a free one) or ipc://PATH "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--checkpoint-dir",
        default=None,
        metavar="DIR",
        help="the directory the save and load commands may name files in (none: they are refused)",
    )
    parser.add_argument(
        "--checkpoint",
        default=None,
        metavar="PATH",
        help="on SIGTERM or SIGINT, save the open instances to PATH before exiting",
    )
    parser.add_argument(
        "--resume",
        default=None,
        metavar="PATH",
        help="start from the checkpoint PATH (agent, extension and instances), not from --agent",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; prints ``serving <endpoint>`` once requests are accepted."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.agent is None) == (args.resume is None):
        parser.error(
            "give either --agent (a new agent) or --resume PATH (a saved one), not both or neither"
        )
    try:
        bridge = _bridge(args)
    except (AgentaxError, ValueError) as error:
        parser.error(str(error))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    serve(
        bridge,
        args.endpoint,
        stop=stop,
        ready=lambda endpoint: print(f"serving {endpoint}", flush=True),
    )
    if args.checkpoint is not None:
        try:
            path, ids = bridge.save(args.checkpoint)
        except (AgentaxError, OSError) as error:
            print(f"not saved: {error}", file=sys.stderr, flush=True)
            return 1
        print(f"saved {len(ids)} instances to {path}", flush=True)
    print("stopped", flush=True)
    return 0


def _bridge(args: argparse.Namespace) -> Bridge:
    """The bridge the command line asks for: loaded from ``--resume``, or a new ``--agent``."""
    if args.checkpoint_dir is not None and not os.path.isdir(args.checkpoint_dir):
        raise AgentaxError(
            f"--checkpoint-dir {args.checkpoint_dir!r} is not a directory; expected an existing one"
        )
    if args.resume is not None:
        return Bridge.from_checkpoint(args.resume, checkpoint_dir=args.checkpoint_dir)
    agent = _named("agent", AGENT_PACKAGES, BaseAgent, args.agent)
    ext = _named("extension", EXTENSION_PACKAGES, BaseExt, args.ext) if args.ext else None
    rlib = RLib(
        agent_type=agent,
        agent_params=args.agent_params,
        ext_type=ext,
        ext_params=args.ext_params,
        no_ext_mode=ext is None,
    )
    return Bridge(rlib, checkpoint_dir=args.checkpoint_dir)


if __name__ == "__main__":
    sys.exit(main())
