"""Options are validated where they are parsed, their help shows the default, and modes that could not be trusted
or recorded are refused (pytest-benchmark's own practice)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from types import SimpleNamespace

import pytest

from benchsuite import options


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (options.sampling_interval, "-1", "must be 0 (off) or at least 0.01 seconds, got '-1'"),
        (options.sampling_interval, "1e-9", "must be 0 (off) or at least 0.01 seconds, got '1e-9'"),
        (options.sampling_interval, "0.005", "must be 0 (off) or at least 0.01 seconds, got '0.005'"),
        (options.sampling_interval, "inf", "must be a finite number of seconds, got 'inf'"),
        (options.sampling_interval, "fast", "must be a number of seconds, got 'fast'"),
        (options.positive_seconds, "0", "must be a positive number of seconds, got '0'"),
        (options.positive_int, "0", "must be a whole number of at least 1, got '0'"),
        (options.positive_int, "2.5", "must be a whole number, got '2.5'"),
        (options.non_negative_int, "-3", "must be a whole number of at least 0, got '-3'"),
        (options.non_negative_seconds, "-1", "must be 0 (off) or a positive number of seconds, got '-1'"),
        (options.non_negative_seconds, "nan", "must be a finite number of seconds, got 'nan'"),
        (options.factor, "0.5", "must be a finite number of at least 1, got '0.5'"),
        (options.host_port, "node0", "must be HOST:PORT with a port from 1 to 65535, got 'node0'"),
        (options.host_port, "node0:70000", "got 'node0:70000'"),
    ],
)
def test_bad_values_are_refused_with_the_rule_and_the_value(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


def test_good_values_pass():
    assert options.sampling_interval("0") == 0.0 and options.sampling_interval("0.25") == 0.25
    assert options.sampling_interval("0.01") == 0.01
    assert options.non_negative_seconds("0") == 0.0 and options.non_negative_seconds("60") == 60.0
    assert options.positive_int("3") == 3 and options.non_negative_int("0") == 0
    assert options.host_port("node0.example:29500") == "node0.example:29500" and options.positive_seconds("1e3") == 1000


def _option(**kwargs):
    return SimpleNamespace(
        **{
            "benchmark": True,
            "benchmark_disable": False,
            "benchmark_skip": False,
            "numprocesses": None,
            "dist": "no",
            **kwargs,
        }
    )


def test_untrustworthy_modes_are_refused_only_with_benchmark():
    assert options.refusal(_option(), is_xdist_worker=False) is None
    assert "would record nothing" in options.refusal(_option(benchmark_disable=True), False)
    assert "would be skipped" in options.refusal(_option(benchmark_skip=True), False)
    assert "pytest-xdist" in options.refusal(_option(numprocesses=2), False)
    assert "pytest-xdist" in options.refusal(_option(), is_xdist_worker=True)
    assert options.refusal(_option(benchmark=False, numprocesses=2), False) is None  # smoke runs may use -n


def _pytest(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], capture_output=True, text=True, cwd=cwd
    )


def test_pytest_help_shows_every_benchsuite_option_with_its_default(tmp_path):
    done = _pytest("--help", cwd=tmp_path)
    text = " ".join(done.stdout.split())
    for expected in (
        "--telemetry-interval=S seconds between NVML/psutil samples around each run, at least 0.01; 0 turns "
        "telemetry off (default: 0.1)",
        "--smoke-steps=N steps per run without --benchmark (default: 3)",
        "--rank-timeout=S",
        "(default: 900.0)",
        "--run-order={seed-major,random,case-major}",
        "(default: random)",
        "--top-up-s=S wall seconds that the top-up runs of claims a look leaves open",
        "a look runs whole when its runs, costed at the median seconds of their cases' first-look runs, fit what",
        "(default: 70.0)",
        "--scenarios=PATH scenario folder or file; repeat it for several (default: scenarios)",
        "--seeds=N run only the first N seeds of each scenario",
        "(default: every seed)",
    ):
        assert expected in text


def test_bad_option_and_refused_mode_stop_pytest_with_one_clear_line(tmp_path):
    bad = _pytest("--telemetry-interval", "-1", cwd=tmp_path)
    assert bad.returncode == 4
    assert "argument --telemetry-interval: must be 0 (off) or at least 0.01 seconds, got '-1'" in bad.stderr
    assert "Traceback" not in bad.stderr
    refused = _pytest("--benchmark", "--benchmark-disable", cwd=tmp_path)
    assert refused.returncode == 4 and "benchsuite refuses --benchmark with --benchmark-disable" in refused.stderr
    ranks = _pytest("--nnodes", "2", "--node-rank", "2", cwd=tmp_path)
    assert ranks.returncode == 4 and "--node-rank 2 must be below --nnodes 2" in ranks.stderr


@pytest.mark.parametrize(
    ("flag", "value", "reason"),
    [
        ("--results-dir", "a_file", "File exists"),
        ("--results-dir", "a_file/results", "Not a directory"),
        ("--reports-dir", "/proc/benchsuite-reports", "No such file or directory"),
    ],
)
def test_an_unwritable_results_or_reports_folder_is_refused_before_anything_trains(tmp_path, flag, value, reason):
    (tmp_path / "a_file").write_text("not a folder")
    done = _pytest("--benchmark", flag, value, "--scenarios", "none", cwd=tmp_path)
    assert done.returncode == 4 and "Traceback" not in done.stderr + done.stdout
    assert f"benchsuite: {flag} {value} cannot be written: " in done.stderr and reason in done.stderr
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())
