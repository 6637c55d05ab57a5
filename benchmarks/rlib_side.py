"""The reinforced-lib side of the benchmarks, run in reinforced-lib's own virtual environment.

It imports reinforced-lib (never agentax) and the shared :mod:`workloads`, prints one JSON line
with its versions, then answers requests read from standard input, one JSON object a line
(``--sync-dispatch``: every compiled CPU call on the calling thread, as in ``run.py``)::

    {"workload": "facade", "agent": "UCB", "sizes": {"calls": 2000, ...}}

with ``{"value": <figure>}`` (or ``{"error": "..."}``) on one line of standard output. Anything
the libraries print goes to standard error, so standard output carries only the answers.
"""

from __future__ import annotations

import json
import platform
import sys
from importlib.metadata import version

from reinforced_lib import RLib
from reinforced_lib.agents.mab import UCB, EGreedy, ThompsonSampling
from reinforced_lib.exts import BasicMab
from workloads import Bench, Library, Sizes, dispatch_synchronously

LIBRARY = Library(
    rlib_type=RLib,
    ext_type=BasicMab,
    agents={"EGreedy": EGreedy, "UCB": UCB, "ThompsonSampling": ThompsonSampling},
    steps_many_at_once=False,
    beyond_ext=frozenset({"ThompsonSampling"}),  # its BasicMab supplies only the reward
)


def answer(bench: Bench, request: dict) -> dict:
    """The figure asked for, or the error that prevented it."""
    try:
        return {
            "value": bench.measure(request["workload"], request["agent"], Sizes(**request["sizes"]))
        }
    except Exception as error:  # reported to the caller, which shows it in its table
        return {"error": f"{type(error).__name__}: {error}"}


def main() -> None:
    answers, sys.stdout = sys.stdout, sys.stderr
    if "--sync-dispatch" in sys.argv[1:]:
        dispatch_synchronously()

    def send(message: dict) -> None:
        answers.write(json.dumps(message) + "\n")
        answers.flush()

    send(
        {
            "python": platform.python_version(),
            "jax": version("jax"),
            "reinforced_lib": version("reinforced-lib"),
            "agents": sorted(LIBRARY.agents),
        }
    )
    bench = Bench(LIBRARY)
    for line in sys.stdin:
        if line.strip():
            send(answer(bench, json.loads(line)))


if __name__ == "__main__":
    main()
