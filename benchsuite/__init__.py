"""benchsuite: declarative training-speed scenarios for PyTorch, run under pytest-benchmark, reported in HTML."""

__version__ = "0.1.0"
