"""The one list of every name a scenario file may use, by kind. The specs' field types are built from these tuples
(``Literal[INIT_NAMES]``) and every registry (inits, norms, activations, precisions, models, datasets, optimizers,
schedules, loaders) is keyed by exactly these names; ``tests/test_names.py`` ties them together, so a name cannot
be valid in a scenario file and missing at run time, or the reverse.

Kept free of torch so that validating a scenario file stays light.
"""

from __future__ import annotations

INIT_NAMES = ("default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal")
NORM_NAMES = ("none", "batchnorm", "layernorm")
ACTIVATION_NAMES = ("relu", "gelu", "tanh")
PRECISION_NAMES = ("fp32", "tf32", "bf16", "fp16")
TARGET_METRIC_NAMES = ("val_accuracy", "val_loss", "val_balanced_accuracy")
LOWER_IS_BETTER_METRICS = ("val_loss",)
"""Target metrics that fall towards their target; every other one rises towards it."""
MODEL_NAMES = ("mlp", "cnn1d", "cnn2d", "resnet", "rnn")
RNN_CELL_NAMES = ("gru", "lstm")
RNN_READOUT_NAMES = ("last", "mean")
DATASET_NAMES = ("mnist", "mnist1d", "synthetic", "npz")
OPTIMIZER_NAMES = ("sgd", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULE_NAMES = ("constant", "step", "cosine", "onecycle")
LOADER_NAMES = ("preloaded", "dataloader")
SAMPLER_NAMES = ("uniform", "repeat_factor")
