"""Progressive resizing (fast.ai, Howard: small images first): the size schedule by hand, batches resized on the
device, evaluation at full size, bad schedules refused, and a small image scenario trained end to end."""

from __future__ import annotations

import pytest
import torch
from conftest import tiny_spec, write_yaml

from benchsuite.scenario.load import ScenarioError, load_scenario
from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.specs.serving import PreloadedLoader, ProgressiveResizingSpec, check_resizing_fits
from benchsuite.specs.workload import Cnn2dSpec, MlpSpec, ResNetSpec
from benchsuite.training import batches as serving

CPU = torch.device("cpu")
SCHEDULE = {"sizes": [14, 20, 28], "epochs": [2, 1]}


def _image_spec(**train) -> dict:
    """A tiny resnet on 64 random 28×28 images, batch 16 (4 steps an epoch), 4 epochs."""
    return tiny_spec(
        workload={
            "dataset": {"name": "synthetic", "shape": [1, 28, 28], "num_samples": 64, "val_samples": 32},
            "model": {"name": "resnet", "widths": [4, 8], "blocks": 1},
        },
        train={"optimizer": "sgd", "lr": 0.05, "batch_size": 16, "max_epochs": 4, "warmup_steps": 1, **train},
        target=None,
        matrix={},
    )


def test_the_size_schedule_by_hand():
    resizing = ProgressiveResizingSpec(**SCHEDULE)
    # 4 steps an epoch: epochs 0-1 (steps 0-7) at 14, epoch 2 (steps 8-11) at 20, then 28 to the end
    assert [resizing.size_at(step, 4) for step in range(16)] == [14] * 8 + [20] * 4 + [28] * 4
    assert resizing.size_at(10**6, 4) == 28
    # 3 steps an epoch moves the boundaries to steps 6 and 9
    assert [resizing.size_at(step, 3) for step in range(11)] == [14] * 6 + [20] * 3 + [28] * 2


def test_resized_images_keep_their_batch_and_channels_and_a_constant_stays_constant():
    x = torch.full((5, 1, 28, 28), 0.25)
    small = serving.resized(x, 14)
    assert small.shape == (5, 1, 14, 14) and torch.allclose(small, torch.full_like(small, 0.25))
    assert serving.resized(x, 28) is x  # native size: untouched
    ramp = torch.arange(28.0).expand(1, 1, 28, 28)  # a horizontal ramp: each 2×2 block averages two columns
    halved = serving.resized(ramp, 14)
    assert halved[0, 0, 0].tolist() == pytest.approx([2 * i + 0.5 for i in range(14)], abs=0.6)


def test_batches_shrink_in_the_first_epochs_and_reach_full_size_at_the_end():
    from benchsuite.workloads.datasets import build_synthetic

    config = expand_runs(ScenarioSpec.model_validate(_image_spec()))[0].case.config
    data = build_synthetic(config.workload.dataset)
    resizing = ProgressiveResizingSpec(**SCHEDULE)
    generator = torch.Generator().manual_seed(0)
    stream = serving.batch_stream(PreloadedLoader(name="preloaded"), data, data, 16, 16, generator, CPU,
                                  resizing=resizing)  # fmt: skip
    shapes = [tuple(x.shape) for x, _ in stream]
    assert shapes == [(16, 1, 14, 14)] * 8 + [(16, 1, 20, 20)] * 4 + [(16, 1, 28, 28)] * 4
    # the same samples as without resizing: only their size changes
    plain = serving.batch_stream(PreloadedLoader(name="preloaded"), data, data, 16, 16,
                                 torch.Generator().manual_seed(0), CPU)  # fmt: skip
    resized = serving.batch_stream(PreloadedLoader(name="preloaded"), data, data, 16, 16,
                                   torch.Generator().manual_seed(0), CPU, resizing=resizing)  # fmt: skip
    for (x, y), (small, y_small) in zip(plain, resized, strict=True):
        assert torch.equal(y, y_small) and torch.allclose(serving.resized(x, small.shape[-1]), small)


def _loop(spec: dict):
    from benchsuite.training.build import build_trainer
    from benchsuite.training.loop import Budget, TrainingLoop
    from benchsuite.workloads.datasets import load_dataset

    config = expand_runs(ScenarioSpec.model_validate(spec))[0].case.config
    data = load_dataset(config.workload.dataset, CPU)
    budget = Budget.of(config.train, len(data.train_y))
    trainer = build_trainer(config, data, CPU, budget.total_steps, budget.steps_per_epoch)
    return TrainingLoop(config, data, budget, CPU), trainer


def test_the_model_trains_small_and_is_evaluated_at_full_size():
    training_loop, trainer = _loop(_image_spec(progressive_resizing=SCHEDULE))
    seen: list[tuple[bool, int]] = []
    trainer.model.register_forward_pre_hook(lambda m, args: seen.append((m.training, args[0].shape[-1])))
    status, steps = training_loop.run(trainer, torch.Generator().manual_seed(0))
    assert (status, steps) == ("ok", 16)
    trained = [size for training, size in seen if training]
    assert trained == [14] * 8 + [20] * 4 + [28] * 4
    assert {size for training, size in seen if not training} == {28}  # every evaluation at full resolution


def test_an_extension_goes_on_at_the_size_the_run_ended_at():
    training_loop, _ = _loop(_image_spec(progressive_resizing=SCHEDULE))
    training_loop.steps_done = 16
    assert {x.shape[-1] for x, _ in training_loop._stream(torch.Generator(), total_steps=3)} == {28}
    training_loop.steps_done = 0
    assert [x.shape[-1] for x, _ in training_loop._stream(torch.Generator(), total_steps=3)] == [14, 14, 14]


def _error(tmp_path, data) -> str:
    path = write_yaml(tmp_path / "bad.yaml", data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message and "Traceback" not in message and len(message.splitlines()) == 1
    return message


@pytest.mark.parametrize(
    ("schedule", "field", "value"),
    [
        ({"sizes": [28, 14], "epochs": [2]}, "train.progressive_resizing.sizes", "[28, 14]"),
        ({"sizes": [14, 14, 28], "epochs": [1, 1]}, "train.progressive_resizing.sizes", "[14, 14, 28]"),
        ({"sizes": [0, 28], "epochs": [2]}, "train.progressive_resizing.sizes.0", "0"),
        ({"sizes": [14, 20, 28], "epochs": [2]}, "train.progressive_resizing", "epochs [2]"),
        ({"sizes": [14, 28], "epochs": [0]}, "train.progressive_resizing.epochs.0", "0"),
        ({"sizes": [28], "epochs": []}, "train.progressive_resizing.sizes", "[28]"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field_and_value(tmp_path, schedule, field, value):
    message = _error(tmp_path, _image_spec(progressive_resizing=schedule))
    assert f"field '{field}'" in message and value in message


def test_only_a_resolution_agnostic_model_on_native_square_images_is_accepted():
    resizing = ProgressiveResizingSpec(**SCHEDULE)
    check_resizing_fits(resizing, ResNetSpec(name="resnet"), (1, 28, 28))
    check_resizing_fits(resizing, ResNetSpec(name="resnet"), None)  # a local file: checked once it is read
    check_resizing_fits(None, Cnn2dSpec(name="cnn2d"), (1, 28, 28))  # no resizing: anything goes
    for model in (Cnn2dSpec(name="cnn2d"), MlpSpec(name="mlp")):  # both flatten a fixed-size map into a Linear
        with pytest.raises(ValueError, match=f"resolution-agnostic model .*got model '{model.name}'"):
            check_resizing_fits(resizing, model, (1, 28, 28))
    with pytest.raises(ValueError, match=r"ends at 28, but samples are \[1, 32, 32\]"):
        check_resizing_fits(resizing, ResNetSpec(name="resnet"), (1, 32, 32))
    with pytest.raises(ValueError, match=r"ends at 28, but samples are \[1, 28\]"):
        check_resizing_fits(resizing, ResNetSpec(name="resnet"), (1, 28))
    tiny = ProgressiveResizingSpec(sizes=[2, 28], epochs=[1])
    with pytest.raises(ValueError, match=r"sizes\[0\] = 2 is too small for a resnet of 3 stages \(at least 4"):
        check_resizing_fits(tiny, ResNetSpec(name="resnet"), (1, 28, 28))


def test_resizing_on_a_model_that_is_not_resolution_agnostic_is_refused_when_the_file_loads(tmp_path):
    from conftest import write_yaml

    from benchsuite.scenario.load import ScenarioError, load_scenario

    spec = _image_spec(progressive_resizing=SCHEDULE)
    spec["workload"] = {**spec["workload"], "model": {"name": "cnn2d"}}
    with pytest.raises(ScenarioError, match="got model 'cnn2d'") as refused:
        load_scenario(write_yaml(tmp_path / "r.yaml", spec))
    assert "Traceback" not in str(refused.value) and "r.yaml" in str(refused.value)


def test_resizing_with_compile_is_refused(tmp_path):
    from conftest import write_yaml

    from benchsuite.scenario.load import ScenarioError, load_scenario

    spec = _image_spec(progressive_resizing=SCHEDULE)
    spec["techniques"] = {"compile": True}
    with pytest.raises(ScenarioError, match="would recompile inside the timed region"):
        load_scenario(write_yaml(tmp_path / "c.yaml", spec))


def test_a_small_image_scenario_with_resizing_trains_end_to_end():
    from benchsuite.training.run import train_run

    spec = _image_spec(progressive_resizing={"sizes": [14, 28], "epochs": [2]}, eval_every_steps=2)
    run = expand_runs(ScenarioSpec.model_validate(spec))[0]
    result = train_run(run, CPU, telemetry_interval_s=None)
    assert result.status == "ok", result.error
    assert result.steps == 16 and len(result.curve) == 9  # step 0, then every 2 steps


def test_progressive_resizing_is_a_matrix_axis_whose_null_is_native_size(tmp_path):
    from conftest import tiny_spec, write_yaml

    from benchsuite.scenario.load import ScenarioError, load_scenario
    from benchsuite.scenario.matrix import expand_cases

    images = {
        "dataset": {"name": "synthetic", "shape": [1, 8, 8], "num_samples": 64, "val_samples": 32, "num_classes": 3},
        "model": {"name": "resnet", "widths": [4, 8]},
    }
    schedule = {"label": "small-first", "sizes": [4, 8], "epochs": [1]}
    data = tiny_spec(workload=images, matrix={"progressive_resizing": [None, schedule]})
    spec = load_scenario(write_yaml(tmp_path / "r.yaml", data))
    cases = {c.case_id: c.config.train.progressive_resizing for c in expand_cases(spec)}
    assert list(cases) == ["progressive_resizing=none", "progressive_resizing=small-first"]
    assert cases["progressive_resizing=none"] is None and cases["progressive_resizing=small-first"].sizes == (4, 8)
    data["matrix"] = {"progressive_resizing": [None, {"sizes": [4, 8], "epochs": [1]}]}
    with pytest.raises(ScenarioError, match="matrix.progressive_resizing.1 needs a 'label'"):
        load_scenario(write_yaml(tmp_path / "s.yaml", data))
