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
    loaded = load_scenarios([SCENARIOS])
    assert not loaded.errors and len(loaded.scenarios) >= 11
    for _, spec in loaded.scenarios:
        for case in expand_cases(spec, "cuda"):
            # at least 1 s: NVML's power reading is a 1-s average on Hopper, and 3x the samples a summary needs
            need = max(1.0, 3 * MIN_TIMED_SAMPLES * DEFAULT_INTERVAL_S)
            assert case.config.train.min_timed_s >= need, (spec.name, case.case_id)
        assert all(case.config.train.min_timed_s == 0.0 for case in expand_cases(spec, "cpu")), spec.name
