"""The commands that set results side by side: ``compare`` (with its ``--fail-on`` gate), ``nearest`` (the
reference CI compares against) and ``base`` (the run of a pull request's base commit in CI's history)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare results files or folders: the table, the claims matrix, an optional HTML report and the gate.

    Exit status: 0, 1 when a ``--fail-on`` rule is breached, 2 on unusable input (one line, never a traceback): an
    unreadable file or a bad value in one, nothing to compare (one side only, no case in common), a rule that does
    not parse, an HTML output that cannot be written.
    """
    from benchsuite.compare.gate import GateRule, gate
    from benchsuite.compare.sides import compare, load_side
    from benchsuite.report.terminal import compare_lines

    try:
        rules = [GateRule.parse(text) for text in args.fail_on]
        comparison = compare([load_side(Path(p), args.all) for p in args.paths])
        breaches = gate(comparison, rules) if rules else []
    except ValueError as exc:  # ResultsError is one: unreadable file, nothing matched, a rule that does not parse
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(compare_lines(comparison)))
    if args.output:
        from benchsuite.report.compare import write_comparison

        try:
            print(write_comparison(comparison, Path(args.output)))
        except OSError as exc:
            print(f"error: cannot write {exc.filename or args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    for line in breaches:
        print(f"regression: {line}")
    if rules:
        print(f"gate: {len(breaches)} breach{'es' if len(breaches) != 1 else ''} of {', '.join(args.fail_on)}")
    return 1 if breaches else 0


def cmd_nearest(args: argparse.Namespace) -> int:
    """Print the reference folder nearest in hardware to a results file (CI compares against it); the reason goes
    to stderr. Exit 1 with one line when no reference has the same device type or the file cannot be read."""
    from benchsuite.compare.nearest import nearest_reference

    try:
        found = nearest_reference(Path(args.results_file), Path(args.references))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if found is None:
        print(f"no reference under {args.references} has this device type", file=sys.stderr)
        return 1
    kind = "the same hardware" if found.same_hardware else "other hardware"
    print(f"nearest reference: {found.folder} ({kind}; {found.reason})", file=sys.stderr)
    print(found.folder)
    return 0


def cmd_base(args: argparse.Namespace) -> int:
    """Print the results file of ``--commit`` on runner kind ``--machine-id`` under a history folder, or of the
    nearest earlier commit with ``--commit-date`` (:func:`benchsuite.compare.base.find_base`); the reason goes to
    stderr, and a warning line for each file skipped as unreadable. Exit status: 0; 1 with one line when nothing
    fits; 2 with one line on a commit or date that does not parse."""
    from benchsuite.compare.base import NoBaseError, find_base

    try:
        found = find_base(Path(args.results_dir), args.machine_id, args.commit, args.commit_date)
    except NoBaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(found.reason, file=sys.stderr)
    print(found.path)
    return 0


def add_compare(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare`` command to the subcommands ``sub``."""
    p = sub.add_parser("compare", help="compare results files or results/<machine-id>/ folders, with a gate")
    p.add_argument("paths", nargs="+", help="results files or folders (a folder: its newest file); the first is A")
    p.add_argument("--all", action="store_true", help="pool every results file of a folder")
    p.add_argument("-o", "--output", help="also write a self-contained HTML comparison here")
    p.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="RULE",
        help="exit 1 when a difference's 95 %% interval lies wholly beyond this, e.g. time_per_step:+10%% "
        "(time_per_step, time_to_target, throughput; + for an increase, - for a drop); repeatable",
    )
    p.set_defaults(func=cmd_compare)


def add_nearest(sub: argparse._SubParsersAction) -> None:
    """Add the ``nearest`` command to the subcommands ``sub``."""
    p = sub.add_parser("nearest", help="the committed reference run nearest in hardware to a results file")
    p.add_argument("results_file")
    p.add_argument(
        "--references", default="results", help="folder of results/<machine-id>/ folders (default: %(default)s)"
    )
    p.set_defaults(func=cmd_nearest)


def add_base(sub: argparse._SubParsersAction) -> None:
    """Add the ``base`` command to the subcommands ``sub``."""
    p = sub.add_parser(
        "base", help="the results file of a commit (or the nearest earlier one) on a runner kind, for a pull request"
    )
    p.add_argument("results_dir", help="history folder of <machine-id>/<run-id>.json files")
    p.add_argument("--machine-id", required=True, help="the runner kind: the machine id of the new results file")
    p.add_argument("--commit", required=True, help="the base commit's sha (at least 7 hex digits)")
    p.add_argument(
        "--commit-date",
        help="the base commit's date, ISO 8601 (git show -s --format=%%cI SHA): without results of the commit, "
        "the run of the newest commit not after it is chosen (default: exact matches only)",
    )
    p.set_defaults(func=cmd_base)
