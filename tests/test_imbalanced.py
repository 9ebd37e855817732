"""Class-imbalanced datasets (``class_frequencies``) and the balanced metric (``val_balanced_accuracy``): counts by
hand, determinism, refused frequency lists, balanced accuracy by hand and against scikit-learn, and a scenario whose
target is the balanced metric."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import tiny_spec, write_yaml

from benchsuite.scenario.load import ScenarioError, load_scenario
from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.case import TargetSpec
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.specs.workload import Mnist1dSpec, SyntheticSpec
from benchsuite.training import loop
from benchsuite.training.outcome import CurvePoint, target_hit
from benchsuite.training.run import train_run
from benchsuite.workloads.datasets import build_mnist1d, build_synthetic, class_counts

CPU = torch.device("cpu")


def _counts(y: torch.Tensor, k: int) -> list[int]:
    return torch.bincount(y, minlength=k).tolist()


def test_class_counts_by_hand():
    # 100 of each class, weights 4:2:1:1 → the scale is 100 / 0.5 = 200: 100, 50, 25, 25
    assert class_counts(np.array([100, 100, 100, 100]), (4, 2, 1, 1)).tolist() == [100, 50, 25, 25]
    # class 1 is short (30 for weight 1/2): scale 60 → 30 and 30, class 2 drops out
    assert class_counts(np.array([80, 30, 50]), (0.5, 0.5, 0.0)).tolist() == [30, 30, 0]
    assert class_counts(np.array([10, 10]), (1, 3)).tolist() == [3, 10]  # round(10 / 3) = 3


def test_synthetic_training_split_follows_the_frequencies_and_the_validation_split_as_chosen():
    fields = {"name": "synthetic", "shape": (4,), "num_classes": 3, "num_samples": 3000, "val_samples": 600}
    balanced = build_synthetic(SyntheticSpec(**fields))
    skewed = build_synthetic(SyntheticSpec(**fields, class_frequencies=(0.8, 0.15, 0.05)))
    have = _counts(balanced.train_y, 3)
    scale = min(n / f for n, f in zip(have, (0.8, 0.15, 0.05), strict=True))
    assert _counts(skewed.train_y, 3) == [round(scale * f) for f in (0.8, 0.15, 0.05)]
    train = np.array(_counts(skewed.train_y, 3)) / len(skewed.train_y)
    np.testing.assert_allclose(train, [0.8, 0.15, 0.05], atol=1e-3)  # within rounding
    val = np.array(_counts(skewed.val_y, 3)) / len(skewed.val_y)
    np.testing.assert_allclose(val, [0.8, 0.15, 0.05], atol=5e-3)  # the validation split follows by default
    kept = build_synthetic(SyntheticSpec(**fields, class_frequencies=(0.8, 0.15, 0.05), imbalance_val=False))
    assert torch.equal(kept.val_y, balanced.val_y) and torch.equal(kept.train_y, skewed.train_y)


def test_kept_samples_are_samples_of_the_full_split_with_their_labels():
    fields = {"name": "synthetic", "shape": (4,), "num_classes": 2, "num_samples": 200, "val_samples": 50}
    full = build_synthetic(SyntheticSpec(**fields))
    skewed = build_synthetic(SyntheticSpec(**fields, class_frequencies=(9, 1)))
    rows = {tuple(x.tolist()): int(y) for x, y in zip(full.train_x, full.train_y, strict=True)}
    assert all(rows[tuple(x.tolist())] == int(y) for x, y in zip(skewed.train_x, skewed.train_y, strict=True))


def test_mnist1d_long_tail_is_deterministic_for_its_seed():
    frequencies = (100, 50, 25, 12, 6, 3, 2, 1, 1, 1)
    a = build_mnist1d(Mnist1dSpec(name="mnist1d", num_samples=2000, class_frequencies=frequencies))
    b = build_mnist1d(Mnist1dSpec(name="mnist1d", num_samples=2000, class_frequencies=frequencies))
    other = build_mnist1d(Mnist1dSpec(name="mnist1d", num_samples=2000, class_frequencies=frequencies, data_seed=1))
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.val_y, b.val_y)
    assert not torch.equal(a.train_x[: len(other.train_x)], other.train_x[: len(a.train_x)])
    counts = _counts(a.train_y, 10)
    assert counts[0] >= 100 and counts[0] > 8 * counts[7]  # the head keeps (nearly) all, the tail ~1/100 of it
    np.testing.assert_allclose(np.array(counts) / sum(counts), np.array(frequencies) / sum(frequencies), atol=0.01)


def _error(tmp_path, frequencies) -> str:
    dataset = {"name": "synthetic", "shape": [1, 8], "num_classes": 3, "class_frequencies": frequencies}
    path = write_yaml(tmp_path / "bad.yaml", tiny_spec(workload={"dataset": dataset, "model": "mlp"}))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message and "Traceback" not in message and "\n" not in message
    return message


def test_bad_frequency_lists_are_refused_with_the_field_and_value(tmp_path):
    assert (
        "field 'workload.dataset.synthetic': class_frequencies needs one weight per class (3), got 2: [1.0, 2.0]"
        in (_error(tmp_path, [1, 2]))
    )
    assert (
        "field 'workload.dataset.synthetic.class_frequencies.1': Input should be greater than or equal to 0 (got -1)"
        in (_error(tmp_path, [1, -1, 1]))
    )
    assert "class_frequencies needs a positive weight, got all zero: [0.0, 0.0, 0.0]" in _error(tmp_path, [0, 0, 0])


class Predicts(torch.nn.Module):
    """A 'model' whose input row i is the class it predicts (one-hot logits)."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.one_hot(x[:, 0].long(), self.num_classes).float()


def test_balanced_accuracy_by_hand(monkeypatch):
    monkeypatch.setattr(loop, "EVAL_BATCH", 7)  # counts accumulate over several batches
    y = torch.tensor([0] * 90 + [1] * 10)
    predicted = torch.zeros(100, 1)  # always class 0: 90 of class 0 right, 10 of class 1 wrong
    measured = loop.evaluate(Predicts(2), predicted, y)
    assert measured.accuracy == 0.9 and measured.balanced_accuracy == 0.5  # (90/90 + 0/10) / 2
    three = loop.evaluate(Predicts(3), torch.tensor([[0.0], [1.0], [0.0], [1.0]]), torch.tensor([0, 0, 1, 1]))
    assert three.balanced_accuracy == 0.5 and three.accuracy == 0.5  # class 2 has no samples: left out


def test_balanced_accuracy_equals_scikit_learns(monkeypatch):
    from sklearn.metrics import balanced_accuracy_score

    monkeypatch.setattr(loop, "EVAL_BATCH", 64)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        y = torch.randint(0, 5, (300,), generator=g)
        y[y == 3] = 0  # class 3 absent from the labels (still predicted)
        predicted = torch.where(torch.rand(300, generator=g) < 0.6, y, torch.randint(0, 5, (300,), generator=g))
        measured = loop.evaluate(Predicts(5), predicted[:, None].float(), y)
        with pytest.warns(UserWarning, match="y_pred contains classes not in y_true"):
            expected = balanced_accuracy_score(y.numpy(), predicted.numpy())
        assert measured.balanced_accuracy == pytest.approx(expected, abs=1e-12)
        assert measured.accuracy == pytest.approx((predicted == y).double().mean().item())


def test_balanced_target_rises_and_old_curve_points_never_reach_it():
    target = TargetSpec(metric="val_balanced_accuracy", value=0.6)
    assert target.higher_is_better
    curve = [CurvePoint(s, s / 2, float(s), None, 1.0, 0.9, val_balanced_accuracy=b) for s, b in [(0, 0.2), (2, 0.7)]]
    hit = target_hit(curve, "val_balanced_accuracy", 0.6)
    assert hit is not None and hit.steps_to_target == 2
    old = CurvePoint(0, 0.0, 0.0, None, 1.0, 0.9)  # a point read from a results file written before the field
    assert old.val_balanced_accuracy is None and target_hit([old], "val_balanced_accuracy", 0.1) is None
    with pytest.raises(ValueError, match=r"val_balanced_accuracy target must be in \(0, 1\], got 1.5"):
        TargetSpec(metric="val_balanced_accuracy", value=1.5)


def test_a_scenario_with_a_balanced_target_records_it_in_every_curve_point():
    dataset = {
        "name": "synthetic",
        "shape": [1, 8],
        "num_samples": 256,
        "val_samples": 128,
        "num_classes": 2,
        "class_frequencies": [0.9, 0.1],
    }
    train = {**tiny_spec()["train"], "stop_at_target": False}
    data = tiny_spec(
        workload={"dataset": dataset, "model": {"name": "mlp", "hidden": [16]}},
        train=train,
        target={"metric": "val_balanced_accuracy", "value": 0.5},
        matrix={},
    )
    run = next(r for r in expand_runs(ScenarioSpec.model_validate(data)) if r.seed == 0)
    result = train_run(run, CPU)
    assert result.status == "ok" and len(result.curve) == 3
    assert all(0.0 <= p.val_balanced_accuracy <= 1.0 for p in result.curve)
    info = result.extra_info()
    assert info["final_val_metric"] == result.curve[-1].val_balanced_accuracy
    assert all("val_balanced_accuracy" in p for p in info["curve"])
    first = next(p.step for p in result.curve if p.val_balanced_accuracy >= 0.5)
    assert info["steps_to_target"] == first
