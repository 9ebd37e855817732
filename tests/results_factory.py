"""Build results-file dicts by hand (pytest-benchmark's JSON shape) for analysis and report tests."""

from __future__ import annotations

from conftest import tiny_spec

from benchsuite.scenario import ScenarioSpec

SPEC = ScenarioSpec.model_validate(
    tiny_spec(
        seeds=[0, 1, 2, 3],
        claims=[{"says": "Xavier is faster", "metric": "time_to_target_s", "better": "lower",
                 "cases": {"init": ["xavier_uniform"]}, "against": {"init": "default"}}],
    )
)  # fmt: skip


def run_entry(case: str, seed: int, ttt: float | None, final: float, timed: float = 2.0) -> dict:
    """One benchmark entry: a run of ``init=<case>`` reaching the target at ``ttt`` seconds (None: never)."""
    curve = [
        {"step": 0, "epoch": 0.0, "timed_s": 0.0, "train_loss": None, "val_loss": 2.0, "val_accuracy": 0.1},
        {"step": 10, "epoch": 1.0, "timed_s": timed / 2, "train_loss": 1.0, "val_loss": 1.0, "val_accuracy": final - 0.1},
        {"step": 20, "epoch": 2.0, "timed_s": timed, "train_loss": 0.5, "val_loss": 0.5, "val_accuracy": final},
    ]  # fmt: skip
    info = {
        "run_id": f"tiny[init={case}-seed={seed}]", "scenario": "tiny", "case_id": f"init={case}", "seed": seed,
        "axes": {"init": case}, "is_baseline": case == "default", "device": "cpu", "status": "ok", "steps": 20,
        "budget_steps": 20, "epochs": 2.0, "samples": 320, "batch_size": 16, "timed_s": timed, "warmup_s": 0.1,
        "eval_s": 0.2, "setup_s": 0.1, "step_time_s": timed / 20, "throughput_samples_per_s": 320 / timed,
        "reached_target": ttt is not None, "time_to_target_s": ttt, "steps_to_target": None if ttt is None else 10,
        "epochs_to_target": None if ttt is None else 0.5, "final_val_metric": final, "final_val_accuracy": final, "final_val_loss": 0.5,
        "val_metric_epoch1": final - 0.1, "target_metric": "val_accuracy", "target_value": 0.99, "num_params": 10,
        "fault_step": None, "curve": curve, "process_cpu_pct_mean": 180.0 + seed, "process_rss_mib_peak": 300.0,
        "achieved_flops_per_s": 2.5e9, "mfu": None, "gpu_telemetry": "not a CUDA run",
        "timeline": [{"t_s": 0.0, "process_cpu_pct": 150.0}, {"t_s": 0.1, "process_cpu_pct": 190.0}],
    }  # fmt: skip
    return {"name": f"test_scenario[{info['run_id']}]", "stats": {"median": timed}, "extra_info": info}


def results_data(default_ttt=(2.0, 2.2, 2.4, None), xavier_ttt=(1.0, 1.1, 1.2, 1.3)) -> dict:
    """A results dict: 4 seeds of init=default and init=xavier_uniform."""
    benchmarks = [run_entry("default", s, t, 0.90) for s, t in enumerate(default_ttt)]
    benchmarks += [run_entry("xavier_uniform", s, t, 0.93) for s, t in enumerate(xavier_ttt)]
    return {
        "machine_info": {"python_version": "3.11.7", "benchsuite": {
            "machine_id": "cpu-test-2c", "device": "cpu", "cpu_model": "Test CPU", "cpu_logical_cores": 2,
            "torch_version": "2.13.0", "gpu": {"count": 0}}},
        "commit_info": {"id": "abc123"},
        "benchmarks": benchmarks,
        "datetime": "2026-11-21T00:00:00+00:00",
        "version": "5.0",
        "benchsuite": {"run_id": "20261121T000000Z", "machine_id": "cpu-test-2c",
                       "scenarios": {"tiny": SPEC.model_dump(mode="json")}, "scenario_errors": []},
    }  # fmt: skip
