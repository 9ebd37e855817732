"""The configuration of one case: workload, training, techniques, target."""

from __future__ import annotations

from pydantic import Field, model_validator

from benchsuite.specs import names
from benchsuite.specs.base import InitName, MetricName, NormName, PrecisionName, Spec
from benchsuite.specs.serving import check_resizing_fits
from benchsuite.specs.training import TrainSpec
from benchsuite.specs.workload import WorkloadSpec


class TechniquesSpec(Spec):
    """Training techniques applied to a case; each is also a matrix axis."""

    init: InitName = "default"
    """Weight init of Linear/Conv layers; non-default inits zero the biases."""
    norm: NormName = "none"
    """Normalisation layer after every hidden Linear/Conv."""
    precision: PrecisionName = "fp32"
    """fp32 (TF32 off), tf32 (CUDA TF32 matmuls), bf16 autocast, fp16 autocast + GradScaler (CUDA)."""
    prior_bias: bool = False
    """Set the classifier bias to the log class priors of the training split (Karpathy 2019 "init well"; the
    softmax form of the focal-loss prior init of Lin et al. 2017)."""
    compile: bool = False
    """Wrap the model in torch.compile; compilation is timed apart (``compile_s``), outside the timed region."""
    compile_backend: str = Field("inductor", pattern=r"^[a-z_]+$")
    """torch.compile backend when ``compile`` is on."""


class TargetSpec(Spec):
    """Validation quality that defines time-to-target."""

    metric: MetricName = "val_accuracy"
    """Validation metric that defines time-to-target."""
    value: float
    """The level to reach: at least this accuracy or balanced accuracy (in (0, 1]), or at most this loss (> 0)."""

    @model_validator(mode="after")
    def _value_in_range(self) -> TargetSpec:
        if self.metric in ("val_accuracy", "val_balanced_accuracy") and not 0.0 < self.value <= 1.0:
            raise ValueError(f"{self.metric} target must be in (0, 1], got {self.value}")
        if self.metric == "val_loss" and self.value <= 0.0:
            raise ValueError(f"val_loss target must be > 0, got {self.value}")
        return self

    @property
    def higher_is_better(self) -> bool:
        """Accuracies rise towards their target, loss falls towards it (:data:`names.LOWER_IS_BETTER_METRICS`)."""
        return self.metric not in names.LOWER_IS_BETTER_METRICS


class CaseConfig(Spec):
    """Everything one case trains with: the base configuration with the case's axis values applied."""

    workload: WorkloadSpec
    """Dataset and model."""
    train: TrainSpec
    """Optimizer, schedule, batch, budget and evaluation."""
    techniques: TechniquesSpec = TechniquesSpec()
    """Init, normalisation, precision, prior bias, compile."""
    target: TargetSpec | None = None
    """The validation level that defines time-to-target; none for throughput-only scenarios."""

    @model_validator(mode="after")
    def _resizing_fits(self) -> CaseConfig:
        """Progressive resizing needs a resolution-agnostic model (checked when the file loads; the samples' size is
        checked when the data is read, :func:`benchsuite.specs.serving.check_resizing_fits`), and is refused with
        ``compile``: each new size would recompile inside the timed region."""
        resizing = self.train.progressive_resizing
        check_resizing_fits(resizing, self.workload.model, None)
        if resizing is not None and self.techniques.compile:
            raise ValueError(
                "progressive_resizing with techniques.compile: each new size would recompile inside the timed region"
            )
        return self
