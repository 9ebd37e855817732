"""Local data files: arrays from a ``.npz`` file (``numpy.load`` with ``allow_pickle=False``), checked before anything
trains, with one clear message per problem: a missing or unreadable file, a missing array, samples and labels of
different lengths, labels that are not integers in range, samples that are not numbers. Nothing is downloaded.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.specs.workload import NpzSpec, model_input_rank


def check_local_data(spec: ScenarioSpec) -> str | None:
    """The first problem with a scenario's local data files, on every device type it names, as ``field
    'workload.dataset.path': <problem>``; None when every file reads and fits its model."""
    shapes: dict[NpzSpec, tuple[int, ...]] = {}
    for device_type in ("cpu", *spec.per_device):
        config = spec.base_for(device_type)
        dataset = config.workload.dataset
        if not isinstance(dataset, NpzSpec):
            continue
        try:
            shape = shapes[dataset] if dataset in shapes else read_npz(dataset)[0].shape[1:]
        except LocalDataError as exc:
            return f"field 'workload.dataset.path': {exc}"
        shapes[dataset] = shape
        models = spec.matrix_for(device_type).model or (config.workload.model,)
        for model in models:
            need = model_input_rank(model)
            if need is not None and need != len(shape):
                return (
                    f"field 'workload.model': model '{model.name}' needs samples of rank {need} but "
                    f"{dataset.path} has samples of shape {shape}"
                )
    return None


class LocalDataError(ValueError):
    """A local data file that cannot be used; the message names the file and the problem."""


def read_npz(spec: NpzSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(x_train, y_train, x_val, y_val, num_classes) from ``spec.path`` (made absolute by the scenario loader,
    :func:`benchsuite.scenario.load.resolve_local_paths`).

    Samples keep their shape: x (N, *sample_shape) as float32, labels (N,) as int64.

    Raises:
        LocalDataError: see the module docstring.
    """
    path = Path(spec.path)
    arrays = _open(path)
    x, y = _pair(arrays, path, spec.x_key, spec.y_key)
    if spec.val_keys is not None:
        x_val, y_val = _pair(arrays, path, *spec.val_keys)
        if x_val.shape[1:] != x.shape[1:]:
            raise LocalDataError(
                f"{path}: validation samples have shape {x_val.shape[1:]}, training samples {x.shape[1:]}"
            )
    else:
        order = np.random.default_rng(spec.split_seed).permutation(len(y))
        n_val = round(len(y) * spec.val_fraction)
        if not 0 < n_val < len(y):
            raise LocalDataError(
                f"{path}: val_fraction {spec.val_fraction} of {len(y)} samples leaves no "
                "training or no validation sample"
            )
        x, y, x_val, y_val = x[order[n_val:]], y[order[n_val:]], x[order[:n_val]], y[order[:n_val]]
    num_classes = spec.num_classes or int(max(y.max(), y_val.max())) + 1
    for labels, key in ((y, spec.y_key), (y_val, spec.val_keys[1] if spec.val_keys else spec.y_key)):
        if labels.min() < 0 or labels.max() >= num_classes:
            raise LocalDataError(
                f"{path}: labels '{key}' must lie in [0, {num_classes}), found {labels.min()} to {labels.max()}"
            )
    return x, y, x_val, y_val, num_classes


def _open(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise LocalDataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise LocalDataError(f"{path}: not a readable .npz file ({exc})") from None


def _pair(arrays: dict[str, np.ndarray], path: Path, x_key: str, y_key: str) -> tuple[np.ndarray, np.ndarray]:
    missing = [key for key in (x_key, y_key) if key not in arrays]
    if missing:
        raise LocalDataError(
            f"{path}: has no array {', '.join(repr(k) for k in missing)} (it has "
            f"{', '.join(repr(k) for k in sorted(arrays)) or 'none'})"
        )
    x, y = arrays[x_key], arrays[y_key]
    if x.ndim < 2 or not np.issubdtype(x.dtype, np.number):
        raise LocalDataError(f"{path}: samples '{x_key}' must be numbers of shape (N, ...), got {x.dtype} {x.shape}")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise LocalDataError(f"{path}: labels '{y_key}' must be integers of shape (N,), got {y.dtype} {y.shape}")
    if len(x) != len(y):
        raise LocalDataError(f"{path}: '{x_key}' has {len(x)} samples but '{y_key}' has {len(y)} labels")
    if len(y) == 0:
        raise LocalDataError(f"{path}: '{y_key}' is empty")
    return x.astype(np.float32), y.astype(np.int64)
