"""The one list of every name a scenario file may use, by kind. The specs' field types are built from these tuples
(``Literal[INITS]``) and every registry (inits, norms, activations, precisions, models, datasets, optimizers,
schedules, loaders) is keyed by exactly these names; ``tests/test_names.py`` ties them together, so a name cannot
be valid in a scenario file and missing at run time, or the reverse.

Kept free of torch so that validating a scenario file stays light.
"""

from __future__ import annotations

INITS = ("default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal")
NORMS = ("none", "batchnorm", "layernorm")
ACTIVATIONS = ("relu", "gelu", "tanh")
PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
TARGET_METRICS = ("val_accuracy", "val_loss")
MODELS = ("mlp", "cnn1d", "cnn2d", "resnet")
DATASETS = ("mnist", "mnist1d", "synthetic", "npz")
OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine", "onecycle")
LOADERS = ("preloaded", "dataloader")
