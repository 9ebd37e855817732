"""Model builders: an MLP, a 1-D CNN (MNIST-1D), a small 2-D CNN (MNIST), a ResNet-style CNN (image-shaped data) and a
recurrent classifier (GRU or LSTM over sequences).

Every builder takes the model spec, the sample shape, the class count and a ``norm_layer`` factory from
:mod:`benchsuite.training.techniques` (called with the feature count and the layer kind), so normalisation is applied
the same way to every model. Weight init is applied afterwards by :func:`benchsuite.training.techniques.apply_init`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from benchsuite.specs.workload import Cnn1dSpec, Cnn2dSpec, MlpSpec, ResNetSpec, RnnSpec

NormFactory = Callable[[int, str], nn.Module]
"""(features, kind) → layer; kind is ``"linear"``, ``"conv1d"`` or ``"conv2d"``."""

ACTIVATION_LAYERS: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


def _block(layer: nn.Module, norm: nn.Module, activation: str, dropout: float, *extra: nn.Module) -> list[nn.Module]:
    parts = [layer, norm, ACTIVATION_LAYERS[activation](), *extra]
    return parts + ([nn.Dropout(dropout)] if dropout > 0 else [])


def build_mlp(spec: MlpSpec, input_shape: tuple[int, ...], num_classes: int, norm: NormFactory) -> nn.Module:
    """Flatten → [Linear → norm → activation → dropout] per hidden width → Linear(num_classes).

    Input (N, *input_shape) → logits (N, num_classes).
    """
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(input_shape)
    for hidden in spec.hidden:
        layers += _block(nn.Linear(width, hidden), norm(hidden, "linear"), spec.activation, spec.dropout)
        width = hidden
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def build_cnn1d(spec: Cnn1dSpec, input_shape: tuple[int, ...], num_classes: int, norm: NormFactory) -> nn.Module:
    """[Conv1d (stride ``spec.stride``, padding kernel_size // 2) → norm → activation] per channel count →
    global average pool → Linear.

    Input (N, C, L) → logits (N, num_classes). With stride 2 this is the shape of the MNIST-1D reference CNN
    (Greydanus 2020), with global average pooling in place of flattening.
    """
    layers: list[nn.Module] = []
    channels = input_shape[0]
    for out in spec.channels:
        conv = nn.Conv1d(channels, out, spec.kernel_size, stride=spec.stride, padding=spec.kernel_size // 2)
        layers += _block(conv, norm(out, "conv1d"), spec.activation, spec.dropout)
        channels = out
    layers += [nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(channels, num_classes)]
    return nn.Sequential(*layers)


def build_cnn2d(spec: Cnn2dSpec, input_shape: tuple[int, ...], num_classes: int, norm: NormFactory) -> nn.Module:
    """[Conv2d (same padding) → norm → activation → MaxPool2d(2)] per channel count → Flatten → Linear.

    Input (N, C, H, W) → logits (N, num_classes).
    """
    layers: list[nn.Module] = []
    channels, h, w = input_shape
    for out in spec.channels:
        conv = nn.Conv2d(channels, out, spec.kernel_size, padding="same")
        layers += _block(conv, norm(out, "conv2d"), spec.activation, spec.dropout, nn.MaxPool2d(2))
        channels, h, w = out, h // 2, w // 2
    layers += [nn.Flatten(), nn.Linear(channels * h * w, num_classes)]
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """x → act(x + norm(conv(act(norm(conv(x)))))) with 3×3 convolutions of ``width`` channels; shape kept."""

    def __init__(self, width: int, norm: NormFactory, activation: str) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            norm(width, "conv2d"),
            ACTIVATION_LAYERS[activation](),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            norm(width, "conv2d"),
        )
        self.act = ACTIVATION_LAYERS[activation]()

    def forward(self, x):
        return self.act(x + self.body(x))


class ChannelsLast(nn.Module):
    """Converts its input to channels-last memory format before ``module`` (whose weights are channels-last too)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module.to(memory_format=torch.channels_last)

    def forward(self, x):
        return self.module(x.contiguous(memory_format=torch.channels_last))


def build_resnet(spec: ResNetSpec, input_shape: tuple[int, ...], num_classes: int, norm: NormFactory) -> nn.Module:
    """Stem [Conv2d 3×3 → norm → activation], then per stage [MaxPool2d(2) from the second stage; Conv2d 1×1 when
    the width changes; ``spec.blocks`` × :class:`ResidualBlock`] → global average pool → Linear.

    Input (N, C, H, W) → logits (N, num_classes); H and W must allow a 2× pool per stage after the first.
    """
    channels = input_shape[0]
    layers: list[nn.Module] = [
        nn.Conv2d(channels, spec.widths[0], 3, padding=1, bias=False),
        norm(spec.widths[0], "conv2d"),
        ACTIVATION_LAYERS[spec.activation](),
    ]
    channels = spec.widths[0]
    for stage, width in enumerate(spec.widths):
        if stage > 0:
            layers.append(nn.MaxPool2d(2))
        if width != channels:
            layers += [nn.Conv2d(channels, width, 1, bias=False), norm(width, "conv2d")]
            channels = width
        layers += [ResidualBlock(width, norm, spec.activation) for _ in range(spec.blocks)]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)]
    model = nn.Sequential(*layers)
    return ChannelsLast(model) if spec.channels_last else model


RNN_CELLS: dict[str, type[nn.RNNBase]] = {"gru": nn.GRU, "lstm": nn.LSTM}
"""Recurrent cell registry: ``RnnSpec.cell`` → torch module (Cho et al. 2014; Hochreiter & Schmidhuber 1997)."""


class RecurrentClassifier(nn.Module):
    """(N, C, L) → transpose → (N, L, C) → recurrent layers → (N, L, H) → norm per time step → dropout → readout
    (last step or mean over steps) → Linear → logits (N, num_classes).

    The norm layer is built with kind ``"linear"`` and applied to the outputs flattened to (N·L, H): LayerNorm then
    normalises each time step's H features (Ba et al. 2016), BatchNorm1d each feature over batch × time (Ioffe &
    Szegedy 2015: one mean and variance per feature over every position, as for convolutions).
    """

    def __init__(self, spec: RnnSpec, channels: int, num_classes: int, norm: NormFactory) -> None:
        super().__init__()
        cell = RNN_CELLS[spec.cell]
        between = spec.dropout if spec.layers > 1 else 0.0  # torch applies it between stacked layers only
        self.rnn = cell(channels, spec.hidden, num_layers=spec.layers, batch_first=True, dropout=between)
        self.norm = norm(spec.hidden, "linear")
        self.dropout = nn.Dropout(spec.dropout) if spec.dropout > 0 else nn.Identity()
        self.readout = spec.readout
        self.head = nn.Linear(spec.hidden, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised recurrent outputs (N, L, H) of samples x (N, C, L)."""
        out, _ = self.rnn(x.transpose(1, 2))
        n, steps, hidden = out.shape
        return self.norm(out.reshape(n * steps, hidden)).reshape(n, steps, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.dropout(self.features(x))
        return self.head(h[:, -1] if self.readout == "last" else h.mean(dim=1))


def build_rnn(spec: RnnSpec, input_shape: tuple[int, ...], num_classes: int, norm: NormFactory) -> nn.Module:
    """A :class:`RecurrentClassifier`: input (N, C, L), read as L time steps of C channels → logits (N, num_classes).

    Raises:
        ValueError: a sample that is not (C, L).
    """
    if len(input_shape) != 2:
        raise ValueError(f"model 'rnn' needs samples (channels, length), got shape {tuple(input_shape)}")
    return RecurrentClassifier(spec, input_shape[0], num_classes, norm)


#: Model registry: spec ``name`` → builder.
MODEL_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "mlp": build_mlp,
    "cnn1d": build_cnn1d,
    "cnn2d": build_cnn2d,
    "resnet": build_resnet,
    "rnn": build_rnn,
}


def model_from_spec(spec, input_shape: tuple[int, ...], num_classes: int, norm: NormFactory) -> nn.Module:
    """The model of ``spec``: a built-in one from :data:`MODEL_BUILDERS` under its ``name``, another package's from the
    spec's own ``build`` (:mod:`benchsuite.specs.registry`). Input (N, *input_shape) → logits (N, num_classes)."""
    builder = MODEL_BUILDERS.get(spec.name)
    return builder(spec, input_shape, num_classes, norm) if builder else spec.build(input_shape, num_classes, norm)
