"""The ``doctor`` command: the check to run first on a new machine (:mod:`benchsuite.doctor`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_doctor(args: argparse.Namespace) -> int:
    """Run the doctor's API and step checks, one seed of its scenarios, and say what looked wrong. Exit status: 0
    nothing looked wrong, 1 something did, 2 a scenario or output could not be used, 4 ``--device cuda`` without
    CUDA."""
    from benchsuite.doctor import run_doctor

    paths = [Path(p) for p in (args.scenarios or ["scenarios"])]
    extra = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    return run_doctor(args.device, paths, Path(args.results_dir), Path(args.reports_dir), extra, args.compile_backend)


def add_doctor(sub: argparse._SubParsersAction) -> None:
    """Add the ``doctor`` command to the subcommands ``sub``."""
    p = sub.add_parser(
        "doctor",
        help="check this machine first: CUDA/NVML APIs, MFU peak, host syncs in the step, compile + TF32, then one "
        "seed of the precision, data-serving and norm scenarios; says what looked wrong (about 5 minutes on a GPU)",
    )
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to check; auto: cuda when available (default: %(default)s)",
    )
    p.add_argument(
        "--scenarios",
        action="append",
        metavar="PATH",
        help="where the precision, data-serving and norm scenarios are; repeat for several (default: scenarios)",
    )
    p.add_argument(
        "--compile-backend",
        default="inductor",
        metavar="NAME",
        help="torch.compile backend of the compile check (eager: no compiler needed) (default: %(default)s)",
    )
    p.add_argument("--results-dir", default="results", metavar="DIR", help="(default: %(default)s)")
    p.add_argument("--reports-dir", default="reports", metavar="DIR", help="(default: %(default)s)")
    p.add_argument(
        "pytest_args",
        nargs=argparse.REMAINDER,
        metavar="-- PYTEST_ARGS",
        help="further options for the benchmark session, after '--' (e.g. -- --no-profile)",
    )
    p.set_defaults(func=cmd_doctor)
