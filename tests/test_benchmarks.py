"""The benchmark code paths, run in ``--quick`` mode on agentax alone. No timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # run.py imports its sibling module ``workloads``
_spec = importlib.util.spec_from_file_location("agentax_benchmarks_run", BENCHMARKS / "run.py")
run = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    output = tmp_path_factory.mktemp("bench") / "results.json"
    assert (
        run.main(["--quick", "--no-rlib", "--only-agents", "EGreedy", "--output", str(output)]) == 0
    )
    return json.loads(output.read_text())


def test_quick_run_gives_a_positive_finite_figure_for_every_workload(quick_report):
    rows = {(r["workload"], r["agent"]): r for r in quick_report["results"]}
    assert set(rows) == {(w, "EGreedy") for w in ("facade", "batched", "pure")}
    for row in rows.values():
        assert row["errors"] == {}
        figure = row["agentax"]
        assert len(figure["samples"]) == 1  # --quick: one repeat
        assert all(
            math.isfinite(x) and x > 0 for x in (figure["median"], figure["min"], figure["max"])
        )
        assert row["reinforced_lib"] is None and row["ratio"] is None and row["met"] is None
        floor = row["floor"]["median"]  # measured in the same run, agentax's own
        assert math.isfinite(floor) and floor > 0
        assert row["over_floor"] == pytest.approx(figure["median"] / floor)


def test_quick_report_records_the_run(quick_report):
    assert quick_report["settings"] == {
        "quick": True,
        "repeats": 1,
        "sync_dispatch": False,  # JAX's default asynchronous CPU dispatch unless --sync-dispatch
        **{k: v for k, v in vars(run.QUICK).items()},
    }
    assert quick_report["machine"]["cores"] >= 1 and quick_report["machine"]["cpu"]
    assert set(quick_report["versions"]) == {"agentax"}  # reinforced-lib was not measured
    assert {"jax", "agentax", "python"} <= set(quick_report["versions"]["agentax"])
    assert [r["target"] for r in quick_report["results"]] == [5.0, 500.0, 2.0]


def test_ratio_is_reinforced_lib_median_over_agentax_median():
    row = run.Row(
        "pure",
        "ThompsonSampling",
        {"agentax": run.Series([3.0, 1.0, 2.0]), "reinforced-lib": run.Series([10.0, 40.0, 30.0])},
    )
    result = row.result()
    # medians: agentax 2.0, reinforced-lib 30.0; 30 / 2 = 15 >= the Thompson-sampling target 10
    assert result["ratio"] == 15.0 and result["target"] == 10.0 and result["met"] is True
    table = run.table([result])
    assert "15.0x" in table and ">= 10x" in table and "yes" in table
    assert "2 ±50%" in table  # median 2, half range (3 - 1) / 2 = 1, i.e. 50% of the median


def test_each_figure_is_also_a_multiple_of_its_floor():
    row = run.Row(
        "facade",
        "EGreedy",
        {"agentax": run.Series([30.0]), "floor": run.Series([10.0, 20.0, 25.0])},
    )
    result = row.result()
    assert (
        result["over_floor"] == 1.5
        and result["floor_target"] == 1.5
        and result["floor_met"] is True
    )
    assert "1.50x" in run.table([result]) and "<= 1.5x" in run.table([result])
    batched = run.Row(
        "batched", "EGreedy", {"agentax": run.Series([30.0]), "floor": run.Series([10.0])}
    ).result()
    assert batched["over_floor"] == 3.0 and batched["floor_met"] is None  # no target for batched


def test_a_failed_measurement_is_reported_not_raised():
    series = run.Series()

    def broken():
        raise RuntimeError("no such agent")

    assert series.add(broken) == "error"
    assert (
        series.add(lambda: 1.0) == "skipped"
    )  # the figure stays missing rather than half-measured
    result = run.Row("facade", "UCB", {"agentax": series}).result()
    assert result["agentax"] is None and result["met"] is None
    assert "facade UCB on agentax: RuntimeError: no such agent" in run.table([result])


@pytest.mark.parametrize("figure", [float("nan"), float("inf"), 0.0, -1.0])
def test_a_figure_that_is_not_positive_and_finite_is_an_error(figure):
    series = run.Series()
    assert series.add(lambda: figure) == "error"
    assert series.samples == [] and "not a positive finite figure" in series.error


def test_help_explains_the_options(capsys):
    with pytest.raises(SystemExit):
        run.parse_args(["--help"])
    text = capsys.readouterr().out
    for option in ("--quick", "--repeats", "--agents", "--rlib-python", "--output"):
        assert option in text


def test_sizes_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        run.parse_args(["--agents", "0"])
    assert "--agents must be at least 1" in capsys.readouterr().err
