"""Workloads: dataset and model registries (see :mod:`.datasets` and :mod:`.models`)."""

from benchsuite.workloads.datasets import DATASETS, Dataset, adopt, hand_over, load_dataset
from benchsuite.workloads.models import MODELS

__all__ = ["DATASETS", "MODELS", "Dataset", "adopt", "hand_over", "load_dataset"]
