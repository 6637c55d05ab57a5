"""Benchmarks agentax against reinforced-lib on the same workloads, in one run, and prints ratios.

agentax is measured in this process; reinforced-lib in its own virtual environment (``make
bench-venv`` builds ``.venv-rlib``), through ``rlib_side.py`` which answers one request at a time.
The two are interleaved, each measurement is repeated, and the table shows medians::

    python benchmarks/run.py            # full run (a few minutes)
    python benchmarks/run.py --quick    # a short run that only checks everything works

Workloads (each for every bandit agent both libraries have):

* ``facade``: one instance, microseconds per ``rl.sample(reward=r)`` call, after compilation.
* ``batched``: ``K`` instances; one agentax call ``rl.sample(reward=rewards, agent_id=ids)``
  against ``K`` reinforced-lib calls ``rl.sample(reward=r, agent_id=i)``; microseconds per step
  of all ``K``.
* ``pure``: the agents' own ``init`` / ``update`` / ``sample``, ``K`` agents under ``vmap``
  inside a ``lax.scan``; nanoseconds per agent-step.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version
from pathlib import Path

from workloads import (
    AGENT_PARAMS,
    CLOCKS,
    UNITS,
    WORKLOADS,
    Bench,
    Library,
    Sizes,
    dispatch_synchronously,
)

ROOT = Path(__file__).resolve().parent.parent
RLIB_PYTHON = ROOT / ".venv-rlib" / "bin" / "python"
OUTPUT = ROOT / "benchmarks" / "results" / "latest.json"
TITLES = {
    "facade": "facade step, 1 instance",
    "batched": "K instances, one step",
    "pure": "pure vmap+scan",
}
TARGETS = {"facade": 5.0, "batched": 500.0, "pure": 2.0}
AGENT_TARGETS = {("pure", "ThompsonSampling"): 10.0}
FLOOR_TARGETS = {
    "facade": 1.5,
    "pure": 1.5,
}  # at most this multiple of the floor (none for batched)
QUICK = Sizes(calls=100, agents=20, batch_steps=1, scan_steps=20)
FULL = Sizes()


def target(workload: str, agent: str) -> float:
    """How many times faster than reinforced-lib agentax should be."""
    return AGENT_TARGETS.get((workload, agent), TARGETS[workload])


# -- the two sides ----------------------------------------------------------------------------


class AgentaxSide:
    """Measures agentax in this process."""

    name = "agentax"

    def __init__(self) -> None:
        from agentax import RLib
        from agentax.agents import mab
        from agentax.extensions import BasicMab

        agents = {name: getattr(mab, name) for name in AGENT_PARAMS if hasattr(mab, name)}
        self.bench = Bench(
            Library(rlib_type=RLib, ext_type=BasicMab, agents=agents, steps_many_at_once=True)
        )
        self.agents = sorted(agents)
        self.versions = {
            "agentax": version("agentax"),
            "jax": version("jax"),
            "jaxlib": version("jaxlib"),
            "python": platform.python_version(),
        }

    def measure(self, workload: str, agent: str, sizes: Sizes) -> float:
        return self.bench.measure(workload, agent, sizes)

    def close(self) -> None:
        pass


class FloorSide:
    """The floor under each agentax figure, measured in this process (see ``Bench.floor``)."""

    name = "floor"

    def __init__(self, agentax: AgentaxSide) -> None:
        self.bench, self.agents = agentax.bench, agentax.agents

    def measure(self, workload: str, agent: str, sizes: Sizes) -> float:
        return self.bench.floor(workload, agent, sizes)

    def close(self) -> None:
        pass


class RlibSide:
    """Measures reinforced-lib through ``rlib_side.py`` running under another interpreter."""

    name = "reinforced-lib"

    def __init__(self, python: Path, sync_dispatch: bool) -> None:
        self._log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (lives as long as the process)
        command = [str(python), str(Path(__file__).with_name("rlib_side.py"))]
        self._process = subprocess.Popen(
            command + (["--sync-dispatch"] if sync_dispatch else []),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        hello = self._receive()
        self.agents = hello.pop("agents")
        self.versions = hello

    def _receive(self) -> dict:
        line = self._process.stdout.readline()
        if not line:
            self._log.seek(0)
            raise RuntimeError(
                f"rlib_side.py stopped; its last output:\n{self._log.read()[-3000:]}"
            )
        return json.loads(line)

    def measure(self, workload: str, agent: str, sizes: Sizes) -> float:
        self._process.stdin.write(
            json.dumps({"workload": workload, "agent": agent, "sizes": asdict(sizes)}) + "\n"
        )
        self._process.stdin.flush()
        reply = self._receive()
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["value"]

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait(timeout=60)
        self._log.close()


# -- measuring --------------------------------------------------------------------------------


@dataclass
class Series:
    """The repeated measurements of one figure."""

    samples: list[float] = field(default_factory=list)
    error: str | None = None

    def add(self, measure: Callable[[], float]) -> str:
        """Measure once more; the figure as text, or the error that stopped it."""
        if self.error is not None:
            return "skipped"
        try:
            value = measure()
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"measured {value!r}, not a positive finite figure")
        except Exception as error:  # shown in the table; the other figures are still worth having
            self.error = f"{type(error).__name__}: {error}"
            return "error"
        self.samples.append(value)
        return f"{value:.4g}"

    def summary(self) -> dict | None:
        if not self.samples:
            return None
        median = statistics.median(self.samples)
        return {
            "median": median,
            "min": min(self.samples),
            "max": max(self.samples),
            "samples": self.samples,
        }


@dataclass
class Row:
    """One workload for one agent, measured by each side."""

    workload: str
    agent: str
    series: dict[str, Series]

    def result(self) -> dict:
        agentax, rlib = (self.series.get(name) for name in ("agentax", "reinforced-lib"))
        floor = self.series.get("floor")
        figures = {
            "agentax": agentax.summary(),
            "reinforced_lib": rlib.summary() if rlib else None,
            "floor": floor.summary() if floor else None,
        }
        ratio = over_floor = None
        if figures["agentax"] and figures["reinforced_lib"]:
            ratio = figures["reinforced_lib"]["median"] / figures["agentax"]["median"]
        if figures["agentax"] and figures["floor"]:
            over_floor = figures["agentax"]["median"] / figures["floor"]["median"]
        goal, floor_goal = target(self.workload, self.agent), FLOOR_TARGETS.get(self.workload)
        return {
            "workload": self.workload,
            "agent": self.agent,
            "unit": UNITS[self.workload],
            **figures,
            "ratio": ratio,
            "target": goal,
            "met": None if ratio is None else ratio >= goal,
            "over_floor": over_floor,
            "floor_target": floor_goal,
            "floor_met": None
            if over_floor is None or floor_goal is None
            else over_floor <= floor_goal,
            "errors": {name: s.error for name, s in self.series.items() if s.error},
        }


def measure_all(
    sides: Sequence, workloads: Sequence[str], agents: Sequence[str], sizes: Sizes, repeats: int
) -> list[Row]:
    """Every workload for every agent on every side, ``repeats`` times, the sides interleaved."""
    rows = [
        Row(w, a, {side.name: Series() for side in sides if a in side.agents})
        for w in workloads
        for a in agents
    ]
    for repeat in range(repeats):
        order = sides if repeat % 2 == 0 else sides[::-1]  # neither side always runs first
        for row in rows:
            texts = []
            for side in order:
                if side.name in row.series:
                    progress(
                        f"[{repeat + 1}/{repeats}] {row.workload} · {row.agent} · {side.name} ..."
                    )
                    text = row.series[side.name].add(
                        partial(side.measure, row.workload, row.agent, sizes)
                    )
                    texts.append(f"{side.name} {text}")
            progress(
                f"[{repeat + 1}/{repeats}] {row.workload} · {row.agent}: {' | '.join(texts)} {UNITS[row.workload]}\n"
            )
    return rows


def progress(message: str) -> None:
    end = "" if message.endswith("\n") else "\r"
    sys.stderr.write(
        f"\x1b[2K{message.rstrip()}{end}" if sys.stderr.isatty() else message.rstrip() + "\n"
    )
    sys.stderr.flush()


# -- reporting --------------------------------------------------------------------------------


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
    }


def figure(summary: dict | None) -> str:
    """``median ±half-range%``, or a dash."""
    if summary is None:
        return "-"
    median = summary["median"]
    spread = (summary["max"] - summary["min"]) / 2 / median * 100 if median else 0.0
    text = f"{median:,.0f}" if median >= 100 else f"{median:.3g}"
    return f"{text} ±{spread:.0f}%"


def table(results: Sequence[dict]) -> str:
    header = (
        "workload",
        "agent",
        "unit",
        "agentax",
        "reinforced-lib",
        "ratio",
        "target",
        "met?",
        "floor",
        "x floor",
        "target",
        "met?",
    )
    lines = [header]
    for r in results:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:,.1f}x"
        met = "-" if r["met"] is None else ("yes" if r["met"] else "NO")
        over = "-" if r["over_floor"] is None else f"{r['over_floor']:,.2f}x"
        floor_goal = "-" if r["floor_target"] is None else f"<= {r['floor_target']:g}x"
        floor_met = "-" if r["floor_met"] is None else ("yes" if r["floor_met"] else "NO")
        lines.append(
            (
                TITLES[r["workload"]],
                r["agent"],
                r["unit"],
                figure(r["agentax"]),
                figure(r["reinforced_lib"]),
                ratio,
                f">= {r['target']:g}x",
                met,
                figure(r["floor"]),
                over,
                floor_goal,
                floor_met,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    text.insert(1, "-+-".join("-" * w for w in widths))
    for r in results:
        for side, error in r["errors"].items():
            text.append(f"{r['workload']} {r['agent']} on {side}: {error}")
    return "\n".join(text)


# -- command line -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Measure agentax and reinforced-lib on the same bandit workloads (facade step of one "
            "instance; K instances in one step; K agents as pure functions under vmap + scan), "
            "interleaved and repeated, and print the medians and their ratios."
        ),
        epilog=(
            "reinforced-lib runs under --rlib-python (default: .venv-rlib/bin/python, built by "
            "`make bench-venv`); without it agentax is measured alone. Progress goes to stderr, "
            "the table to stdout, and the results to --output as JSON."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short run with tiny sizes and one repeat (checks that everything works; the figures mean little)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        metavar="N",
        help="measurements of each figure; the table shows their median (default 5, --quick 1)",
    )
    parser.add_argument(
        "--agents",
        type=int,
        metavar="K",
        help=f"K, instances stepped together and agents under vmap (default {FULL.agents})",
    )
    parser.add_argument(
        "--calls",
        type=int,
        metavar="N",
        help=f"timed facade calls of one instance (default {FULL.calls})",
    )
    parser.add_argument(
        "--steps",
        type=int,
        metavar="N",
        help=f"lax.scan steps in the pure-function workload (default {FULL.scan_steps})",
    )
    parser.add_argument(
        "--batch-steps",
        type=int,
        metavar="N",
        help=f"timed steps of all K instances (default {FULL.batch_steps})",
    )
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall: elapsed time (default); cpu: CPU time of all the process's threads, "
        "steadier when other jobs share the machine",
    )
    parser.add_argument(
        "--workloads",
        nargs="+",
        choices=WORKLOADS,
        default=list(WORKLOADS),
        help="which workloads to run (default: all)",
    )
    parser.add_argument(
        "--only-agents",
        nargs="+",
        choices=sorted(AGENT_PARAMS),
        help="which agents to run (default: every agent agentax has)",
    )
    parser.add_argument(
        "--rlib-python",
        type=Path,
        default=RLIB_PYTHON,
        metavar="PYTHON",
        help="python of reinforced-lib's virtual environment (default: %(default)s)",
    )
    parser.add_argument("--no-rlib", action="store_true", help="measure agentax alone")
    parser.add_argument(
        "--sync-dispatch",
        action="store_true",
        help="run every compiled CPU call on the calling thread, in both libraries "
        "(jax_cpu_enable_async_dispatch=False; JAX's default hands it to another thread)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=OUTPUT,
        metavar="JSON",
        help="where to write the JSON results (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    for name in ("repeats", "agents", "calls", "steps", "batch_steps"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    return args


def sizes_from(args: argparse.Namespace) -> Sizes:
    base = QUICK if args.quick else FULL
    given = {
        "calls": args.calls,
        "agents": args.agents,
        "batch_steps": args.batch_steps,
        "scan_steps": args.steps,
        "clock": args.clock,
    }
    return Sizes(**{**asdict(base), **{k: v for k, v in given.items() if v is not None}})


def open_sides(args: argparse.Namespace) -> list:
    sides = [AgentaxSide()]
    sides.append(FloorSide(sides[0]))
    if args.no_rlib:
        progress("measuring agentax alone (--no-rlib)\n")
    elif not args.rlib_python.exists():
        progress(
            f"no reinforced-lib environment at {args.rlib_python} (run `make bench-venv`): measuring agentax alone\n"
        )
    else:
        progress(f"starting reinforced-lib under {args.rlib_python} ...\n")
        sides.append(RlibSide(args.rlib_python, args.sync_dispatch))
    return sides


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = sizes_from(args)
    repeats = args.repeats or (1 if args.quick else 5)
    started = time.perf_counter()
    load_before = os.getloadavg()
    if args.sync_dispatch:
        dispatch_synchronously()
    sides = open_sides(args)
    try:
        wanted = args.only_agents or list(AGENT_PARAMS)
        agents = [a for a in wanted if a in sides[0].agents]
        missing = [a for a in wanted if a not in agents]
        if missing:
            progress(f"not in agentax.agents.mab yet, left out: {', '.join(missing)}\n")
        rows = measure_all(sides, args.workloads, agents, sizes, repeats)
    finally:
        for side in sides:
            side.close()
    results = [row.result() for row in rows]
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**machine(), "load_average_before": load_before},
        "versions": {side.name: side.versions for side in sides if side.name != "floor"},
        "settings": {
            "quick": args.quick,
            "repeats": repeats,
            "sync_dispatch": args.sync_dispatch,
            **asdict(sizes),
        },
        "left_out_agents": missing,
        "seconds": round(time.perf_counter() - started, 1),
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    print(table(results))
    print(
        f"medians of {repeats} repeat(s), {sizes.clock} clock, K = {sizes.agents}, "
        f"{'synchronous' if args.sync_dispatch else 'asynchronous (default)'} CPU dispatch; ± is half the range of the "
        f"repeats; ratio = reinforced-lib / agentax; floor = an empty compiled call with the facade step's "
        f"arguments (facade, batched) or a no-op agent in the same vmap+scan harness (pure); x floor = agentax / floor"
    )
    if not any(side.name == "reinforced-lib" for side in sides):
        print(
            "reinforced-lib was not measured: no ratios (run `make bench-venv` to build its environment)"
        )
    busy = max(load_before[0], report["machine"]["load_average"][0])
    if busy > (os.cpu_count() or 1):
        print(
            f"note: load average reached {busy:.1f} on {os.cpu_count()} cores; the figures are noisy"
        )
    print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
