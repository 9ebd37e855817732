"""Holistic Trace Analysis (the ``hta`` package; the ``gpu`` extra) on the CUDA traces of a profiled window: the
temporal breakdown (compute, non-compute and idle time of the device) and, for data-parallel cases, the
communication/computation overlap. Optional: without the package, or on a trace it cannot read, the profile keeps its
own phase table and says why the breakdown is missing.

HTA reads one trace per rank (``TraceAnalysis(trace_files={rank: path})``), finds the rank in the trace's
``distributedInfo`` and drops the last profiled step by default (HTA documentation, "Trace Analysis"; its
``TraceAnalysis`` and ``Trace`` classes). Its figures are microseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def hta_breakdown(traces: dict[int, Path], module: Any = None) -> tuple[dict[str, Any] | None, str | None]:
    """(breakdown, None), or (None, why) when HTA is absent or fails.

    Args:
        traces: rank → gzipped Chrome trace of the same window.
        module: the ``hta.trace_analysis`` module (tests pass a fake); None imports it.

    The breakdown holds ``temporal`` (per rank: idle, compute, non-compute and kernel time in µs and their shares)
    and, with more than one rank, ``comm_comp_overlap`` (per rank, percent of communication overlapped by compute).
    """
    if module is None:
        try:
            from hta import trace_analysis as module
        except ImportError:
            return None, "Holistic Trace Analysis is not installed (pip install -e '.[gpu]')"
    if not traces:
        return None, "no trace was kept for this window"
    folder = next(iter(traces.values())).parent
    try:
        analysis = module.TraceAnalysis(trace_files={r: str(p) for r, p in traces.items()}, trace_dir=str(folder))
        out = {"temporal": analysis.get_temporal_breakdown(visualize=False).to_dict("records")}
        if len(traces) > 1:
            out["comm_comp_overlap"] = analysis.get_comm_comp_overlap(visualize=False).to_dict("records")
    except Exception as exc:  # HTA raises on traces it cannot read (CPU-only ones among them): the table stays
        return None, f"Holistic Trace Analysis failed on this trace: {type(exc).__name__}: {exc}"
    return out, None
