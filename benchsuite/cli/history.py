"""The ``history`` command: every results file of one machine id or several, in commit order, as one page with the
steps found in each case's figures and each claim's verdict over the commits."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchsuite import options


def cmd_history(args: argparse.Namespace) -> int:
    """Write the history page of the results files under ``args.paths`` (:mod:`benchsuite.report.history`) and
    print its path and the confirmed steps, one line each. A results file that cannot be read is left out with a
    warning line naming it. Exit status: 0; 2 with one line when no results file is found or the page cannot be
    written."""
    from benchsuite.compare.history import results_files
    from benchsuite.report.filters import fmt_compared
    from benchsuite.report.history import write_history

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing or not results_files(Path(p) for p in args.paths):
        what = f"no such file or folder: {', '.join(missing)}" if missing else "no results file (*.json) found"
        print(f"error: {what} under {', '.join(args.paths)}", file=sys.stderr)
        return 2
    reports = Path(args.reports_dir) if args.reports_dir else None
    try:
        out, history = write_history([Path(p) for p in args.paths], Path(args.output), reports, args.last)
    except OSError as exc:
        print(f"error: cannot write {exc.filename or args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for line in history.problems:
        print(f"warning: left out {line}", file=sys.stderr)
    for machine, entries in sorted(history.machines.items()):
        runs = f"{len(entries)} run{'s' if len(entries) != 1 else ''}"
        print(f"{machine}: {runs}, commits {entries[0].short}..{entries[-1].short}")
    for s in history.confirmed:
        kind = "regression" if s.regression else "improvement"
        where = f"{s.machine_id} / {s.scenario} / {s.case_id}"
        print(f"step: {where}: {s.figure} {fmt_compared(s.ratio)} at {s.before}..{s.after} ({kind})")
    print(out)
    return 0


def add_history(sub: argparse._SubParsersAction) -> None:
    """Add the ``history`` command to the subcommands ``sub``."""
    p = sub.add_parser("history", help="results files over commits: a trend page per machine id, with the steps found")
    p.add_argument("paths", nargs="+", metavar="RESULTS_DIR", help="results files, or folders searched for *.json")
    p.add_argument("-o", "--output", default="history.html", help="the page to write (default: %(default)s)")
    p.add_argument(
        "--reports-dir",
        default="reports",
        help="where each run's report is looked for, <machine-id>_<run-id>.html, to link to (default: %(default)s)",
    )
    p.add_argument(
        "--last",
        type=options.positive_int,
        metavar="N",
        help="only each machine id's N newest runs, by commit date (default: every run)",
    )
    p.set_defaults(func=cmd_history)
