"""Matrix expansion: cartesian product, axis values applied, ids, baselines."""

from __future__ import annotations

import pytest
from conftest import tiny_spec

from benchsuite.scenario.matrix import expand_cases, expand_runs
from benchsuite.specs.scenario import ScenarioSpec


def _spec(**overrides) -> ScenarioSpec:
    return ScenarioSpec.model_validate(tiny_spec(**overrides))


def test_product_of_axes_in_axis_order():
    spec = _spec(matrix={"norm": ["none", "layernorm"], "init": ["default", "xavier_normal", "kaiming_uniform"]})
    cases = expand_cases(spec)
    assert len(cases) == 6
    assert [c.case_id for c in cases[:3]] == [
        "init=default-norm=none",
        "init=default-norm=layernorm",
        "init=xavier_normal-norm=none",
    ]


def test_axis_values_are_applied_to_the_config():
    spec = _spec(matrix={"init": ["xavier_normal"], "norm": ["batchnorm"]})
    (case,) = expand_cases(spec)
    assert case.config.techniques.init == "xavier_normal"
    assert case.config.techniques.norm == "batchnorm"
    assert case.config.train == spec.train and case.config.target == spec.target


def test_model_axis_replaces_the_model():
    spec = _spec(matrix={"model": [{"name": "mlp", "hidden": [4]}, {"name": "cnn1d", "channels": [3]}]})
    cases = expand_cases(spec)
    assert [c.case_id for c in cases] == ["model=mlp", "model=cnn1d"]
    assert cases[1].config.workload.model.channels == (3,)
    assert cases[0].config.workload.model.hidden == (4,)


def test_runs_are_cases_times_seeds_with_readable_ids():
    runs = expand_runs(_spec(seeds=[0, 1, 7]))
    assert len(runs) == 2 * 3
    assert runs[0].run_id == "tiny[init=default-seed=0]"
    assert runs[-1].run_id == "tiny[init=xavier_uniform-seed=7]"
    assert str(runs[-1]) == runs[-1].run_id


def test_no_matrix_gives_one_base_case():
    (case,) = expand_cases(_spec(matrix={}))
    assert case.case_id == "base" and case.is_baseline


def test_baseline_defaults_to_first_values():
    flags = [c.is_baseline for c in expand_cases(_spec())]
    assert flags == [True, False]


def test_baseline_fixes_only_the_axes_it_names():
    spec = _spec(
        matrix={"model": [{"name": "mlp"}, {"name": "cnn1d"}], "norm": ["none", "batchnorm"]},
        baseline={"norm": "none"},
    )
    baselines = [c.case_id for c in expand_cases(spec) if c.is_baseline]
    assert baselines == ["model=mlp-norm=none", "model=cnn1d-norm=none"]


def test_per_device_overrides_merge_into_the_base_for_that_device():
    spec = _spec(per_device={"cuda": {"workload": {"dataset": {"num_samples": 1000}}, "train": {"batch_size": 64}}})
    cpu, cuda = expand_cases(spec, "cpu")[0], expand_cases(spec, "cuda")[0]
    assert cpu.config.workload.dataset.num_samples == 64 and cpu.config.train.batch_size == 16
    assert cuda.config.workload.dataset.num_samples == 1000 and cuda.config.train.batch_size == 64
    assert cuda.config.workload.dataset.shape == (1, 8)  # untouched keys are kept
    assert cuda.config.train.lr == spec.train.lr


def test_bad_per_device_override_names_device_and_field():
    import pytest

    with pytest.raises(ValueError, match=r"per_device.cuda gives 'train.batch_size'.*got -1"):
        _spec(per_device={"cuda": {"train": {"batch_size": -1}}})


def test_per_device_matrix_resizes_axis_values_and_keeps_their_labels():
    matrix = {
        "model": [{"name": "mlp", "hidden": [8]}, {"name": "cnn1d", "channels": [4]}],
        "norm": ["none", "batchnorm"],
    }
    cuda = {
        "matrix": {"model": [{"name": "mlp", "hidden": [64, 64]}, {"name": "cnn1d", "channels": [32, 32]}]},
        "train": {"batch_size": 32},
    }
    spec = _spec(matrix=matrix, baseline={"norm": "none"}, per_device={"cuda": cuda})
    cpu_cases, cuda_cases = expand_cases(spec, "cpu"), expand_cases(spec, "cuda")
    assert [c.case_id for c in cpu_cases] == [c.case_id for c in cuda_cases]
    assert [c.is_baseline for c in cpu_cases] == [c.is_baseline for c in cuda_cases]
    assert cpu_cases[0].config.workload.model.hidden == (8,) and cuda_cases[0].config.workload.model.hidden == (64, 64)
    assert cuda_cases[2].config.workload.model.channels == (32, 32) and cuda_cases[0].config.train.batch_size == 32
    assert spec.matrix_for("cpu") is spec.matrix


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (
            {"model": [{"name": "cnn1d"}, {"name": "mlp"}]},
            r"per_device.cuda.matrix.model has the labels \['cnn1d', 'mlp'\]"
            r" where the matrix has \['mlp', 'cnn1d'\]: a device may resize a case, not rename",
        ),
        ({"model": [{"name": "mlp"}]}, r"has the labels \['mlp'\] where the matrix has \['mlp', 'cnn1d'\]"),
        (
            {"init": ["xavier_uniform"]},
            r"per_device.cuda.matrix names axis 'init', which is not in the matrix \['model'\]",
        ),
        ({"model": [{"name": "mlp", "hidden": [-1]}, {"name": "cnn1d"}]}, r"per_device.cuda.matrix gives 'model.0"),
        (["model"], r"per_device.cuda.matrix must map matrix axes to lists"),
    ],
)
def test_per_device_matrix_may_not_rename_add_or_drop_a_case(matrix, message):
    with pytest.raises(ValueError, match=message):
        _spec(matrix={"model": [{"name": "mlp"}, {"name": "cnn1d"}]}, per_device={"cuda": {"matrix": matrix}})


def test_scalar_axes_have_readable_labels_and_baselines():
    spec = _spec(
        matrix={"batch_size": [16, 32], "lr_scaling": ["linear", "sqrt"]},
        baseline={"batch_size": 16},
        train={**tiny_spec()["train"], "base_batch_size": 16},
    )
    cases = expand_cases(spec)
    assert [c.case_id for c in cases][:2] == ["batch_size=16-lr_scaling=linear", "batch_size=16-lr_scaling=sqrt"]
    assert [c.is_baseline for c in cases] == [True, True, False, False]
    assert cases[2].config.train.batch_size == 32 and cases[3].config.train.lr_scaling == "sqrt"


def test_seed_major_order_interleaves_the_cases():
    runs = expand_runs(_spec(seeds=[0, 1, 2]))
    assert [(r.case.case_id, r.seed) for r in runs[:3]] == [
        ("init=default", 0),
        ("init=xavier_uniform", 0),
        ("init=default", 1),
    ]
    case_major = expand_runs(_spec(seeds=[0, 1, 2]), order="case-major")
    assert [r.seed for r in case_major[:3]] == [0, 1, 2]


def test_random_order_shuffles_cases_within_each_seed_block_reproducibly():
    spec = _spec(
        seeds=list(range(6)), matrix={"init": ["default", "xavier_uniform", "xavier_normal", "kaiming_normal"]}
    )
    runs = expand_runs(spec, order="random", order_seed=11)
    assert runs == expand_runs(spec, order="random", order_seed=11)  # the recorded seed gives the order back
    blocks = [runs[i : i + 4] for i in range(0, 24, 4)]
    assert all(
        {r.seed for r in block} == {i} and len({r.case.case_id for r in block}) == 4 for i, block in enumerate(blocks)
    )
    assert len({tuple(r.case.case_id for r in block) for block in blocks}) > 1  # not the same order in every block
    assert runs != expand_runs(spec, order="random", order_seed=12)


def test_unknown_run_order_is_refused():
    import pytest

    with pytest.raises(ValueError, match="unknown run order 'sideways'"):
        expand_runs(_spec(), order="sideways")


def test_step_timing_pairs_each_selected_case_with_its_reference():
    from benchsuite.scenario.matrix import timing_pairs

    spec = _spec(
        matrix={"norm": ["none", "batchnorm", "layernorm"], "init": ["default", "xavier_uniform"]},
        step_timing={"cases": {"norm": ["batchnorm"]}, "against": {"norm": "none"}, "blocks": 6},
    )
    pairs = timing_pairs(spec)
    assert [(p.case.case_id, p.reference.case_id) for p in pairs] == [
        ("init=default-norm=batchnorm", "init=default-norm=none"),
        ("init=xavier_uniform-norm=batchnorm", "init=xavier_uniform-norm=none"),
    ]
    assert (
        pairs[0].blocks == 6
        and pairs[0].run_id == "tiny[step-timing:init=default-norm=batchnorm-vs-init=default-norm=none]"
    )
    everything = _spec(matrix={"norm": ["none", "batchnorm", "layernorm"]}, step_timing={"against": {"norm": "none"}})
    assert len(timing_pairs(everything)) == 2 and timing_pairs(_spec()) == []
