"""The top operators of a profiled window, from ``torch.profiler``'s ``key_averages()`` (grouped by input shape when
shapes are recorded): by self time on the device where the window ran on CUDA, else by self time on the host, per
recorded step, with call counts, input shapes and FLOPs where torch counts them (``with_flops``: matrix
multiplications and convolutions). benchsuite's phase ranges and the profiler's step markers are ranges, not
operators, and are left out. No torch: any object with the fields of ``FunctionEventAvg`` serves.
"""

from __future__ import annotations

from typing import Any

from benchsuite.telemetry import phases


def _is_operator(name: str) -> bool:
    return not (name.startswith(phases.PREFIX) or name.startswith("ProfilerStep"))


def top_operators(averages: list[Any], steps: int, n: int, on_device: bool) -> list[dict[str, Any]]:
    """The ``n`` operators with the most self time per step (device time when ``on_device``), each with
    ``name``, ``calls_per_step``, ``self_cpu_ms``, ``self_device_ms`` (per step; None on a CPU), ``input_shapes`` and
    ``gflop_per_step`` (None where torch counts none).

    Args:
        averages: ``key_averages()`` entries (``key``, ``count``, ``self_cpu_time_total`` and ``self_device_time_total``
            in microseconds, ``input_shapes``, ``flops``).
        steps: the recorded steps the totals cover.
    """
    steps = max(1, steps)
    rows = [a for a in averages if _is_operator(str(a.key))]
    key = "self_device_time_total" if on_device else "self_cpu_time_total"
    rows.sort(key=lambda a: -float(getattr(a, key, 0.0) or 0.0))
    return [_row(a, steps, on_device) for a in rows[:n]]


def _row(average: Any, steps: int, on_device: bool) -> dict[str, Any]:
    flops = getattr(average, "flops", 0) or 0
    device = getattr(average, "self_device_time_total", 0.0) or 0.0
    return {
        "name": str(average.key),
        "calls_per_step": average.count / steps,
        "self_cpu_ms": average.self_cpu_time_total / steps / 1000.0,
        "self_device_ms": device / steps / 1000.0 if on_device else None,
        "input_shapes": _shapes(getattr(average, "input_shapes", None)),
        "gflop_per_step": flops / steps / 1e9 if flops else None,
    }


def _shapes(shapes: Any) -> str:
    """``[[128, 40], [256, 40]]`` → ``128×40, 256×40`` (scalars and empty inputs left out)."""
    if not shapes:
        return ""
    return ", ".join("×".join(str(d) for d in shape) for shape in shapes if isinstance(shape, list | tuple) and shape)
