"""Speed of report and compare on a large results file, as pytest-benchmark benchmarks (never a timed assertion).

Synthetic results of 500 cases × 5 seeds (10 scenarios of 50 cases, a curve of 20 evaluations a run); goal: each
under 15 s on the project's 2-core machines. Run just these with ``pytest tests/test_speed.py --benchmark-only``;
the table's median is the figure.
"""

from __future__ import annotations

import json

from results_factory import synthetic_results

from benchsuite.compare.sides import compare, load_side
from benchsuite.report.compare import render_comparison
from benchsuite.report.html import render_report


def test_report_of_500_cases(benchmark):
    data = synthetic_results()
    benchmark.group = "report-speed"
    benchmark.extra_info.update(cases=500, seeds=5, runs=len(data["benchmarks"]))
    html = benchmark.pedantic(render_report, args=(data,), rounds=1, iterations=1)
    assert html.count("<h2 id=") == 12  # ten scenarios, the claims overview and "How to read this report"


def test_compare_of_two_files_of_500_cases(benchmark, tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    paths[0].write_text(json.dumps(synthetic_results()))
    paths[1].write_text(json.dumps(synthetic_results(factor=1.2)))

    def compare_and_render() -> str:
        return render_comparison(compare([load_side(p) for p in paths]))

    benchmark.group = "report-speed"
    benchmark.extra_info.update(cases=500, seeds=5, files=2)
    html = benchmark.pedantic(compare_and_render, rounds=1, iterations=1)
    assert html.count("<h2>") == 11  # the claims matrix and ten scenarios
