"""``benchsuite`` command line: ``schema``, ``validate``, ``list``, ``profile``, ``report``, ``compare``, ``nearest``,
``base``, ``history``, ``seeds``, ``doctor``.

Errors are printed as one clear message each (file, field, value), never a traceback: exit status 2 for results
files ``report`` and ``compare`` cannot use (or outputs they cannot write), 1 for scenario files and profiling.

One module per group of commands, each with its ``cmd_*`` functions and the ``add_*`` functions that add them to the
parser: :mod:`.scenarios` (``schema``, ``validate``, ``list``), :mod:`.comparisons` (``compare``, ``nearest``,
``base``), :mod:`.reports` (``seeds``, ``report``), :mod:`.history` (``history``), :mod:`.profile` (``profile``)
and :mod:`.doctor` (``doctor``).
"""

from __future__ import annotations

import argparse
import signal

from benchsuite.cli import comparisons, doctor, history, profile, reports, scenarios
from benchsuite.cli.scenarios import scenario_schema

__all__ = ["build_parser", "main", "scenario_schema"]

# The subcommands in the order ``benchsuite --help`` lists them.
_COMMANDS = (
    scenarios.add_schema,
    scenarios.add_validate,
    scenarios.add_list,
    comparisons.add_compare,
    comparisons.add_nearest,
    comparisons.add_base,
    reports.add_seeds,
    profile.add_profile,
    reports.add_report,
    history.add_history,
    doctor.add_doctor,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``benchsuite`` parser: each subcommand sets ``func``, the function that runs it and returns the exit
    status."""
    parser = argparse.ArgumentParser(prog="benchsuite", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for add in _COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``benchsuite`` console script."""
    if hasattr(signal, "SIGPIPE"):  # `benchsuite list | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = build_parser().parse_args(argv)
    return args.func(args)
