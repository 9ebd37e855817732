"""Model builders: an MLP, a 1-D CNN (MNIST-1D) and a small 2-D CNN (MNIST).

Every builder takes the model spec, the sample shape, the class count and a ``norm_layer`` factory from
:mod:`benchsuite.techniques` (called with the feature count and the layer kind), so normalisation is applied the
same way to every model. Weight init is applied afterwards by :func:`benchsuite.techniques.apply_init`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from torch import nn

from benchsuite.specs import Cnn1dSpec, Cnn2dSpec, MlpSpec

NormFactory = Callable[[int, str], nn.Module]
"""(features, kind) → layer; kind is ``"linear"``, ``"conv1d"`` or ``"conv2d"``."""

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


def _block(layer: nn.Module, norm: nn.Module, activation: str, dropout: float, *extra: nn.Module) -> list[nn.Module]:
    parts = [layer, norm, ACTIVATIONS[activation](), *extra]
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


#: Model registry: spec ``name`` → builder.
MODELS: dict[str, Callable[..., nn.Module]] = {"mlp": build_mlp, "cnn1d": build_cnn1d, "cnn2d": build_cnn2d}
