"""Host syncs issued inside the timed steps, counted per source line: the doctor's check of the measurement rule "no
per-step host syncs" (DESIGN.md), and the dispatcher-level check the tests run on the ``meta`` device.

Two witnesses, both counting only while ``active()`` says the steps of a timed segment are being issued (the
caller passes its loop's ``train_watch.running``: the stopwatch's own synchronisation at the ends of a segment, the
evaluations and the per-segment loss read lie outside):

- the dispatcher (:class:`HostSyncWatch`, a ``TorchDispatchMode``): every ``.item()`` (``_local_scalar_dense``),
  ``nonzero`` (its output is sized from the data), copy from the device to the host, and copy from pageable host
  memory to the device (CUDA runs it as a blocking copy: PyTorch's "CUDA semantics", pinned memory buffers) is an aten
  op, whatever Python code issued it. On the ``meta`` device the same ops are seen without any accelerator, which is
  how a CPU-only machine checks the step loop; ``.item()`` of a meta tensor then returns a stand-in value.
- on CUDA, ``torch.cuda.set_sync_debug_mode("warn")``, which warns at every synchronising CUDA call, including those
  no aten op shows (PyTorch's documentation of ``torch.cuda.set_sync_debug_mode``).

Each sync is attributed to the innermost frame outside torch and this module: ``benchsuite/training/batches.py:44``.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten

#: The text of the warning ``set_sync_debug_mode("warn")`` gives at every synchronising CUDA operation.
SYNC_WARNING = "called a synchronizing CUDA operation"

#: What ``.item()`` of a meta tensor returns, by dtype (a float 0.5 and an int 1 otherwise), so that a loop run on
#: ``meta`` (its untimed evaluation and the per-segment loss read included) goes on.
META_SCALARS = {torch.bool: True}

_TORCH_DIR = str(Path(torch.__file__).resolve().parent)
_SKIPPED = (_TORCH_DIR, str(Path(__file__).resolve()), str(Path(contextlib.__file__).resolve()))


def short_path(filename: str) -> str:
    """The last three parts of a source path (``benchsuite/training/batches.py``)."""
    return "/".join(Path(filename).parts[-3:])


def call_site(skip: tuple[str, ...] = _SKIPPED) -> str:
    """``file:line`` of the innermost caller whose file is not under torch, this module or contextlib: the line of
    benchsuite (or of the user's model) that issued the op; ``?`` when every frame is skipped."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = str(Path(frame.f_code.co_filename).resolve())
        if not filename.startswith(skip):
            return f"{short_path(filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


def _device_of(value: Any) -> torch.device | None:
    return value.device if isinstance(value, torch.Tensor) else None


def is_host_sync(func: Any, args: tuple, kwargs: dict) -> bool:
    """Whether the aten op makes the host wait for the device: a read of a device tensor (``.item()`` dispatches to
    ``_local_scalar_dense``; ``nonzero`` sizes its output from the data), a copy from the device to the host
    (``.cpu()``, ``.tolist()``) or from pageable (not pinned) host memory to the device."""
    if func in (aten._local_scalar_dense.default, aten.nonzero.default):
        return args[0].device.type != "cpu"
    if func is aten._to_copy.default:
        source, target = args[0].device, kwargs.get("device") or args[0].device
    elif func is aten.copy_.default:
        source, target = _device_of(args[1]), args[0].device
    else:
        return False
    if source is None or (source.type == "cpu") == (torch.device(target).type == "cpu"):
        return False
    host_side = args[1] if func is aten.copy_.default else args[0]
    return torch.device(target).type == "cpu" or not host_side.is_pinned()


class HostSyncWatch(TorchDispatchMode):
    """Counts the host syncs (:func:`is_host_sync`) dispatched while ``active()`` is true, per (source line, op).

    Args:
        active: when to count (e.g. ``lambda: loop.train_watch.running``).
    Attributes:
        found: ``Counter`` of (``file:line``, aten op name) → syncs.
    """

    def __init__(self, active: Callable[[], bool]) -> None:
        super().__init__()
        self.active = active
        self.found: Counter[tuple[str, str]] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.active() and is_host_sync(func, args, kwargs):
            self.found[(call_site(), str(func))] += 1
        if func is aten._local_scalar_dense.default and args[0].is_meta:
            return META_SCALARS.get(args[0].dtype, 0.5 if args[0].is_floating_point() else 1)
        return func(*args, **kwargs)


@contextlib.contextmanager
def cuda_sync_warnings(active: Callable[[], bool], cuda: Any = torch.cuda) -> Iterator[Counter]:
    """On CUDA: ``set_sync_debug_mode("warn")`` for the duration; yields a ``Counter`` of ``file:line`` → the
    synchronising CUDA calls warned about while ``active()`` was true (other warnings are passed on, the previous
    mode is restored). ``cuda`` is ``torch.cuda`` (tests pass a fake)."""
    found: Counter[str] = Counter()
    previous = cuda.get_sync_debug_mode()
    passed: list[tuple] = []

    def show(message, category, filename, lineno, file=None, line=None):
        if SYNC_WARNING in str(message):
            if active():
                found[f"{short_path(filename)}:{lineno}"] += 1
        else:
            passed.append((message, category, filename, lineno))

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        cuda.set_sync_debug_mode("warn")
        try:
            yield found
        finally:
            cuda.set_sync_debug_mode(previous)
    for message, category, filename, lineno in passed:
        warnings.warn_explicit(message, category, filename, lineno)
