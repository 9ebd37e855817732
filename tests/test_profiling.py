"""Profiled windows: the phases of a real CPU window, the reading of traces written by hand (the CUDA device timeline,
collectives, memory), the sync watch and HTA with fakes, the top operators, and the trace a person can open."""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from conftest import tiny_spec

from benchsuite.profiling import trace as reading
from benchsuite.profiling.hta import hta_breakdown
from benchsuite.profiling.operators import top_operators
from benchsuite.profiling.window import SYNC_WARNING, profile_case, sync_report, sync_watch
from benchsuite.scenario.matrix import expand_cases
from benchsuite.specs.profile import ProfileSpec
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.telemetry import phases

CPU = torch.device("cpu")
WINDOW = ProfileSpec(steps=3, wait=1, warmup=1)


def _cases(**overrides):
    return expand_cases(ScenarioSpec.model_validate(tiny_spec(**overrides)))


def _phase_ms(info: dict) -> dict[str, float]:
    return {row["phase"]: row["ms"] for row in info["phases"]}


@pytest.fixture(scope="module")
def tiny_profile(tmp_path_factory):
    trace = tmp_path_factory.mktemp("traces") / "tiny.json.gz"
    return profile_case(_cases()[0], CPU, WINDOW, trace_path=trace)


def test_the_phases_of_a_step_add_up_to_the_profiled_step(tiny_profile):
    info = tiny_profile
    assert info["status"] == "ok" and info["phases_from"] == "host" and info["steps"] == 3
    ms = _phase_ms(info)
    assert set(phases.STEP_PHASES) - {phases.LR_SCHEDULER} <= set(ms)  # a constant lr has no scheduler
    assert sum(ms.values()) == pytest.approx(info["step_ms"], rel=0.05)
    assert ms[phases.OTHER] < 0.25 * info["step_ms"]  # the marked phases hold most of the step
    assert info["unprofiled_step_ms"] > 0 and info["profiler_overhead"] == pytest.approx(
        info["step_ms"] / info["unprofiled_step_ms"]
    )
    assert info["syncs"]["checked"] is False  # a CPU step has nothing to wait for


def test_the_trace_is_chrome_trace_json_that_loads_again(tiny_profile):
    trace = json.loads(gzip.decompress(Path(tiny_profile["trace"]).read_bytes()))
    assert isinstance(trace["traceEvents"], list) and trace["traceEvents"]
    assert all("ph" in e for e in trace["traceEvents"])
    assert len(reading.step_spans(trace)) == 3  # the recorded steps, readable again
    assert {s.label for s in reading.phase_spans(trace)} >= {phases.FORWARD, phases.BACKWARD}
    assert tiny_profile["trace_bytes"] == Path(tiny_profile["trace"]).stat().st_size


def test_a_trace_over_its_bound_is_left_out_with_the_reason(tmp_path):
    info = profile_case(_cases()[0], CPU, WINDOW.model_copy(update={"max_trace_mib": 1e-6}), trace_path=tmp_path / "t")
    assert info["trace"] is None and "left out" in info["trace_note"] and not (tmp_path / "t").exists()


def test_a_large_linear_layer_spends_its_forward_in_matrix_multiplication(tmp_path):
    spec = {"name": "synthetic", "shape": [1024], "num_samples": 2048, "val_samples": 16, "num_classes": 1024}
    case = _cases(
        workload={"dataset": spec, "model": {"name": "mlp", "hidden": []}},
        train={"optimizer": "sgd", "batch_size": 512, "max_epochs": 1},
        matrix={},
    )[0]
    info = profile_case(case, CPU, WINDOW, trace_path=tmp_path / "linear.json.gz")
    trace = json.loads(gzip.decompress((tmp_path / "linear.json.gz").read_bytes()))
    forward = [s for s in reading.phase_spans(trace) if s.label == phases.FORWARD]
    matmul_us = sum(
        e["dur"]
        for e in trace["traceEvents"]
        if e.get("cat") == "cpu_op"
        and e.get("name") in ("aten::addmm", "aten::mm")
        and any(s.contains(e["ts"]) for s in forward)
    )
    assert matmul_us > 0.5 * sum(s.end - s.start for s in forward)
    assert info["top_ops"][0]["name"] in ("aten::addmm", "aten::mm") and info["top_ops"][0]["gflop_per_step"] > 0.5


def test_a_dataloader_waits_longer_for_its_batch_than_preloaded_tensors():
    loaders = ["preloaded", {"name": "dataloader", "num_workers": 0, "label": "loader"}]
    preloaded, loader = _cases(matrix={"loader": loaders})
    waits = [_phase_ms(profile_case(c, CPU, WINDOW))[phases.NEXT_BATCH] for c in (preloaded, loader)]
    assert waits[1] > 2 * waits[0]


def _x(cat, name, ts, dur, tid=1, **args):
    return {"ph": "X", "cat": cat, "name": name, "pid": 7, "tid": tid, "ts": ts, "dur": dur, "args": args}


def _range(phase, ts, dur, tid=1):
    return _x("user_annotation", phases.range_name(phase), ts, dur, tid)


def test_self_times_give_every_instant_to_the_innermost_range():
    window = reading.Span("step", 0.0, 100.0)
    spans = [reading.Span("backward", 10.0, 60.0), reading.Span("communication", 40.0, 50.0)]
    assert reading.self_times(window, spans) == {"other": 50.0, "backward": 40.0, "communication": 10.0}


def test_host_phases_carve_collectives_out_of_the_training_thread_only():
    events = [
        _x("user_annotation", "ProfilerStep#3", 0, 100),
        _range(phases.FORWARD, 5, 20),
        _range(phases.BACKWARD, 30, 60),
        _x("cpu_op", "c10d::allreduce_", 80, 5),
        _x("user_annotation", "gloo:all_reduce", 40, 30, tid=9),  # on the process group's thread: overlapped
    ]
    (step,) = reading.host_phases({"traceEvents": events})
    assert step == {"other": 20.0, "forward": 20.0, "backward": 55.0, "communication": 5.0}
    assert reading.overlapped_collectives({"traceEvents": events}) == [30.0]


def test_device_phases_follow_each_kernel_to_the_range_that_launched_it():
    events = [
        _x("user_annotation", "ProfilerStep#1", 0, 100),
        _range(phases.FORWARD, 0, 20),
        _range(phases.BACKWARD, 20, 50),
        _range(phases.OPTIMIZER, 70, 20),
        _x("user_annotation", "Optimizer.step#Adam.step", 71, 18),  # torch's own range inside the phase
        _x("cuda_runtime", "cudaLaunchKernel", 2, 1, correlation=1),
        _x("cuda_runtime", "cudaLaunchKernel", 25, 1, tid=2, correlation=2),  # the autograd thread
        _x("cuda_runtime", "cudaLaunchKernel", 75, 1, correlation=3),
        _x("kernel", "gemm", 10, 30, tid=7, correlation=1),
        _x("kernel", "gemm_backward", 40, 20, tid=7, correlation=2),
        _x("kernel", "adam", 80, 10, tid=7, correlation=3),
        _x("kernel", "orphan", 95, 5, tid=7, correlation=99),  # no launch recorded: left out
    ]
    (step,) = reading.device_phases({"traceEvents": events})
    assert step["forward"] == 30.0 and step["backward"] == 20.0 and step["optimizer step"] == 10.0
    assert step["idle"] == pytest.approx(100.0 - 60.0) and step["other"] == 0.0
    assert sum(step.values()) == pytest.approx(100.0)


def test_peak_memory_per_phase_counts_the_level_it_started_from():
    def memory(ts, total, device=1):
        return {"ph": "i", "name": "[memory]", "ts": ts, "args": {"Device Type": device, "Total Allocated": total}}

    mib = 2**20
    events = [
        _range(phases.FORWARD, 10, 10),
        _range(phases.OPTIMIZER, 30, 10),
        memory(5, 4 * mib),
        memory(12, 9 * mib),
        memory(15, 6 * mib),
        memory(35, 5 * mib),
        memory(36, 2 * mib),
        memory(12, 99 * mib, device=0),
    ]  # the last: a CPU event, another allocator
    peaks = reading.memory_peaks({"traceEvents": events}, device_type=1)
    assert peaks == {"forward": 9.0, "optimizer step": 6.0}


class FakeCuda:
    """The two calls of ``torch.cuda`` the sync watch makes."""

    def __init__(self) -> None:
        self.mode, self.calls = 0, []

    def get_sync_debug_mode(self) -> int:
        return self.mode

    def set_sync_debug_mode(self, mode) -> None:
        self.calls.append(mode)
        self.mode = mode


def test_the_sync_watch_counts_each_sync_with_its_source_and_restores_the_mode():
    cuda = FakeCuda()
    with pytest.warns(UserWarning, match="something else"):  # other warnings are passed on afterwards
        with sync_watch(torch.device("cuda"), cuda) as caught:
            for _ in range(4):
                warnings.warn(SYNC_WARNING + " (Triggered internally at X.cpp:1.)", UserWarning, stacklevel=1)
            warnings.warn("something else", UserWarning, stacklevel=1)
    assert cuda.calls == ["warn", 0] and cuda.mode == 0
    report = sync_report(caught, steps=2, trace={"traceEvents": []})
    assert report["checked"] and report["per_step"] == 2.0
    (source,) = report["sources"]  # the four warnings came from one line: this test's
    assert source["where"].endswith("tests/test_profiling.py:" + source["where"].rsplit(":", 1)[1])
    assert source["per_step"] == 2.0


def test_on_a_cpu_the_sync_watch_does_nothing():
    cuda = FakeCuda()
    with sync_watch(CPU, cuda) as caught:
        pass
    assert caught is None and cuda.calls == [] and sync_report(None, 3, {})["checked"] is False


def test_sync_calls_in_a_trace_are_counted_per_step_with_their_phase():
    events = [_x("user_annotation", f"ProfilerStep#{i}", 100 * i, 100) for i in range(2)]
    events += [_range(phases.NEXT_BATCH, 100 * i, 10) for i in range(2)]
    events += [_x("cuda_runtime", "cudaStreamSynchronize", 100 * i + 5, 1) for i in range(2)]
    assert reading.sync_calls({"traceEvents": events}) == {
        "per_step": {"cudaStreamSynchronize": 1.0},
        "phases": ["next batch"],
    }


def test_top_operators_rank_by_device_time_on_cuda_and_skip_ranges():
    def avg(key, cpu, device, count=4, flops=0):
        return SimpleNamespace(
            key=key,
            count=count,
            self_cpu_time_total=cpu,
            self_device_time_total=device,
            input_shapes=[[128, 40], []],
            flops=flops,
        )

    averages = [
        avg("benchsuite/forward", 900, 900),
        avg("ProfilerStep*", 999, 999),
        avg("aten::mm", 100, 4000, 8, 8e9),
        avg("aten::add_", 400, 100),
    ]
    on_device = top_operators(averages, steps=4, n=5, on_device=True)
    assert [o["name"] for o in on_device] == ["aten::mm", "aten::add_"]
    assert on_device[0] == {
        "name": "aten::mm",
        "calls_per_step": 2.0,
        "self_cpu_ms": 0.025,
        "self_device_ms": 1.0,
        "input_shapes": "128×40",
        "gflop_per_step": 2.0,
    }
    assert [o["name"] for o in top_operators(averages, 4, 5, on_device=False)] == ["aten::add_", "aten::mm"]


class FakeFrame:
    def __init__(self, rows):
        self.rows = rows

    def to_dict(self, orient):
        return self.rows


def test_hta_breakdown_with_a_fake_module_and_its_failures(tmp_path):
    seen = {}

    class Analysis:
        def __init__(self, trace_files, trace_dir):
            seen.update(files=trace_files, folder=trace_dir)

        def get_temporal_breakdown(self, visualize):
            return FakeFrame([{"rank": 0, "idle_time_pctg": 12.5}])

        def get_comm_comp_overlap(self, visualize):
            return FakeFrame([{"rank": 0, "comp_comm_overlap_pctg": 80.0}])

    traces = {0: tmp_path / "a.json.gz", 1: tmp_path / "a.rank1.json.gz"}
    breakdown, note = hta_breakdown(traces, SimpleNamespace(TraceAnalysis=Analysis))
    assert note is None and breakdown["temporal"][0]["idle_time_pctg"] == 12.5 and "comm_comp_overlap" in breakdown
    assert seen == {"files": {0: str(traces[0]), 1: str(traces[1])}, "folder": str(tmp_path)}

    class Broken(Analysis):
        def get_temporal_breakdown(self, visualize):
            raise IndexError("single positional indexer is out-of-bounds")

    breakdown, note = hta_breakdown(traces, SimpleNamespace(TraceAnalysis=Broken))
    assert breakdown is None and "IndexError" in note
    assert hta_breakdown({}, SimpleNamespace(TraceAnalysis=Analysis)) == (None, "no trace was kept for this window")


def test_without_hta_the_breakdown_says_how_to_install_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_hta(name, *args, **kwargs):
        if name == "hta":
            raise ImportError("No module named 'hta'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_hta)
    assert hta_breakdown({0: Path("x.json.gz")}) == (
        None,
        "Holistic Trace Analysis is not installed (pip install -e '.[gpu]')",
    )


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cuda_window_reads_the_device_timeline_and_checks_syncs(tmp_path):  # pragma: no cover - needs a GPU
    info = profile_case(_cases()[0], torch.device("cuda"), WINDOW, trace_path=tmp_path / "cuda.json.gz")
    assert info["phases_from"] == "device" and phases.IDLE in _phase_ms(info)
    assert info["syncs"]["checked"] and info["top_ops"][0]["self_device_ms"] is not None


def test_a_bad_profile_block_is_refused_with_its_field(tmp_path):
    from conftest import write_yaml

    from benchsuite.scenario.load import ScenarioError, load_scenario

    path = write_yaml(tmp_path / "tiny.yaml", tiny_spec(profile={"steps": 0, "trace": True}))
    with pytest.raises(ScenarioError) as refused:
        load_scenario(path)
    lines = str(refused.value).splitlines()
    assert any("field 'profile.steps': Input should be greater than 0 (got 0)" in line for line in lines)
    assert any("field 'profile.trace': Extra inputs are not permitted" in line for line in lines)


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (
            RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 bytes"),
            "oom",
            "CPU out of memory in the profiled window: DefaultCPUAllocator: can't allocate memory",
        ),
        (ValueError("bad widths\nmore"), "failed", "ValueError: bad widths"),
    ],
)
def test_a_window_that_raises_is_recorded_with_its_status(monkeypatch, error, status, message):
    from benchsuite.profiling import window

    def raising(*args, **kwargs):
        raise error

    monkeypatch.setattr(window, "record", raising)
    info = profile_case(_cases()[0], CPU, WINDOW)
    assert info["status"] == status and info["error"].startswith(message) and info["phases"] == []
