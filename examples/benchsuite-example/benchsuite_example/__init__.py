"""A user's own model and dataset for benchsuite: a residual MLP and two interleaved spirals.

Each is a frozen pydantic model class (its fields are the parameters a scenario may set, validated by benchsuite
with its usual one-line errors) with a ``build`` method, registered in this package's pyproject.toml under the
entry-point groups ``benchsuite.models`` and ``benchsuite.datasets``. Nothing here imports benchsuite.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveInt


class ResidualMlpSpec(BaseModel):
    """An MLP of ``depth`` residual blocks (Linear → norm → activation, added to the input), ``width`` wide."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    input_rank: ClassVar[int | None] = None  # any sample shape: the input is flattened

    name: Literal["example-residual-mlp"]
    width: PositiveInt = 64
    depth: int = Field(2, ge=1, le=16)
    label: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]*$")

    def build(self, input_shape: tuple[int, ...], num_classes: int, norm):
        """Input (N, *input_shape) → logits (N, num_classes); ``norm(features, "linear")`` is the scenario's norm."""
        import math

        import torch
        from torch import nn

        class Block(nn.Module):
            def __init__(self, width: int) -> None:
                super().__init__()
                self.body = nn.Sequential(nn.Linear(width, width), norm(width, "linear"), nn.ReLU())

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x + self.body(x)

        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(math.prod(input_shape), self.width),
            nn.ReLU(),
            *[Block(self.width) for _ in range(self.depth)],
            nn.Linear(self.width, num_classes),
        )


class SpiralsSpec(BaseModel):
    """Two interleaved spirals in the plane (samples (2,), two classes) with Gaussian noise, split 80/20."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Literal["example-spirals"]
    num_samples: int = Field(2000, ge=100)
    turns: float = Field(1.5, gt=0)
    noise: float = Field(0.15, ge=0)
    seed: int = 0

    def build(self):
        """(x_train, y_train, x_val, y_val, num_classes) as NumPy arrays."""
        rng = np.random.default_rng(self.seed)
        y = rng.integers(0, 2, self.num_samples)
        t = np.sqrt(rng.uniform(0, 1, self.num_samples)) * self.turns * 2 * np.pi
        x = np.stack([t * np.cos(t + np.pi * y), t * np.sin(t + np.pi * y)], axis=1) / (self.turns * 2 * np.pi)
        x = (x + rng.normal(0, self.noise / (self.turns * 2), x.shape)).astype(np.float32)
        n_train = int(0.8 * self.num_samples)
        return x[:n_train], y[:n_train], x[n_train:], y[n_train:], 2
