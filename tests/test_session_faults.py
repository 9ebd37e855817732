"""Faults of a ``--benchmark`` session lose nothing: every run that raises is recorded and the session goes on, the
results file exists (with the hardware) before the first run and is marked incomplete until the session ends, a
results file that cannot be written stops the session with one line and keeps the last good file and the report,
and SIGTERM ends the session as Ctrl-C does."""

from __future__ import annotations

import json

from conftest import tiny_spec, write_yaml
from test_plugin import results_files, run


def _infos(path) -> dict[str, dict]:
    return {b["extra_info"]["run_id"]: b["extra_info"] for b in json.loads(path.read_text())["benchmarks"]}


def test_a_real_cpu_out_of_memory_is_recorded_with_its_stage_and_the_session_goes_on(pytester, tmp_path):
    # a 200000 x 200000 layer is 160 GB of float32: the CPU allocator refuses it (no test machine has that much)
    huge = tiny_spec(name="huge", seeds=[0], matrix={})
    huge["workload"] = {**huge["workload"], "model": {"name": "mlp", "hidden": [200000, 200000]}}
    write_yaml(tmp_path / "s" / "huge.yaml", huge)
    write_yaml(tmp_path / "s" / "tiny.yaml", tiny_spec(seeds=[0]))
    result = run(pytester, tmp_path / "s", "--benchmark")
    result.assert_outcomes(passed=3)
    (path,) = results_files(pytester)
    infos = _infos(path)
    oom = infos["huge[base-seed=0]"]
    assert oom["status"] == "oom" and oom["fault_stage"] in ("warm-up", "model build")
    assert oom["error"].startswith("CPU out of memory in ") and "DefaultCPUAllocator" in oom["error"]
    assert {infos[r]["status"] for r in infos if r.startswith("tiny")} == {"ok"}
    assert "INTERNALERROR" not in result.stdout.str() and list((pytester.path / "reports").glob("*.html"))


def test_any_other_exception_in_a_run_is_recorded_as_failed_and_the_session_goes_on(pytester, scenario_dir):
    pytester.makepyfile(
        breaker="""
        import benchsuite.training.run as train
        real, calls = train.build_trainer, []
        def broken(*args, **kwargs):
            calls.append(1)
            if len(calls) == 4:  # the second run's model build (its warm-up built the third)
                raise ValueError("widths do not fit\\nsecond line")
            return real(*args, **kwargs)
        train.build_trainer = broken
        """
    )
    result = run(pytester, scenario_dir, "--benchmark", "-p", "breaker")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*tiny?init=xavier_uniform-seed=0?: failed: ValueError: widths do not fit*"])
    (path,) = results_files(pytester)
    infos = _infos(path)
    failed = infos["tiny[init=xavier_uniform-seed=0]"]
    assert (failed["status"], failed["fault_stage"], failed["error"]) == (
        "failed",
        "model build",
        "ValueError: widths do not fit",
    )
    assert len(infos) == 4 and json.loads(path.read_text())["benchsuite"]["incomplete"] is False


def test_the_results_file_is_written_with_the_hardware_before_the_first_run(pytester, scenario_dir):
    pytester.makepyfile(
        killer="""
        import os
        import benchsuite.training.run as train
        def dying(*args, **kwargs):
            os._exit(17)
        train.train_run = dying
        """
    )
    result = run(pytester, scenario_dir, "--benchmark", "-p", "killer")
    assert result.ret == 17
    (path,) = results_files(pytester)
    data = json.loads(path.read_text())
    assert data["benchmarks"] == [] and data["benchsuite"]["incomplete"] is True
    assert data["machine_info"]["benchsuite"]["machine_id"] == path.parent.name
    assert data["benchsuite"]["scenarios"]["tiny"]["name"] == "tiny"


def test_a_full_disk_stops_the_session_with_one_line_and_keeps_the_last_good_file_and_the_report(
    pytester, scenario_dir
):
    # the fourth write of the results file (the first run's is the second) fails as a full disk does
    pytester.makepyfile(
        full="""
        import errno
        import benchsuite.results.recorder as recorder
        real, calls = recorder.atomic_write_text, []
        def full(path, text):
            calls.append(1)
            if len(calls) >= 4:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(path, text)
        recorder.atomic_write_text = full
        recorder.atomic_write_json = lambda path, data: full(path, "")
        """
    )
    result = run(pytester, scenario_dir, "--benchmark", "-p", "full")
    text = result.stdout.str()
    assert "INTERNALERROR" not in text and "Traceback" not in text
    result.assert_outcomes(passed=2, failed=1)
    (path,) = results_files(pytester)
    message = f"cannot write {path}: No space left on device; {path} holds the 2 results"
    result.stdout.fnmatch_lines([f"*results not saved: {message}*", f"*Interrupted: benchsuite: {message}*"])
    data = json.loads(path.read_text())
    assert len(data["benchmarks"]) == 2 and data["benchsuite"]["incomplete"] is True
    assert not list(path.parent.glob(".*.tmp"))
    (report,) = (pytester.path / "reports").glob("*.html")
    assert "did not finish" in report.read_text(encoding="utf-8")


def test_sigterm_ends_the_session_as_ctrl_c_does(pytester, scenario_dir):
    pytester.makepyfile(
        terminator="""
        import os, signal
        import benchsuite.training.run as train
        real, calls = train.train_run, []
        def terminated(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                os.kill(os.getpid(), signal.SIGTERM)
            return real(*args, **kwargs)
        train.train_run = terminated
        """
    )
    result = run(pytester, scenario_dir, "--benchmark", "-p", "terminator")
    assert result.ret == 2  # pytest's "interrupted"
    result.stdout.fnmatch_lines(["*results: *", "*KeyboardInterrupt: benchsuite: signal SIGTERM*"])
    (path,) = results_files(pytester)
    data = json.loads(path.read_text())
    assert len(data["benchmarks"]) == 1 and data["benchsuite"]["incomplete"] is True
    assert list((pytester.path / "reports").glob("*.html"))
