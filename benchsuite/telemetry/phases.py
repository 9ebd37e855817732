"""The phases of a training step, declared once: the names of the ``torch.profiler.record_function`` ranges the
training step opens in a profiled window, the order the report draws them in, and the phases that exist only in the
analysis of a profile (the rest of the step, and the device's idle time). No torch: the report reads them too.

A phase is the time of its range less the time of the phase ranges nested inside it (self time), so the phases of a
step never overlap and add up, with ``other`` (the time in no phase: Python between the ranges, the profiler's own
step marker), to the profiled step. On CUDA the phases are read from the device timeline instead, where ``idle``
is the time the device ran no kernel within the step (Holistic Trace Analysis's idle time).
"""

from __future__ import annotations

NEXT_BATCH = "next batch"
"""Gather the next global batch (preloaded) or take it from the DataLoader, and copy it to the device."""
ZERO_GRAD = "zero_grad"
FORWARD = "forward"
LOSS = "loss"
BACKWARD = "backward"
"""The backward pass, with GradScaler's scaling of the loss (fp16) and, in data parallel, DDP's gradient all-reduce
as far as it blocks the step."""
OPTIMIZER = "optimizer step"
"""The optimizer's update, with GradScaler's unscale, inf check and update (fp16)."""
LR_SCHEDULER = "lr scheduler"
COMMUNICATION = "communication"
"""Collective operations (DDP's all-reduce) on the training thread, carved out of the phase they ran in."""
OTHER = "other"
IDLE = "idle"

#: Phases the training step marks with ``record_function`` ranges, in the order of a step.
STEP_PHASES: tuple[str, ...] = (NEXT_BATCH, ZERO_GRAD, FORWARD, LOSS, BACKWARD, OPTIMIZER, LR_SCHEDULER)

#: Every phase a profile reports, in the report's order (stacked bars bottom to top, tables left to right).
REPORTED: tuple[str, ...] = (*STEP_PHASES, COMMUNICATION, IDLE, OTHER)

#: Prefix of benchsuite's range names in a trace (``benchsuite/forward``), so that they never clash with torch's own.
PREFIX = "benchsuite/"


def range_name(phase: str) -> str:
    """The ``record_function`` name of ``phase`` in a trace: ``benchsuite/forward``."""
    return PREFIX + phase


def phase_of(name: str) -> str | None:
    """The phase a trace range name marks (``benchsuite/forward`` → ``forward``), or None for any other range."""
    return name[len(PREFIX) :] if name.startswith(PREFIX) and name[len(PREFIX) :] in STEP_PHASES else None
