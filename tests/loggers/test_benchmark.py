"""The logger-cost benchmark's code path, in ``--quick`` mode. No timing is asserted."""

import importlib.util
import json
import math
import pathlib

BENCHMARK = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "loggers.py"


def test_quick_run_reports_every_case_and_logger(tmp_path):
    spec = importlib.util.spec_from_file_location("agentax_benchmarks_loggers", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    output = tmp_path / "loggers.json"
    assert module.main(["--quick", "--output", str(output)]) == 0
    results = json.loads(output.read_text())["results"]
    assert list(results) == ["1", "K=8", "K=8, uniform rewards"]
    for result in results.values():
        assert set(result["us_per_call"]) == {"none", "stdout", "csv"}
        assert all(math.isfinite(us) and us > 0 for us in result["us_per_call"].values())
        assert all(len(samples) == 1 for samples in result["samples"].values())
        assert set(result["ratio"]) == {"stdout", "csv"}
