"""What a fault inside a run is, decided once: out of memory (on a GPU or a CPU) or another failure, with the line of
its message that a record keeps, and the stage of the run it happened in.

Out of memory is ``torch.cuda.OutOfMemoryError`` (``torch.OutOfMemoryError``) on CUDA; on a CPU the caching-free
allocator raises a plain ``RuntimeError`` whose message names ``DefaultCPUAllocator`` (c10/core/impl/alloc_cpu.cpp:
"can't allocate memory" on Linux and macOS, "not enough memory" on Windows), and Python itself raises ``MemoryError``.
"""

from __future__ import annotations

import torch

#: Words of the CPU allocator's failure message (c10/core/impl/alloc_cpu.cpp).
CPU_ALLOCATOR_FAILURES = ("DefaultCPUAllocator: can't allocate memory", "DefaultCPUAllocator: not enough memory")


class Stage:
    """The stage a run is in (``data load``, ``warm-up``, ...), so a fault outside the loop says where it happened."""

    name = "data load"


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is an allocation failure: CUDA's ``OutOfMemoryError``, the CPU allocator's ``RuntimeError``
    (:data:`CPU_ALLOCATOR_FAILURES`) or Python's ``MemoryError``."""
    if isinstance(error, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(error, RuntimeError) and any(words in str(error) for words in CPU_ALLOCATOR_FAILURES)


def out_of_memory_kind(error: BaseException) -> str:
    """Which memory ran out: ``CUDA out of memory`` for CUDA's error, ``CPU out of memory`` for the host's."""
    return "CUDA out of memory" if isinstance(error, torch.cuda.OutOfMemoryError) else "CPU out of memory"


def _message_line(error: BaseException) -> str | None:
    """The first non-empty line of the error's message, stripped; None when it has none."""
    return next((line.strip() for line in str(error).splitlines() if line.strip()), None)


def first_line(error: BaseException) -> str:
    """The error as one line: its type and the first non-empty line of its message (``RuntimeError: boom``)."""
    line = _message_line(error)
    return f"{type(error).__name__}: {line}" if line else type(error).__name__


def oom_message(error: BaseException, where: str) -> str:
    """The record's message of an allocation failure in ``where``, e.g. ``CPU out of memory in model build: ...``
    (the first line of the allocator's message, which says how much it tried to allocate)."""
    return f"{out_of_memory_kind(error)} in {where}: " + (_message_line(error) or type(error).__name__)


def release_cached_memory(device: torch.device) -> None:
    """Hand the failed run's cached blocks back to the driver, so the session's next runs start clean."""
    if torch.device(device).type == "cuda":
        torch.cuda.empty_cache()
