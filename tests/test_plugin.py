"""The pytest plugin, driven through pytester on tiny synthetic scenarios."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import tiny_spec, write_yaml

import benchsuite.test_scenarios

MODULE = str(Path(benchsuite.test_scenarios.__file__))


def run(pytester, scenario_dir, *args, order: str | None = "seed-major"):
    """Run pytest on the benchsuite items in a subprocess (in-process runs re-import torch modules and fail).

    On the CPU unless a test asks for another device, so that the same expectations hold on a GPU machine; without
    the profiled windows unless a test asks for them (``--profile``); without top-ups unless a test gives them a
    budget (``--top-up-s``; tests/test_top_ups.py); in seed-major order unless a test gives ``--run-order`` (or
    ``order=None``: the session's default, random), so that tests that count on which run comes when stay exact.
    """
    device = [] if any(a.startswith("--device") for a in args) else ["--device=cpu"]
    device += [] if order is None or any(a.startswith("--run-order=") for a in args) else [f"--run-order={order}"]
    device += [] if any(a in ("--profile", "--no-profile") for a in args) else ["--no-profile"]  # profiles: below
    device += [] if any(a.startswith("--top-up-s") for a in args) else ["--top-up-s=0"]
    argv = [
        MODULE,
        f"--scenarios={scenario_dir}",
        f"--results-dir={pytester.path / 'results'}",
        f"--reports-dir={pytester.path / 'reports'}",
        "-p",
        "no:cacheprovider",
        "-v",
        *device,
        *args,
    ]
    return pytester.runpytest_subprocess(*argv)


def results_files(pytester) -> list[Path]:
    return sorted((pytester.path / "results").glob("*/*.json"))


def test_smoke_mode_runs_every_case_and_seed_without_writing(pytester, scenario_dir):
    result = run(pytester, scenario_dir)
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "*test_scenario?tiny?init=default-seed=0??*PASSED*",
            "*test_scenario?tiny?init=xavier_uniform-seed=1??*PASSED*",
        ]
    )
    assert results_files(pytester) == [] and not (pytester.path / "reports").exists()


def test_k_selects_runs(pytester, scenario_dir):
    run(pytester, scenario_dir, "-k", "xavier_uniform").assert_outcomes(passed=2, deselected=2)


def test_benchmark_mode_writes_results_and_report(pytester, scenario_dir):
    result = run(pytester, scenario_dir, "--benchmark")
    result.assert_outcomes(passed=4)
    (path,) = results_files(pytester)
    data = json.loads(path.read_text())
    hardware = data["machine_info"]["benchsuite"]
    assert path.parent.name == hardware["machine_id"]
    assert hardware["cpu_logical_cores"] >= 1 and "torch_version" in hardware and "gpu" in hardware
    assert len(data["benchmarks"]) == 4 and "tiny" in data["benchsuite"]["scenarios"]
    assert data["benchsuite"]["incomplete"] is False  # the session ran to its end
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        # pytest-benchmark's own figure is the timed training region, nothing else
        assert bench["stats"]["rounds"] == 1 and bench["options"]["timer"] == "timed_region_seconds"
        assert bench["stats"]["median"] == pytest.approx(info["timed_s"], abs=1e-9)
        assert info["steps"] == 8 and len(info["curve"]) == 3
    (report,) = (pytester.path / "reports").glob("*.html")
    assert report.name == f"{path.parent.name}_{path.stem}.html" and "<svg" in report.read_text()
    result.stdout.fnmatch_lines(["*benchsuite*", "*init=xavier_uniform*time-to-target*", f"results: {path}"])


def test_each_case_gets_a_profiled_window_after_the_runs_with_its_trace(pytester, tmp_path):
    claim = {
        "says": "Xavier is faster",
        "metric": "step_time_s",
        "cases": {"init": ["xavier_uniform"]},
        "against": {"init": "default"},
    }
    spec = tiny_spec(step_timing={"against": {"init": "default"}, "blocks": 1, "min_block_s": 0.001}, claims=[claim])
    write_yaml(tmp_path / "s" / "tiny.yaml", {**spec, "profile": {"steps": 2, "wait": 0, "warmup": 1}})
    result = run(pytester, tmp_path / "s", "--benchmark", "--profile")
    result.assert_outcomes(passed=7)
    (path,) = results_files(pytester)
    data = json.loads(path.read_text())
    assert data["benchsuite"]["format"] == "benchsuite-results/3"
    kinds = [b["extra_info"].get("kind", "run") for b in data["benchmarks"]]
    assert kinds == ["run"] * 4 + ["step_timing", "profile", "profile"]  # the windows come last, apart from the runs
    for bench in data["benchmarks"][-2:]:
        info = bench["extra_info"]
        assert info["status"] == "ok" and info["steps"] == 2 and info["phases"] and info["top_ops"]
        assert info["trace"] == f"{path.stem}/traces/tiny_{info['case_id']}.json.gz"
        assert json.loads(gzip.decompress((path.parent / info["trace"]).read_bytes()))["traceEvents"]
    (report,) = (pytester.path / "reports").glob("*.html")
    html = report.read_text()
    assert "Where the time goes" in html and f'href="../results/{path.parent.name}/{path.stem}/traces/' in html
    result.stdout.fnmatch_lines(["*per step in the profiled windows: step *"])


def test_no_profile_leaves_the_windows_out(pytester, scenario_dir):
    result = run(pytester, scenario_dir, "--collect-only", "-q", "--no-profile")
    assert not any("profile:" in line for line in result.stdout.lines)
    result = run(pytester, scenario_dir, "--collect-only", "-q", "--profile")
    assert sum("[profile:" in line for line in result.stdout.lines) == 2


def test_pytest_benchmark_compare_reads_the_results(pytester, scenario_dir):
    run(pytester, scenario_dir, "--benchmark").assert_outcomes(passed=4)
    (path,) = results_files(pytester)
    cli = subprocess.run(
        [sys.executable, "-m", "pytest_benchmark", "compare", str(path)], capture_output=True, text=True, check=False
    )
    assert cli.returncode == 0, cli.stderr
    assert "tiny[init=xavier_uniform-seed=1]" in cli.stdout


def test_bad_scenario_fails_alone_with_a_clear_message(pytester, scenario_dir):
    write_yaml(scenario_dir / "broken.yaml", tiny_spec(name="broken", train={"lr": -3, "max_steps": 2}))
    result = run(pytester, scenario_dir, "--benchmark")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*broken.yaml: field 'train.lr': Input should be greater than 0 (got -3)*"])
    assert "Traceback" not in result.stdout.str()
    (path,) = results_files(pytester)
    data = json.loads(path.read_text())
    assert len(data["benchmarks"]) == 4 and "broken.yaml" in data["benchsuite"]["scenario_errors"][0]


def test_missing_or_empty_scenario_folder_is_a_clear_failure(pytester, tmp_path):
    result = run(pytester, tmp_path / "nowhere")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*nowhere: cannot read: No such file or directory*"])
    (tmp_path / "empty").mkdir()
    run(pytester, tmp_path / "empty").stdout.fnmatch_lines(["*empty: no scenario files (*.yaml) found*"])


def test_smoke_check_fails_a_diverging_scenario(pytester, tmp_path):
    write_yaml(
        tmp_path / "s" / "hot.yaml",
        tiny_spec(name="hot", seeds=[0], matrix={}, train={"lr": 1e30, "optimizer": "sgd", "max_steps": 4}),
    )
    result = run(pytester, tmp_path / "s", "--smoke-steps=4")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*hot[[]base-seed=0[]]: status diverged at step 1*"])


def test_diverged_run_is_recorded_and_the_session_goes_on(pytester, tmp_path):
    write_yaml(
        tmp_path / "s" / "a.yaml",
        tiny_spec(name="hot", seeds=[0], matrix={}, train={"lr": 1e30, "optimizer": "sgd", "max_steps": 4}),
    )
    write_yaml(tmp_path / "s" / "b.yaml", tiny_spec(seeds=[0]))
    run(pytester, tmp_path / "s", "--benchmark").assert_outcomes(passed=3)
    (path,) = results_files(pytester)
    statuses = {
        b["extra_info"]["run_id"]: b["extra_info"]["status"] for b in json.loads(path.read_text())["benchmarks"]
    }
    assert statuses["hot[base-seed=0]"] == "diverged" and statuses["tiny[init=default-seed=0]"] == "ok"


def test_killed_session_keeps_every_finished_run(pytester, scenario_dir):
    # the third run kills the whole process (no cleanup, no sessionfinish): the file must still be complete JSON
    pytester.makepyfile(
        killer="""
        import os
        import benchsuite.training.run as train
        real, calls = train.train_run, []
        def dying(*args, **kwargs):
            calls.append(1)
            if len(calls) == 3:
                os._exit(17)
            return real(*args, **kwargs)
        train.train_run = dying
        """
    )
    result = run(pytester, scenario_dir, "--benchmark", "-p", "killer")
    assert result.ret == 17
    (path,) = results_files(pytester)
    data = json.loads(path.read_text())
    assert [b["extra_info"]["run_id"] for b in data["benchmarks"]] == [
        "tiny[init=default-seed=0]",
        "tiny[init=xavier_uniform-seed=0]",
    ]
    assert data["benchsuite"]["incomplete"] is True
    assert not list(path.parent.glob(".*.tmp"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the path without a GPU")
def test_precision_the_device_cannot_run_is_skipped_with_the_reason(pytester, tmp_path):
    write_yaml(tmp_path / "s" / "p.yaml", tiny_spec(seeds=[0], matrix={"precision": ["fp32", "fp16"]}))
    result = run(pytester, tmp_path / "s", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*precision fp16: fp16 autocast with GradScaler needs a CUDA device*"])


def test_runs_that_need_cuda_carry_the_gpu_mark(pytester, tmp_path):
    """``-m "not gpu"`` leaves out fp16 and TF32 runs and step-timing pairs, on any machine, without a warning."""
    spec = tiny_spec(
        seeds=[0],
        matrix={"precision": ["fp32", "bf16", "fp16"]},
        step_timing={"against": {"precision": "fp32"}, "blocks": 2},
    )
    write_yaml(tmp_path / "s" / "p.yaml", spec)
    result = run(pytester, tmp_path / "s", "--collect-only", "-q", "-m", "not gpu", "--strict-markers", "-W", "error")
    result.stdout.fnmatch_lines(
        [
            "*tiny?precision=fp32-seed=0?*",
            "*tiny?precision=bf16-seed=0?*",
            "*tiny?step-timing:precision=bf16-vs-precision=fp32?*",
            "*3/5 tests collected (2 deselected)*",
        ]
    )
    assert "fp16" not in result.stdout.str().replace("2 deselected", "")


def test_runs_are_interleaved_and_paired_step_timing_follows(pytester, tmp_path):
    spec = tiny_spec(step_timing={"against": {"init": "default"}, "blocks": 2, "min_block_s": 0.001})
    write_yaml(tmp_path / "s" / "tiny.yaml", spec)
    result = run(pytester, tmp_path / "s", "--benchmark", "--run-order=random", "--run-order-seed=5")
    result.assert_outcomes(passed=5)
    (path,) = results_files(pytester)
    data = json.loads(path.read_text())
    assert data["benchsuite"]["run_order"] == {"mode": "random", "seed": 5}
    infos = [b["extra_info"] for b in data["benchmarks"]]
    assert [i["seed"] for i in infos[:4]] == [0, 0, 1, 1] and [i["order_index"] for i in infos] == [0, 1, 2, 3, 4]
    timing = infos[-1]
    assert timing["kind"] == "step_timing" and len(timing["blocks"]) == 2
    from benchsuite.results import frames
    from benchsuite.results.files import read_results

    runs = frames.runs_frame(read_results(path))  # back in matrix order, whatever order they ran in
    assert list(zip(runs["case_id"], runs["seed"], strict=True)) == [
        ("init=default", 0),
        ("init=default", 1),
        ("init=xavier_uniform", 0),
        ("init=xavier_uniform", 1),
    ]
    assert all(len(i["segments"]) >= 1 for i in infos[:4])
    result.stdout.fnmatch_lines(["*run order: random (seed 5)*"])


def test_smoke_mode_runs_one_block_of_each_step_timing_pair(pytester, tmp_path):
    write_yaml(tmp_path / "s" / "tiny.yaml", tiny_spec(step_timing={"against": {"init": "default"}}))
    result = run(pytester, tmp_path / "s")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*tiny?step-timing:init=xavier_uniform-vs-init=default?*PASSED*"])


def test_data_parallel_cases_run_on_their_ranks_and_report_scaling(pytester, tmp_path):
    train = {**tiny_spec()["train"], "batch_size": 16, "max_epochs": 1}
    write_yaml(
        tmp_path / "s" / "dp.yaml", tiny_spec(name="dp", seeds=[0], matrix={"world_size": [1, 2, 16]}, train=train)
    )
    result = run(pytester, tmp_path / "s", "--benchmark", "-rs")
    if (os.cpu_count() or 1) < 16:
        result.assert_outcomes(passed=2, skipped=1)
        result.stdout.fnmatch_lines(["*SKIPPED*world size 16 needs 16 cores on this node (one per rank)*"])
    (path,) = results_files(pytester)
    infos = {b["extra_info"]["case_id"]: b["extra_info"] for b in json.loads(path.read_text())["benchmarks"]}
    assert infos["world_size=2"]["world_size"] == 2 and infos["world_size=2"]["status"] == "ok"
    assert infos["world_size=1"]["world_size"] == 1
    bench = next(b for b in json.loads(path.read_text())["benchmarks"] if b["extra_info"]["case_id"] == "world_size=2")
    assert bench["stats"]["median"] == pytest.approx(
        bench["extra_info"]["timed_s"], abs=1e-9
    )  # the ranks' timed region
    html = next((pytester.path / "reports").glob("*.html")).read_text()
    assert "Data-parallel scaling" in html and "scaling efficiency" in html


def test_other_pytest_sessions_never_import_torch(pytester):
    # benchsuite is a pytest11 plugin: it is loaded in every pytest session of the environment
    pytester.makepyfile(
        test_other="""
        import sys

        def test_nothing_heavy_was_imported():
            assert "torch" not in sys.modules and "benchsuite.session" not in sys.modules
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--benchmark").assert_outcomes(passed=1)


def test_a_run_this_machine_cannot_host_is_skipped_before_the_benchmark_fixture_is_used(pytester, tmp_path):
    many = os.cpu_count() * 2
    spec = tiny_spec(
        train={**tiny_spec()["train"], "world_size": many, "batch_size": 4 * many},
        seeds=[0],
        matrix={"init": ["default"]},
    )
    write_yaml(tmp_path / "dp" / "tiny.yaml", spec)
    result = run(pytester, tmp_path / "dp", "--benchmark", "-rs")
    result.assert_outcomes(skipped=1)
    assert "Benchmark fixture was not used" not in result.stdout.str()


def test_seeds_runs_the_first_n_seeds_and_stores_the_scenario_as_it_ran(pytester, scenario_dir):
    result = run(pytester, scenario_dir, "--benchmark", "--seeds=1")
    result.assert_outcomes(passed=2)  # 2 cases x the first of 2 seeds
    (path,) = results_files(pytester)
    data = json.loads(path.read_text())
    assert {b["extra_info"]["seed"] for b in data["benchmarks"]} == {0}
    assert data["benchsuite"]["scenarios"]["tiny"]["seeds"] == [0]


def test_scenarios_may_be_given_several_times(pytester, tmp_path):
    write_yaml(tmp_path / "a" / "one.yaml", tiny_spec(name="one", seeds=[0], matrix={}))
    write_yaml(tmp_path / "b" / "two.yaml", tiny_spec(name="two", seeds=[0], matrix={}))
    write_yaml(tmp_path / "b" / "three.yaml", tiny_spec(name="three", seeds=[0], matrix={}))
    result = run(pytester, tmp_path / "a", f"--scenarios={tmp_path / 'b' / 'two.yaml'}")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*one[[]base-seed=0[]][]] PASSED*", "*two[[]base-seed=0[]][]] PASSED*"])


def test_the_extended_selection_smoke_runs(pytester):
    """``pytest benchsuite --scenarios scenarios/extended`` (the scenarios left out of the main job for its budget):
    every run passes its few-step smoke check."""
    extended = Path(__file__).resolve().parents[1] / "scenarios" / "extended"
    result = run(pytester, extended)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes.get("passed", 0) >= 10, result.stdout.str()[-2000:]


def test_the_results_and_the_report_say_which_scenarios_ran(pytester, tmp_path):
    write_yaml(tmp_path / "a" / "one.yaml", tiny_spec(name="one", seeds=[0], matrix={}))
    write_yaml(tmp_path / "b" / "two.yaml", tiny_spec(name="two", seeds=[0], matrix={}))
    result = run(pytester, tmp_path / "a", f"--scenarios={tmp_path / 'b' / 'two.yaml'}", "--benchmark")
    result.assert_outcomes(passed=2)
    (path,) = results_files(pytester)
    given = [str(tmp_path / "a"), str(tmp_path / "b" / "two.yaml")]
    assert json.loads(path.read_text())["benchsuite"]["scenario_paths"] == given
    result.stdout.fnmatch_lines([f"scenarios from: {given[0]}, {given[1]}"])
    (report,) = (pytester.path / "reports").glob("*.html")
    assert "<dt>scenarios from</dt>" in report.read_text()
