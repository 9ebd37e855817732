"""How a scenario's cases are profiled: the ``profile:`` block of a scenario file (:class:`ProfileSpec`)."""

from __future__ import annotations

from pydantic import NonNegativeInt, PositiveFloat, PositiveInt

from benchsuite.specs.base import Spec


class ProfileSpec(Spec):
    """A profiled window per case, after the case's runs and never inside a timed region: ``wait`` steps, ``warmup``
    steps that the profiler records and discards, then ``steps`` recorded steps (``torch.profiler.schedule``) of the
    case's workload, precision, loader and world size. The window gives where a step's time goes (its phases), the
    top operators, peak memory per phase, the host syncs of a CUDA step, and a Chrome/Perfetto trace."""

    enabled: bool = True
    """Profile this scenario's cases (``--no-profile`` turns every scenario's off)."""
    steps: PositiveInt = 4
    """Recorded steps (the phase table is their mean)."""
    wait: NonNegativeInt = 1
    """Steps run before the profiler starts recording."""
    warmup: NonNegativeInt = 2
    """Steps the profiler records and discards (its own warm-up)."""
    record_shapes: bool = True
    """Record operator input shapes (the top-operator table groups by them; needed for FLOPs)."""
    profile_memory: bool = True
    """Record allocations (peak memory per phase)."""
    with_stack: bool = False
    """Record Python stacks of operators (larger traces, more overhead)."""
    top_ops: PositiveInt = 10
    """Operators listed per case, by self time."""
    max_trace_mib: PositiveFloat = 4.0
    """Largest gzipped trace kept next to the results file; a larger one is left out, with the reason."""
