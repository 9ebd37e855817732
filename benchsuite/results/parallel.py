"""Independent pieces of reading results, run in worker processes: the history's results files
(:mod:`benchsuite.compare.history`) and a report's scenario sections (:mod:`benchsuite.report.sections`) are each
independent of the others, and judging claims and drawing figures is CPU-bound Python, so a 2-core machine takes
about half the time in two processes. Pieces too few to pay for starting processes, a machine of one core, or a place
where processes cannot start (a sandbox without ``/dev/shm``) run in this process instead, with the same results.

The standard library's :class:`concurrent.futures.ProcessPoolExecutor`; workers end with the ``with`` block, so no
process outlives the call. On Linux the workers are forked (PyTorch's DataLoader forks its workers the same way from
a process that imported torch); what they compute never touches torch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def worker_count(requested: int | None = None) -> int:
    """``requested``, or one worker per CPU core this process may use (``os.sched_getaffinity`` where the platform
    has it, else ``os.cpu_count``)."""
    if requested:
        return requested
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def process_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    workers: int | None = None,
    *,
    min_items: int = 2,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple = (),
) -> list[R]:
    """``[fn(item) for item in items]``, in order, computed by up to ``workers`` processes (default
    :func:`worker_count`); in this process for fewer than ``min_items`` items, one worker, or when processes cannot be
    started. ``initializer(*initargs)`` runs first in each worker (and here, when run here). ``fn`` must be a
    module-level function and items and results picklable.

    Raises:
        whatever ``fn`` raises (from a worker, as pickled).
    """
    todo = list(items)
    n = min(worker_count(workers), len(todo))
    if n >= 2 and len(todo) >= min_items:
        try:
            with ProcessPoolExecutor(max_workers=n, initializer=initializer, initargs=initargs) as pool:
                return list(pool.map(fn, todo))
        except (OSError, BrokenProcessPool):  # no processes here: compute the items in this one
            pass
    if initializer is not None:
        initializer(*initargs)
    return [fn(item) for item in todo]
