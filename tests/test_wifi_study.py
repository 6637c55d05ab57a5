"""The Wi-Fi rate-adaptation study (examples/wifi_study.py): its table, its plots, its statistics."""

import importlib.util
import math
import pathlib

import numpy as np
import pytest

from tests.test_examples import load


@pytest.fixture(scope="module")
def study():
    return load("wifi_study")


def test_confidence_interval_by_hand(study):
    # mean 2, sample std 1, t(0.975, 2 dof) = 4.3027: half-width 4.3027 / sqrt(3) = 2.4841.
    mean, half = study.confidence_interval(np.array([1.0, 2.0, 3.0]))
    assert mean == 2.0 and half == pytest.approx(4.3027 / math.sqrt(3), rel=1e-4)


def test_study_prints_a_row_per_agent_and_writes_plots(study, tmp_path, capsys):
    agents = ["ThompsonSampling", "RoundRobinScheduler"]
    output = study.main(
        [
            "--agents",
            ",".join(agents),
            "--seeds",
            "3",
            "--duration",
            "1",
            "--out-dir",
            str(tmp_path),
        ]
    )
    table = capsys.readouterr().out
    rows = {line.split()[0]: line for line in table.splitlines()}
    assert set(agents) | {"oracle"} <= set(rows)
    assert "± " in rows["ThompsonSampling"] and rows["oracle"].count("100%") == 2
    results = {r.name: r for r in output["results"]}
    assert results["oracle"].static.shape == (3,) and results["oracle"].by_distance.shape == (6,)
    # The oracle knows the best rate; round robin spends 11 of 12 TXOPs on other rates.
    for result in output["results"]:
        assert result.static.mean() <= results["oracle"].static.mean() * 1.02
    assert results["ThompsonSampling"].static.mean() > results["RoundRobinScheduler"].static.mean()
    # Throughput falls with distance for the oracle (1 m: 131.8 Mb/s at MCS 11; 50 m: MCS 4).
    assert np.all(np.diff(results["oracle"].by_distance) < 0)
    for path in output["plots"]:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_study_refuses_unknown_and_skipped_agents(study, capsys):
    with pytest.raises(SystemExit):
        study.main(["--agents", "LogNormalThompsonSampling", "--no-plot"])
    assert "log(reward)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        study.main(["--seeds", "1", "--no-plot"])
    assert "at least 2 seeds" in capsys.readouterr().err


def test_benchmark_quick_run_measures_every_loop(tmp_path):
    """benchmarks/wifi_study.py in --quick mode: a positive rate for each way of running the study."""
    bench = load_benchmark()
    result = bench.main(["--quick", "--rlib-python", str(tmp_path / "no-python")])
    rates = result["agent_steps_per_second"]
    assert set(rates) == {"compiled", "facade, K at once", "facade, one at a time"}
    assert all(math.isfinite(rate) and rate > 0 for rate in rates.values())
    assert "make bench-venv" in result["ra_sim"]


def load_benchmark():
    path = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "wifi_study.py"
    spec = importlib.util.spec_from_file_location("agentax_benchmarks_wifi_study", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
