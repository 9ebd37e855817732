"""The ``profile`` command: one case of a scenario in a profiling window of its own. Exit status 1 with one line on
unusable input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchsuite import options


def cmd_profile(args: argparse.Namespace) -> int:
    """Profile one case of a scenario in a window of its own and print where a step's time goes: the phase table,
    the top operators, the host syncs (CUDA) and the trace written. Exit status 1 with one line on unusable input."""
    from benchsuite.scenario.load import ScenarioError, load_scenario
    from benchsuite.scenario.matrix import find_case
    from benchsuite.telemetry.hardware import resolve_device

    device = resolve_device(args.device)
    try:
        spec = load_scenario(Path(args.scenario))
        case = find_case(spec, args.case, device.type)
    except (ScenarioError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    window = spec.profile.model_copy(update={"steps": args.steps} if args.steps else {})
    trace = Path(args.trace_dir) / f"{spec.name}_{case.case_id}.json.gz" if args.trace_dir else None
    info = _profile(case, device, window, trace)
    from benchsuite.report.terminal import profile_lines

    print("\n".join(profile_lines(info)))
    return 0 if info.get("status") == "ok" else 1


def _profile(case, device, window, trace) -> dict:
    """The case's window in this process, or on its ranks for a data-parallel case."""
    world_size = case.config.train.world_size
    if world_size == 1:
        from benchsuite.profiling.window import profile_case

        return profile_case(case, device, window, trace_path=trace)
    from benchsuite.distributed.pool import Launcher, RankPools

    pools = RankPools(device, Launcher())
    try:
        return pools.get(world_size).profile(case, window, trace)
    finally:
        pools.close()


def add_profile(sub: argparse._SubParsersAction) -> None:
    """Add the ``profile`` command to the subcommands ``sub``."""
    p = sub.add_parser("profile", help="profile one case of a scenario: where a step's time goes, top operators")
    p.add_argument("scenario", help="a scenario file")
    p.add_argument("--case", help="the case: its id, or axis=value[,axis=value] (default: the scenario's only case)")
    p.add_argument(
        "--steps",
        type=options.positive_int,
        default=None,
        metavar="N",
        help="recorded steps (default: the scenario's profile.steps)",
    )
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to train; auto: cuda when available (default: %(default)s)",
    )
    p.add_argument("--trace-dir", metavar="DIR", help="write the window's Chrome/Perfetto trace here (gzipped JSON)")
    p.set_defaults(func=cmd_profile)
