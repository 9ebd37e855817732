"""Build results-file dicts by hand (pytest-benchmark's JSON shape) for analysis and report tests: in the current
format (:func:`results_data`) and as format 1 wrote them (:func:`format1_data`); runs that ended early
(:func:`unfinished_entry`) or diverged (:func:`diverged_entry`), and files of several scenarios
(:func:`with_scenarios`), among them one of every way a run can fail (:func:`faults_data`); a scenario judged in
looks, with the top-up seeds of its later looks (:func:`sequential_data`)."""

from __future__ import annotations

import math

from conftest import tiny_spec

from benchsuite.specs.scenario import ScenarioSpec

SPEC = ScenarioSpec.model_validate(
    tiny_spec(
        seeds=[0, 1, 2, 3],
        top_up={"looks": 1},  # one look at the full error: the report's tests are not about top-ups
        claims=[
            {
                "says": "Xavier is faster",
                "metric": "time_to_target_s",
                "better": "lower",
                "cases": {"init": ["xavier_uniform"]},
                "against": {"init": "default"},
            }
        ],
    )
)


def run_entry(case: str, seed: int, ttt: float | None, final: float, timed: float = 2.0) -> dict:
    """One benchmark entry: a run of ``init=<case>`` reaching the target at ``ttt`` seconds (None: never)."""
    curve = [
        {"step": 0, "epoch": 0.0, "timed_s": 0.0, "train_loss": None, "val_loss": 2.0, "val_accuracy": 0.1},
        {
            "step": 10,
            "epoch": 1.0,
            "timed_s": timed / 2,
            "train_loss": 1.0,
            "val_loss": 1.0,
            "val_accuracy": final - 0.1,
        },
        {"step": 20, "epoch": 2.0, "timed_s": timed, "train_loss": 0.5, "val_loss": 0.5, "val_accuracy": final},
    ]
    info = {
        "run_id": f"tiny[init={case}-seed={seed}]",
        "scenario": "tiny",
        "case_id": f"init={case}",
        "seed": seed,
        "axes": {"init": case},
        "is_baseline": case == "default",
        "device": "cpu",
        "status": "ok",
        "steps": 20,
        "budget_steps": 20,
        "epochs": 2.0,
        "samples": 320,
        "batch_size": 16,
        "timed_s": timed,
        "warmup_s": 0.1,
        "eval_s": 0.2,
        "setup_s": 0.1,
        "step_time_s": timed / 20,
        "throughput_samples_per_s": 320 / timed,
        "reached_target": ttt is not None,
        "time_to_target_s": ttt,
        "steps_to_target": None if ttt is None else 10,
        "epochs_to_target": None if ttt is None else 0.5,
        "final_val_metric": final,
        "final_val_accuracy": final,
        "final_val_loss": 0.5,
        "val_metric_epoch1": final - 0.1,
        "target_metric": "val_accuracy",
        "target_value": 0.99,
        "num_params": 10,
        "fault_step": None,
        "curve": curve,
        "process_cpu_pct_mean": 180.0 + seed,
        "process_rss_mib_peak": 300.0,
        "step_time_s_median": timed / 20,
        "step_time_cv": 0.0,
        "unstable": False,
        "segments": [[timed / 2, 10]] * 2,
        "achieved_flops_per_s": 2.5e9,
        "mfu": None,
        "gpu_telemetry": "not a CUDA run",
        "timeline": [{"t_s": 0.0, "process_cpu_pct": 150.0}, {"t_s": 0.1, "process_cpu_pct": 190.0}],
    }
    return {"name": f"test_scenario[{info['run_id']}]", "stats": {"median": timed}, "extra_info": info}


def profile_entry(case: str, forward_ms: float, backward_ms: float, trace: str | None = None) -> dict:
    """The profiled window of ``init=<case>``: next batch, forward, backward, optimizer and other phases."""
    table = {"next batch": 0.05, "forward": forward_ms, "backward": backward_ms, "optimizer step": 0.3, "other": 0.02}
    step = sum(table.values())
    info = {
        "kind": "profile",
        "run_id": f"tiny[profile:init={case}]",
        "scenario": "tiny",
        "case_id": f"init={case}",
        "axes": {"init": case},
        "device": "cpu",
        "world_size": 1,
        "status": "ok",
        "phases_from": "host",
        "steps": 4,
        "step_ms": step,
        "unprofiled_step_ms": step / 1.2,
        "profiler_overhead": 1.2,
        "phases": [{"phase": p, "ms": ms, "share": ms / step, "peak_mib": 1.5} for p, ms in table.items()],
        "top_ops": [
            {
                "name": "aten::addmm",
                "calls_per_step": 2.0,
                "self_cpu_ms": forward_ms / 2,
                "self_device_ms": None,
                "input_shapes": "16×8, 8×16",
                "gflop_per_step": 0.001,
            }
        ],
        "syncs": {"checked": False, "per_step": 0.0, "sources": []},
        "trace": trace,
        "trace_bytes": 1000,
        "trace_note": None if trace else "no trace folder was given",
        "hta": None,
        "hta_note": "Holistic Trace Analysis reads CUDA traces; this window ran on a CPU",
        "ranks": [{"rank": 0, "step_ms": step, "trace": trace}],
    }
    return {"name": f"test_scenario[{info['run_id']}]", "stats": {"median": 0.0}, "extra_info": info}


def results_data(default_ttt=(2.0, 2.2, 2.4, None), xavier_ttt=(1.0, 1.1, 1.2, 1.3), profiles: bool = False) -> dict:
    """A results dict: 4 seeds of init=default and init=xavier_uniform (and with ``profiles``, a profiled window of
    each case, default's dearer in forward and backward)."""
    benchmarks = [run_entry("default", s, t, 0.90) for s, t in enumerate(default_ttt)]
    benchmarks += [run_entry("xavier_uniform", s, t, 0.93) for s, t in enumerate(xavier_ttt)]
    if profiles:
        benchmarks += [
            profile_entry("default", 0.4, 0.8, "20261121T000000Z/traces/tiny_init=default.json.gz"),
            profile_entry("xavier_uniform", 0.2, 0.4),
        ]
    return {
        "machine_info": {
            "python_version": "3.11.7",
            "benchsuite": {
                "machine_id": "cpu-test-2c",
                "device": "cpu",
                "cpu_model": "Test CPU",
                "cpu_logical_cores": 2,
                "torch_version": "2.13.0",
                "gpu": {"count": 0},
            },
        },
        "commit_info": {"id": "abc123"},
        "benchmarks": benchmarks,
        "datetime": "2026-11-21T00:00:00+00:00",
        "version": "5.0",
        "benchsuite": {
            "format": "benchsuite-results/3",
            "run_id": "20261121T000000Z",
            "machine_id": "cpu-test-2c",
            "scenarios": {"tiny": SPEC.model_dump(mode="json")},
            "scenario_errors": [],
            "run_order": {"mode": "case-major", "seed": None},
        },
    }


def format1_data(**kwargs) -> dict:
    """:func:`results_data` as format 1 wrote it: no step-time statistics or segments, no run order, the machine id
    of the CPU's marketing name, and pytest-benchmark's py-cpuinfo record of a Zen 3 EPYC."""
    data = results_data(**kwargs)
    data["benchsuite"]["format"] = "benchsuite-results/1"
    del data["benchsuite"]["run_order"]
    for bench in data["benchmarks"]:
        for key in ("step_time_s_median", "step_time_cv", "unstable", "segments"):
            del bench["extra_info"][key]
    data["machine_info"]["cpu"] = {
        "vendor_id_raw": "AuthenticAMD",
        "family": 25,
        "model": 1,
        "stepping": 1,
        "brand_raw": "AMD EPYC",
        "flags": ["avx2", "fma"],
    }
    data["machine_info"]["benchsuite"]["machine_id"] = data["benchsuite"]["machine_id"] = "cpu-amd-epyc-2c"
    return data


def synthetic_results(
    scenarios: int = 10, cases: int = 50, seeds: int = 5, points: int = 20, factor: float = 1.0
) -> dict:
    """A large results dict for speed benchmarks: ``scenarios`` × ``cases`` (a dropout axis) × ``seeds`` runs, each
    with a curve of ``points`` evaluations, segments and a short timeline; one claim per scenario. ``factor`` scales
    every time (another machine)."""
    import random

    rng = random.Random(0)
    dropouts = [round(i / (2 * cases), 4) for i in range(cases)]
    specs, benchmarks = {}, []
    for s in range(scenarios):
        name = f"s{s}"
        claim = {"says": "dropout 0.01 is faster", "cases": {"dropout": [dropouts[1]]}, "against": {"dropout": 0.0}}
        spec = ScenarioSpec.model_validate(
            tiny_spec(name=name, seeds=list(range(seeds)), matrix={"dropout": dropouts}, claims=[claim])
        )
        specs[name] = spec.model_dump(mode="json")
        for seed in range(seeds):
            for c, dropout in enumerate(dropouts):
                ttt = factor * (1.0 + 0.01 * c) * rng.uniform(0.9, 1.1)
                bench = run_entry("x", seed, ttt, 0.9, timed=2 * ttt)
                info = bench["extra_info"]
                case = f"dropout={dropout:g}"
                info.update(
                    scenario=name,
                    case_id=case,
                    axes={"dropout": f"{dropout:g}"},
                    is_baseline=c == 0,
                    run_id=f"{name}[{case}-seed={seed}]",
                    steps_to_target=100 + c,
                    curve=[
                        {**info["curve"][-1], "step": 10 * i, "epoch": i / 2, "timed_s": 0.1 * i * factor}
                        for i in range(points)
                    ],
                )
                benchmarks.append(bench)
    data = results_data()
    data["benchmarks"] = benchmarks
    data["benchsuite"]["scenarios"] = specs
    data["benchsuite"]["run_order"] = {"mode": "seed-major", "seed": None}
    return data


#: How a run that never finished its loop is recorded (as the run side's ``training.record.unfinished`` writes it).
UNFINISHED = {
    "steps": 0,
    "budget_steps": 0,
    "epochs": 0.0,
    "samples": 0,
    "timed_s": 0.0,
    "warmup_s": 0.0,
    "eval_s": 0.0,
    "setup_s": 0.0,
    "step_time_s": None,
    "throughput_samples_per_s": None,
    "reached_target": False,
    "time_to_target_s": None,
    "steps_to_target": None,
    "epochs_to_target": None,
    "final_val_metric": None,
    "final_val_accuracy": None,
    "final_val_loss": None,
    "val_metric_epoch1": None,
    "num_params": 0,
    "curve": [],
    "timeline": [],
    "segments": [],
    "step_time_s_median": None,
    "step_time_cv": None,
    "process_cpu_pct_mean": None,
    "process_rss_mib_peak": None,
    "achieved_flops_per_s": None,
}


def unfinished_entry(case: str, seed: int, status: str, error: str = "RuntimeError: boom", **info) -> dict:
    """A run of ``init=<case>`` that ended before its first evaluation with ``status`` (``crashed``, ``timeout``,
    ``oom``, ``failed``) and ``error``: no curve, no figures."""
    bench = run_entry(case, seed, None, 0.0)
    bench["extra_info"].update(UNFINISHED, status=status, error=error, fault_stage="model build", **info)
    bench["stats"]["median"] = 0.0
    return bench


def diverged_entry(case: str, seed: int, at_step: int = 20) -> dict:
    """A run of ``init=<case>`` whose loss became NaN: a curve with NaN losses after step 0, accuracy at chance,
    status ``diverged`` at ``at_step``, no time-to-target."""
    bench = run_entry(case, seed, None, 0.1)
    info = bench["extra_info"]
    for point in info["curve"][1:]:
        point.update(train_loss=math.nan, val_loss=math.nan, val_accuracy=0.1)
    info.update(status="diverged", fault_step=at_step, fault_stage="training", final_val_loss=math.nan)
    return bench


def in_scenario(name: str, benches: list[dict], **spec) -> tuple[str, dict, list[dict]]:
    """``benches`` moved to scenario ``name`` (a copy of :data:`SPEC` under that name, its fields replaced by
    ``spec``): (name, stored spec, entries), for :func:`with_scenarios`."""
    stored = ScenarioSpec.model_validate(tiny_spec(**{**SPEC.model_dump(mode="json"), "name": name, **spec}))
    for bench in benches:
        info = bench["extra_info"]
        info["scenario"] = name
        info["run_id"] = info["run_id"].replace("tiny[", f"{name}[", 1)
        bench["name"] = f"test_scenario[{info['run_id']}]"
    return name, stored.model_dump(mode="json"), benches


def with_scenarios(*scenarios: tuple[str, dict, list[dict]], data: dict | None = None) -> dict:
    """:func:`results_data` (or ``data``) with the scenarios of :func:`in_scenario` added after its own."""
    data = data or results_data()
    for name, spec, benches in scenarios:
        data["benchsuite"]["scenarios"][name] = spec
        data["benchmarks"] += benches
    return data


ENDINGS = ("crashed", "timeout", "oom", "failed")  # every way a run can end before its first evaluation
CASES = ("default", "xavier_uniform")


def _on_axis(benches: list[dict], axis: str, values: tuple[str, str]) -> list[dict]:
    """The entries' ``init`` axis replaced by ``axis`` (``values``: one per case of :data:`CASES`)."""
    for bench in benches:
        info = bench["extra_info"]
        value = values[CASES.index(info["axes"]["init"])]
        info.update(axes={axis: value}, case_id=f"{axis}={value}", is_baseline=value == values[0])
        info["run_id"] = f"{info['run_id']}-{axis}={value}"
    return benches


def _crashed() -> list[dict]:
    """Every run crashed, timed out, ran out of memory or failed; the paired step timing failed; both profiled
    windows ran out of memory."""
    runs = [unfinished_entry(c, s, ENDINGS[s]) for c in CASES for s in range(4)]
    timing = {
        "kind": "step_timing",
        "run_id": "tiny[step-timing:init=xavier_uniform-vs-init=default]",
        "scenario": "tiny",
        "case_id": "init=xavier_uniform",
        "against_id": "init=default",
        "axes": {"init": "xavier_uniform"},
        "status": "failed",
        "error": "RuntimeError: boom",
        "blocks": [],
    }
    windows = [profile_entry(c, 0.1, 0.1) for c in CASES]
    for window in windows:
        window["extra_info"].update(status="oom", error="out of memory in the profiled window", phases=[], top_ops=[])
    return [*runs, {"name": "timing", "stats": {"median": 0.0}, "extra_info": timing}, *windows]


def faults_data() -> dict:
    """The tiny scenario as it ran well, and beside it: every run crashed (:func:`_crashed`), every run diverged,
    every run missed the target, a single run, and batch-size and world-size scenarios whose every run ended early."""
    oom = [unfinished_entry(c, s, "oom") for c in CASES for s in range(2)]
    crashed = [unfinished_entry(c, 0, "crashed") for c in CASES]
    return with_scenarios(
        in_scenario("crashed", _crashed()),
        in_scenario("diverged", [diverged_entry(c, s) for c in CASES for s in range(4)]),
        in_scenario("missed", [run_entry(c, s, None, 0.5) for c in CASES for s in range(4)]),
        in_scenario("single", [run_entry("default", 0, 1.0, 0.99)]),
        in_scenario("batch", _on_axis(oom, "batch_size", ("16", "32")), matrix={"batch_size": [16, 32]}, claims=[]),
        in_scenario("ranks", _on_axis(crashed, "world_size", ("1", "2")), matrix={"world_size": [1, 2]}, claims=[]),
    )


def sequential_data(case_ttt, reference_ttt, *, first: int = 7, looks: int = 3, timed: float = 2.0) -> dict:
    """:func:`results_data` with the tiny scenario planned in ``looks`` looks of ``first`` seeds (``top_up``), run
    seed-major: init=xavier_uniform reaching the target at ``case_ttt[i]`` seconds for seed i and init=default at
    ``reference_ttt[i]`` (None: missed, cut off at ``timed`` seconds); as many seeds as given, the top-ups of later
    looks included (seeds first, first + 1, ...)."""
    spec = ScenarioSpec.model_validate(
        tiny_spec(**{**SPEC.model_dump(mode="json"), "seeds": list(range(first)), "top_up": {"looks": looks}})
    )
    data = results_data()
    data["benchmarks"] = [run_entry("default", s, t, 0.90, timed) for s, t in enumerate(reference_ttt)]
    data["benchmarks"] += [run_entry("xavier_uniform", s, t, 0.93, timed) for s, t in enumerate(case_ttt)]
    data["benchsuite"]["scenarios"] = {"tiny": spec.model_dump(mode="json")}
    data["benchsuite"]["run_order"] = {"mode": "seed-major", "seed": None}
    return data


def commit_results(
    k: int, *, step_at: int | None = None, factor: float = 1.3, machine: str = "cpu-test-2c", noise: float = 0.03
) -> dict:
    """The results of commit ``k`` of a synthetic history: 4 seeds of init=default and init=xavier_uniform, every
    time drawn within ±``noise`` of its level (seeded by commit and seed); from commit ``step_at`` on, every time
    (time-to-target, step time, timed seconds) ``factor`` times longer, and the throughput ``factor`` times lower.
    The commit id repeats ``k + 1`` in hex (``"1111…"``), dated 2026-11-01 plus ``k`` days, on machine
    ``machine``."""
    import random

    scale = factor if step_at is not None and k >= step_at else 1.0
    data = results_data()
    benchmarks = []
    for case, level in (("default", 2.0), ("xavier_uniform", 1.2)):
        for seed in range(4):
            rng = random.Random(1000 * k + seed + (0 if case == "default" else 500))
            ttt = level * scale * rng.uniform(1 - noise, 1 + noise)
            benchmarks.append(run_entry(case, seed, ttt, 0.9, timed=2 * ttt))
    data["benchmarks"] = benchmarks
    data["commit_info"] = {
        "id": (f"{k + 1:x}" * 40)[:40],
        "time": f"2026-11-{k + 1:02d}T12:00:00+00:00",
        "dirty": False,
    }
    data["datetime"] = f"2026-11-{k + 1:02d}T13:00:00+00:00"
    data["benchsuite"]["run_id"] = f"202611{k + 1:02d}T130000Z"
    data["benchsuite"]["machine_id"] = data["machine_info"]["benchsuite"]["machine_id"] = machine
    return data
