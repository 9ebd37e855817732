"""The shipped scenarios' CUDA sizes: every run's timed window long enough for its telemetry (issue 21: timed regions
of 0.1-1 s on an H100 gave fewer than the samples a summary needs, so kernel-busy, power and energy-to-target were
missing for most runs)."""

from __future__ import annotations

from pathlib import Path

from benchsuite.scenario.load import load_scenarios
from benchsuite.scenario.matrix import expand_cases
from benchsuite.telemetry.summary import MIN_TIMED_SAMPLES

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DEFAULT_INTERVAL_S = 0.1  # the sampler's default (--telemetry-interval)


def test_every_cuda_case_times_enough_for_its_telemetry_and_the_cpu_cases_are_untouched():
    loaded = load_scenarios([SCENARIOS, SCENARIOS / "extended"])
    assert not loaded.errors and len(loaded.scenarios) >= 11
    for _, spec in loaded.scenarios:
        for case in expand_cases(spec, "cuda"):
            # at least 1 s: NVML's power reading is a 1-s average on Hopper, and 3x the samples a summary needs
            need = max(1.0, 3 * MIN_TIMED_SAMPLES * DEFAULT_INTERVAL_S)
            assert case.config.train.min_timed_s >= need, (spec.name, case.case_id)
        assert all(case.config.train.min_timed_s == 0.0 for case in expand_cases(spec, "cpu")), spec.name


def test_every_cuda_case_that_stops_at_its_target_evaluates_at_least_every_4096_samples():
    """The evaluation grid of a CUDA size (issue 21): a 50-step grid made batch 4096's first evaluation its target
    step. At most one evaluation per 4,096 samples, or every step where a step is larger, keeps the grid under 5 % of
    the steps-to-target that the CPU checks of these sizes found (benchsuite.analysis.grid flags a larger share)."""
    for _, spec in load_scenarios([SCENARIOS, SCENARIOS / "extended"]).scenarios:
        for case in expand_cases(spec, "cuda"):
            train = case.config.train
            if spec.target is None or not train.stop_at_target:  # no time-to-target, no grid
                continue
            interval = train.evaluation_interval_steps
            assert interval is not None, (spec.name, case.case_id)
            assert interval * train.global_batch_size <= max(4096, train.global_batch_size), (spec.name, case.case_id)


def test_batch_scaling_evaluates_every_2048_samples_on_cuda_whatever_the_batch():
    (spec,) = [s for _, s in load_scenarios([SCENARIOS, SCENARIOS / "extended"]).scenarios if s.name == "batch-scaling"]
    intervals = {
        case.config.train.batch_size: case.config.train.evaluation_interval_steps for case in expand_cases(spec, "cuda")
    }
    assert intervals == {32: 64, 128: 16, 512: 4, 2048: 1, 4096: 1}
    # the CPU size keeps its step grid
    assert {case.config.train.evaluation_interval_steps for case in expand_cases(spec, "cpu")} == {25}
