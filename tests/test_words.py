"""A scenario's workload in words: from the stored spec, at the size of the device that ran it, never a repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchsuite.report import verdict_words, words
from benchsuite.scenario.load import load_scenario

SCENARIOS = Path(__file__).parent.parent / "scenarios"


def _raw(name: str) -> dict:
    return load_scenario(SCENARIOS / f"{name}.yaml").model_dump(mode="json")


def test_batch_scaling_in_words():
    raw = _raw("batch-scaling")
    assert words.workload_text(raw) == (
        "MLP 40-256-256-10 on MNIST-1D, 8,000 training samples, Adam lr 1e-3, constant lr after a 2-epoch warm-up, "
        "batch 128, up to 60 epochs, target validation accuracy ≥ 0.60"
    )
    assert words.matrix_text(raw) == "Varies batch_size: 32, 128, 512, 2048, 4096; lr_scaling: linear, sqrt"
    assert words.workload_text(raw, "cuda").startswith("MLP 40-4096-4096-10 on MNIST-1D, 160,000 training samples")


def test_resized_models_are_described_at_the_size_that_ran():
    raw = _raw("norm")
    assert words.matrix_text(raw).startswith(
        "Varies model: mlp = MLP 40-256-256-10, cnn1d = 1-D CNN, channels 32-32-32"
    )
    assert words.matrix_text(raw, "cuda").startswith(
        "Varies model: mlp = MLP 40-4096-4096-10, cnn1d = 1-D CNN, channels 512-512-512, kernel 5, stride 2; norm: none"
    )


def test_optimizers_schedules_and_techniques_in_words():
    assert "sgd = SGD with momentum 0.9 lr 0.1" in words.matrix_text(_raw("optimizers"))
    assert "step = lr × 0.1 at epochs 10, 15" in words.matrix_text(_raw("schedules"))
    assert "AdamW lr 5e-3, weight decay 0.01" in words.workload_text(_raw("schedules"))
    assert "Varies precision: fp32, tf32, bf16, fp16" == words.matrix_text(_raw("precision"))
    for raw in (_raw(name) for name in ("init", "data-parallel", "known-answers", "precision-width")):
        assert "=" not in words.workload_text(raw) and "None" not in words.workload_text(raw)


@pytest.mark.parametrize(
    ("lr", "text"), [(1e-3, "1e-3"), (5e-5, "5e-5"), (2.5e-4, "2.5e-4"), (0.02, "0.02"), (0.1, "0.1")]
)
def test_lr_text(lr, text):
    assert words.lr_text(lr) == text


def test_a_stored_spec_missing_fields_is_described_with_what_it_has():
    old = {"workload": {"dataset": {"name": "mnist1d"}, "model": {"name": "mlp", "hidden": [64]}}, "train": {}}
    assert words.workload_text(old) == "MLP 40-64-10 on MNIST-1D, Adam"


# ---------------------------------------------------------------- the words beside a verdict


def _verdict(data=None):
    from results_factory import results_data

    from benchsuite.analysis.verdicts import claim_verdicts
    from benchsuite.results import frames

    data = data or results_data()
    runs, specs = frames.runs_frame(data), frames.scenario_specs(data)
    return claim_verdicts(runs, specs["tiny"], frames.blocks_frame(data), frames.blocked_by_seed(data))[0]


def test_each_interval_prints_its_level():
    from benchsuite.report import filters

    assert [filters.fmt_level(c) for c in (0.95, 0.975, 0.9875, 0.9, 0.9672)] == [
        "95 %",
        "97.5 %",
        "98.8 %",
        "90 %",
        "96.7 %",
    ]
    pair = _verdict().pairs[0]
    assert filters.fmt_pair(pair) == "2× [1.54×, ∞] 95 %"  # the overview's and the Markdown's words
    assert filters.fmt_effect(pair.effect) == "2× [1.54×, ∞]"  # the HTML table has a column of its own for it


def test_a_side_that_never_reached_reads_as_a_bound_with_its_budget():
    from results_factory import results_data

    from benchsuite.report import filters

    pair = _verdict(results_data(default_ttt=(None,) * 4)).pairs[0]  # default missed 4 times within 2 s
    assert filters.fmt_pair(pair) == "> 1.54× 95 % (0/4 reached within 2 s)"


def test_strength_look_and_fragility_in_words():
    from benchsuite.specs.claims import ClaimSpec

    verdict = _verdict()
    assert verdict.strength == "confirmed" and verdict_words.verdict_qualifiers(verdict) == []  # it states no effect
    stated = ClaimSpec.model_validate({"says": "x", "cases": {"a": ["x"]}, "against": {"a": "d"}, "min_ratio": 2.0})
    assert verdict_words.strength_text(stated, "confirmed") == "confirmed: at least 2×"
    assert verdict_words.strength_text(stated, "consistent") == "consistent with 2×: better, 2× not excluded"
    assert (
        verdict_words.strength_text(verdict.claim, "confirmed") is None
        and verdict_words.strength_text(stated, None) is None
    )
    fragile = type("V", (), {"fragile_seeds": (3,)})()
    assert verdict_words.fragile_text(fragile) == "fragile: leaving out seed 3 changes it"
    several = type("V", (), {"fragile_seeds": (1, 2), "fragile_quadruples": (4,)})()
    assert verdict_words.fragile_text(several) == "fragile: leaving out any one of seeds 1, 2 or quadruple 4 changes it"


def test_expected_false_verdicts_are_computed_from_the_claims():
    claims = [type("C", (), {"kind": kind})() for kind in ["better"] * 20 + ["equivalent"] * 2]
    text = verdict_words.expected_false_verdicts(claims)
    assert "at most 2.5 % of the time" in text and "5 % for no-loss and equivalence claims" in text
    assert "among this report's 22 judged claims, at most 0.6 false verdicts are expected" in text
    assert verdict_words.EXPECTED_FALSE_VERDICTS.count("{") == verdict_words.EXPECTED_FALSE_VERDICTS.count("}")
