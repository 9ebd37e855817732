"""Speed of report and compare on a large results file, as pytest-benchmark benchmarks (never a timed assertion).

Synthetic results of 500 cases × 5 seeds (10 scenarios of 50 cases, a curve of 20 evaluations a run); goal: each
under 15 s on the project's 2-core machines. Then the committed references: the default run's report (goal 3 s), a
comparison of the four (5 s) and a history of 20 commits of 293 runs (10 s). Run just these with ``pytest
tests/test_speed.py --benchmark-only``; the table's median is the figure.
"""

from __future__ import annotations

import json
from pathlib import Path

from results_factory import synthetic_results

from benchsuite.compare.history import build_history
from benchsuite.compare.sides import compare, load_side
from benchsuite.report.compare import render_comparison
from benchsuite.report.history import render_history
from benchsuite.report.html import render_report
from benchsuite.results.files import read_results


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


# The committed references (read, never written): the main job's results of each machine. The default run is the
# largest, the main job of today's scenarios; the history is 20 commits of a 293-run reference.
REFERENCES = {p.parent.name: p for p in sorted(Path(__file__).parents[1].glob("results/*/*.json"))}


def _runs(path: Path) -> int:
    return sum(1 for b in json.loads(path.read_text())["benchmarks"] if (b.get("extra_info") or {}).get("case_id"))


def test_report_of_the_default_run(benchmark):
    """Goal: 3 s on the 2-core machines (it took 8.2 s before the figures were drawn once each)."""
    path = max(REFERENCES.values(), key=lambda p: p.stat().st_size)
    data = read_results(path)
    benchmark.group = "report-speed"
    benchmark.extra_info.update(file=path.name, machine=path.parent.name, runs=_runs(path))
    html = benchmark.pedantic(render_report, args=(data,), rounds=1, iterations=1)
    assert html.count('<figure class="forest"') == 1 and html.count("<h2 id=") >= 10


def test_compare_of_the_four_references(benchmark):
    """Goal: 5 s on the 2-core machines, reading the four files included."""
    assert len(REFERENCES) >= 4

    def compare_and_render() -> str:
        return render_comparison(compare([load_side(p) for p in REFERENCES.values()]))

    benchmark.group = "report-speed"
    benchmark.extra_info.update(files=len(REFERENCES), runs=sum(_runs(p) for p in REFERENCES.values()))
    html = benchmark.pedantic(compare_and_render, rounds=1, iterations=1)
    assert all(machine in html for machine in REFERENCES)


def test_history_of_20_commits_of_293_runs(benchmark, tmp_path):
    """Goal: 10 s on the 2-core machines, reading the 20 files included: one reference of 293 runs as 20 commits."""
    (source,) = [p for p in REFERENCES.values() if _runs(p) == 293]
    data = json.loads(source.read_text())
    for k in range(20):
        data["commit_info"] = {**data["commit_info"], "id": (f"{k + 1:x}" * 40)[:40], "time": f"2026-11-{k + 1:02d}"}
        data["benchsuite"]["run_id"] = f"202611{k + 1:02d}T120000Z"
        (tmp_path / f"{k}.json").write_text(json.dumps(data))

    def history_page() -> str:
        return render_history(build_history([tmp_path]))

    benchmark.group = "report-speed"
    benchmark.extra_info.update(commits=20, runs=293)
    html = benchmark.pedantic(history_page, rounds=1, iterations=1)
    assert html.count('<td class="cell ') >= 20 and "No step:" in html  # the same file 20 times: no step
