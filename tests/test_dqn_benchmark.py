"""The DQN CartPole benchmark's code paths in ``--quick`` mode, agentax alone. No timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # the script imports its sibling modules
_spec = importlib.util.spec_from_file_location(
    "agentax_benchmarks_dqn_cartpole", BENCHMARKS / "dqn_cartpole.py"
)
dqn_bench = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dqn_bench)
from cartpole_episodes import steps_to_solve  # noqa: E402


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    output = tmp_path_factory.mktemp("bench") / "dqn.json"
    assert dqn_bench.main(["--quick", "--no-rlib", "--output", str(output)]) == 0
    return json.loads(output.read_text())


def test_quick_run_gives_positive_finite_speeds(quick_report):
    results = quick_report["results"]
    assert set(results) == {"facade", "compiled"}  # reinforced-lib was left out
    for path in ("facade", "compiled"):
        figure = results[path]["steps_per_second"]
        assert len(figure["samples"]) == 1  # --quick: one repeat
        assert all(
            math.isfinite(x) and x > 0 for x in (figure["median"], figure["min"], figure["max"])
        )


def test_quick_report_records_the_run_and_an_honest_solve(quick_report):
    assert quick_report["date"] and quick_report["machine"]["cores"] >= 1
    assert {"agentax", "jax"} <= set(quick_report["versions"]["agentax"])
    assert quick_report["settings"]["quick"] and quick_report["settings"]["budget"] == 300
    solve = quick_report["results"]["facade"]["solve"]
    # 300 steps cannot hold 10 episodes of return 475: the run must say it did not solve.
    assert (
        solve["solved"] == "0/1"
        and solve["median_steps"] is None
        and solve["runs"][0]["steps"] is None
    )
    assert solve["runs"][0]["episodes"] >= 1
    assert quick_report["targets"] == {"targets": "not checked: reinforced-lib was not measured"}


def test_steps_to_solve_counts_steps_to_the_end_of_the_first_solving_window():
    # Episodes of 100 steps then eleven of 500: the first 10-episode window averaging 475 ends at
    # 11th episode, the 10th of 500 steps (9 x 500 + 1 x 100 = 4600 / 10 = 460 < 475 before it), so the count
    # is 100 + 10 x 500 = 5100 steps.
    lengths = [100] + [500] * 11
    assert steps_to_solve(lengths, lengths) == 100 + 10 * 500
    assert steps_to_solve([500] * 9, [500] * 9) is None  # fewer than 10 episodes
