"""Formatting filters, hardware naming, and the HTML report built from a results file alone."""

from __future__ import annotations

import json
import math

import pytest
from results_factory import results_data

from benchsuite.report import filters as f
from benchsuite.report.html import render_report, write_report
from benchsuite.telemetry.machine import machine_id, slug


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: f.fmt_seconds(1.2345), "1.23 s"),
        (lambda: f.fmt_seconds(0.01234), "12.3 ms"),
        (lambda: f.fmt_seconds(None), "—"),
        (lambda: f.fmt_seconds(math.nan), "—"),
        (lambda: f.fmt_num(0.91834), "0.918"),
        (lambda: f.fmt_num(12345.6), "12,346"),
        (lambda: f.fmt_spread(1.15, 1.05, 1.21), "1.15 s [1.05 s – 1.21 s]"),
        (lambda: f.fmt_spread(1.15, math.nan, math.nan), "1.15 s"),
        (lambda: f.fmt_ci(0.918, 0.912, 0.924), "0.918 ± 0.006"),
        (lambda: f.fmt_ci(0.918, math.nan, math.nan), "0.918"),
        (lambda: f.fmt_ratio(1.824), "1.82×"),
        (lambda: f.fmt_ratio(math.inf), "—"),
        (lambda: f.fmt_p(0.0039), "p = 0.004"),
        (lambda: f.fmt_p(0.0001), "p < 0.001"),
    ],
)
def test_filters(call, expected):
    assert call() == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AMD EPYC", "amd-epyc"),
        ("Intel(R) Xeon(R) CPU @ 2.20GHz", "intel-xeon"),
        ("NVIDIA H100 80GB HBM3", "nvidia-h100-80gb-hbm3"),
    ],
)
def test_slug(text, expected):
    assert slug(text) == expected


def test_machine_id():
    cpu = {"device": "cpu", "cpu_model": "AMD EPYC", "cpu_logical_cores": 2, "gpu": {"count": 0}}
    assert machine_id(cpu) == "cpu-amd-epyc-2c"
    gpu = {**cpu, "device": "cuda", "gpu": {"count": 8, "names": ["NVIDIA H100 80GB HBM3"] * 8}}
    assert machine_id(gpu) == "nvidia-h100-80gb-hbm3-x1"  # 8 visible, training used one
    assert machine_id({**gpu, "device": "cpu"}) == "cpu-amd-epyc-2c"  # a CPU run on a GPU machine


def test_report_is_self_contained_html_with_tables_figures_and_verdicts():
    html = render_report(results_data())
    # the forest plot of the first screen, the curves and the telemetry: the section links to the forest plot, and
    # its time-to-target is the case table's, not drawn again
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 3
    assert html.count('<figure class="forest"') == 1 and 'href="#forest"' in html
    assert "src=" not in html and "<link" not in html and 'href="http' not in html  # nothing fetched
    assert "init=xavier_uniform" in html and "1.15 s [1 s – 1.3 s]" in html
    assert "<td>2× [1.54×, ∞]</td>" in html  # Hodges-Lehmann speedup with its interval (the miss ranks last)
    assert '<span class="held">held</span>' in html and "cpu-test-2c" in html
    assert "3/4 (30–95 %)" in html  # reached count of the baseline with its Wilson interval
    assert "run order</dt><dd>case-major" in html  # a file written before the run order was recorded
    assert "<th>epochs-to-target</th>" in html and "<td>0.50</td>" in html
    assert "Measured apart from the timed region (median per run): warm-up 0.1 s, evaluation 0.2 s." in html


def test_report_rebuilt_from_a_results_file(tmp_path):
    results = tmp_path / "results" / "r.json"
    results.parent.mkdir()
    results.write_text(json.dumps(results_data()))
    out = write_report(results, tmp_path / "reports")
    assert out == tmp_path / "reports" / "cpu-test-2c_20261121T000000Z.html"
    assert "<svg" in out.read_text()


def test_terminal_summary_lines(tmp_path):
    from benchsuite.report.terminal import summary_lines

    path = tmp_path / "r.json"
    path.write_text(json.dumps(results_data()))
    lines = summary_lines(path)
    assert lines[0].startswith("hardware: cpu-test-2c")
    row = next(line for line in lines if "init=default" in line)
    assert "time-to-target 2.2 s [2 s – 2.4 s] reached 3/4" in row and "throughput 160 samples/s" in row
    assert "  claim HELD: Xavier is faster (time-to-target, better, needs 1.1×)" in lines
    pair = lines[lines.index("  claim HELD: Xavier is faster (time-to-target, better, needs 1.1×)") + 1]
    assert pair.startswith("    init=xavier_uniform vs init=default: 2× [1.54×, ∞] 95 % (held; runs, n 4 vs 4) = steps")


def test_batch_size_scenarios_get_time_to_target_and_throughput_against_batch():
    import pandas as pd

    from benchsuite.report import figures

    summary = pd.DataFrame(
        {
            "axis_batch_size": ["32", "128", "4096"] * 2,
            "axis_lr_scaling": ["linear"] * 3 + ["sqrt"] * 3,
            "ttt_median_s": [3.0, 1.2, 0.9, 2.0, 1.2, 1.1],
            "ttt_min_s": [2.5, 1.0, 0.8, 1.8, 1.0, 1.0],
            "ttt_max_s": [3.5, 1.4, 1.0, 2.2, 1.4, 1.3],
            "throughput_median": [2e4, 5e4, 1.8e5] * 2,
        }
    )
    svg = figures.batch_figure(summary, "ttt_median_s", "time-to-target (s)", "t", band=("ttt_min_s", "ttt_max_s"))
    assert svg.startswith("<svg") and "lr_scaling" not in svg.split("<svg", 1)[0]
    assert ">4096<" in svg and ">lr_scaling=linear<" in svg and ">lr_scaling=sqrt<" in svg  # ticks and legend as text


def test_cases_on_two_axes_get_one_panel_per_value_of_the_smaller_axis_and_the_legend_outside():
    import pandas as pd

    from benchsuite.report import figures

    axes_of = {
        f"batch_size={b}-lr_scaling={r}": {"batch_size": str(b), "lr_scaling": r}
        for r in ("linear", "sqrt")
        for b in (32, 128, 4096)
    }
    assert figures.facet_axis(axes_of) == "lr_scaling"
    assert figures.facet_axis({"init=a": {"init": "a"}, "init=b": {"init": "b"}}) is None
    bands = pd.DataFrame(
        [
            {"case_id": c, "timed_s": t, "mean": 0.1 * t, "low": 0.0, "high": 0.2 * t}
            for c in axes_of
            for t in (0.0, 1.0, 2.0)
        ]
    )
    svg = figures.curve_figure(bands, "val_accuracy", 0.6, "bs", axes_of)
    assert svg.count(">lr_scaling=linear<") == 1 and svg.count(">lr_scaling=sqrt<") == 1  # panel titles
    assert svg.count(">batch_size=4096<") == 1  # one legend entry per line, shared by the panels
    assert ">validation accuracy (fraction correct)<" in svg and ">timed training time (s)<" in svg


def test_cpu_report_shows_cpu_telemetry_and_hides_gpu_columns():
    html = render_report(results_data())
    table = html[html.index("Hardware use (median over seeds)") :]
    table = table[: table.index("</table>")]
    assert "<th>process CPU % mean</th>" in table and "<th>achieved GFLOP/s</th>" in table
    assert "<td>181.5</td>" in table  # median of 180..183 over the four seeds
    assert "<td>2.5</td>" in table  # 2.5e9 FLOP/s
    assert "kernel-busy" not in table and "MFU" not in table  # no GPU data on a CPU run
    assert "telemetry over the run" in html


def test_gpu_report_tells_device_memory_from_the_runs_own_memory_and_names_the_stall_clock():
    data = results_data()
    for bench in data["benchmarks"]:
        bench["extra_info"].update(
            {
                "device": "cuda:0",
                "mfu": 0.41,
                "kernel_busy_pct_mean": 97.0,
                "power_w_mean": 512.0,
                "telemetry_samples_timed": 12,
                "mem_used_mib_peak": 30_000.0,
                "torch_peak_allocated_mib": 900.0,
                "torch_peak_reserved_mib": 1024.0,
                "input_stall_fraction": 0.02,
                "input_stall_clock": "cuda-events",
            }
        )
    html = render_report(data)
    table = html[html.index("Hardware use (median over seeds)") :]
    table = table[: table.index("</table>")]
    for header in (
        "device memory in use MiB peak (all processes)",
        "torch peak allocated MiB (this run)",
        "torch peak reserved MiB (this run)",
        "telemetry samples in timed region",
        "input stall % of timed (GPU idle for data; CPU: host wait)",
        "MFU %",
    ):
        assert f"<th>{header}</th>" in table
    assert "<td>30,000</td><td>900.0</td><td>1,024</td>" in table and "<td>41.0</td>" in table


def test_markdown_summary_of_a_fixture_results_file():
    from benchsuite.report.overview import markdown_summary

    data = results_data()
    data["benchsuite"]["scenarios"]["tiny"]["claims"][0]["says"] = "Xavier | He is faster"  # a pipe inside a cell
    lines = markdown_summary(data).splitlines()
    assert lines[0] == "### benchsuite: cpu-test-2c"
    assert lines[4:7] == [
        "| scenario | claim | verdict | effect [interval] | n |",
        "| --- | --- | --- | --- | --- |",
        "| tiny | Xavier \\| He is faster | **held** | init=xavier_uniform vs init=default: 2× [1.54×, ∞] 95 % "
        "| 4 vs 4 |",
    ]
    assert lines[8].startswith("Verdicts: held 1 (of 1 claims).")


def test_report_cli_prints_markdown_or_appends_it_to_the_job_summary(tmp_path, capsys):
    from benchsuite.cli import main

    results = tmp_path / "r.json"
    results.write_text(json.dumps(results_data()))
    assert main(["report", str(results), "--format", "markdown"]) == 0
    printed = capsys.readouterr().out
    assert "| tiny | Xavier is faster | **held** |" in printed
    summary = tmp_path / "step_summary.md"
    summary.write_text("## earlier step\n")
    assert main(["report", str(results), "--format", "markdown", "-o", str(summary)]) == 0
    text = summary.read_text()
    assert text.startswith("## earlier step\n") and text.count("| tiny | Xavier is faster |") == 1


def test_first_screen_is_hardware_then_every_claim_then_contents():
    html = render_report(results_data())
    order = [
        html.index(mark) for mark in ('id="hardware"', 'id="claims"', 'id="contents"', '<h2 id="tiny">', 'id="method"')
    ]
    assert order == sorted(order)
    overview = html[html.index('id="claims"') : html.index('id="contents"')]
    assert '<a href="#tiny">tiny</a>' in overview and "Xavier is faster" in overview and "<td>4 vs 4</td>" in overview
    assert "init=xavier_uniform vs init=default: 2× [1.54×, ∞]" in overview
    contents = html[html.index('id="contents"') : html.index('<h2 id="tiny">')]
    assert (
        '<a href="#tiny">tiny</a> — MLP 8-16-10 on random tensors of shape 1×8, 64 samples, SGD with momentum 0.9 '
        "lr 0.05, batch 16, up to 2 epochs, target validation accuracy ≥ 0.99 (1 claim)"
    ) in contents


def test_sources_of_old_results_are_cited_and_linked_never_a_private_path():
    data = results_data()
    data["benchsuite"]["scenarios"]["tiny"]["source"] = "../shared/references/000_3b263d6e4a991302.txt (10x faster)"
    html = render_report(data)
    assert "shared/references" not in html
    assert (
        'Piotr Skalski, Featurespace, 2022, <a href="https://www.featurespace.com/newsroom/accelerating-neural-'
        'network-training-with-large-and-precise-gradient-steps/">'
    ) in html


def test_where_the_time_goes_shows_the_phases_operators_and_trace_and_each_time_claim_its_phase_ratios():
    html = render_report(results_data(profiles=True), traces_from="../results/cpu-test-2c")
    assert "Where the time goes" in html and "tiny: where the time of a step goes" in html
    assert '<a href="../results/cpu-test-2c/20261121T000000Z/traces/tiny_init=default.json.gz">' in html
    assert "no trace folder was given" in html  # the window whose trace was not kept says why
    assert "Top operators of init=default" in html and "aten::addmm" in html and "16×8, 8×16" in html
    # default's forward is 0.4 ms and xavier's 0.2 ms: the claim's pair shows xavier ÷ default per phase
    ratios = "per step in the profiled windows, init=xavier_uniform ÷ init=default: step 0.618×: next batch 1×"
    assert ratios in html and "forward 0.5×, backward 0.5×, optimizer step 1×" in html


def test_terminal_summary_and_compare_show_the_phases(tmp_path):
    from benchsuite.compare.sides import compare, load_side
    from benchsuite.report.terminal import compare_lines, summary_lines

    path = tmp_path / "m" / "r.json"
    path.parent.mkdir()
    path.write_text(json.dumps(results_data(profiles=True)))
    lines = summary_lines(path)
    assert any(line.startswith("      per step in the profiled windows: step 0.618×: next batch 1×") for line in lines)
    text = "\n".join(compare_lines(compare([load_side(path), load_side(path)])))
    assert "phases per step: next batch 0.05 ms, forward 0.4 ms, backward 0.8 ms" in text
