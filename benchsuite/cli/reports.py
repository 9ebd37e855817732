"""The commands that read one results file: ``report`` (HTML or Markdown) and ``seeds``. Exit status 2 with one
line on a results file they cannot use (or an output they cannot write), never a traceback."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchsuite import options


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild the HTML report of a results file (``--format html``), or print its verdict table as Markdown
    (``--format markdown``, for a CI job summary or a pull-request comment; ``-o`` writes it to a file, and ``-o
    "$GITHUB_STEP_SUMMARY"`` appends). Stored scenarios that today's schema no longer takes are reported as stored,
    each with a warning line, as is a session that did not finish. Exit status: 0, or 2 with one line on a results
    file that cannot be used or an output that cannot be written."""
    from benchsuite.results import frames
    from benchsuite.results.files import read_results

    path = Path(args.results_file)
    try:
        data = read_results(path)
        if args.format == "markdown":
            out = _write_markdown(data, args.output)
        else:
            from benchsuite.report.html import write_report

            out = write_report(path, out=Path(args.output) if args.output else None)
    except ValueError as exc:  # ResultsError: one line naming the file (and the field and value)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write {exc.filename or args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for spec in frames.scenario_specs(data).values():
        for problem in spec.problems:
            print(f"warning: {path}: {problem}", file=sys.stderr)
    if frames.incomplete(data):
        print(f"warning: {path}: the session did not finish; the report covers the runs it finished", file=sys.stderr)
    if out:
        print(out)
    return 0


def _write_markdown(data: dict, output: str | None) -> str | None:
    """Print the Markdown summary, or append it to ``output`` (GitHub's job summary file is appended to); return the
    file written, if any."""
    from benchsuite.report.overview import markdown_summary

    text = markdown_summary(data)
    if not output:
        sys.stdout.write(text)
        return None
    with open(output, "a", encoding="utf-8") as handle:
        handle.write(text)
    return output


def cmd_seeds(args: argparse.Namespace) -> int:
    """Print, per scenario of a results file, its first look's seeds (n₀), the n₀ its claims call for from the
    spread of its runs and why (:mod:`benchsuite.analysis.seeds`; Kalibera & Jones 2013). Exit status: 0, or 2 with
    one line on a results file that cannot be used."""
    from benchsuite.analysis.seeds import suggest_seeds
    from benchsuite.results.files import read_results

    try:
        suggestions = suggest_seeds(read_results(Path(args.results_file)), reach=args.reach)
    except ValueError as exc:  # ResultsError: one line naming the file (and the field and value)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for s in suggestions:
        change = "more" if s.suggested > s.current else "fewer" if s.suggested < s.current else "as is"
        print(f"{s.scenario}: n0 {s.current} -> {s.suggested} ({change}; floor {s.floor}): {s.why}")
        for claim in s.claims:
            print(f"  - {claim.claim.says}: {claim.why}" + (" [beyond reach]" if claim.beyond_reach else ""))
    return 0


def add_report(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` command to the subcommands ``sub``."""
    p = sub.add_parser("report", help="rebuild the HTML report of a results file, or print its verdicts as Markdown")
    p.add_argument("results_file")
    p.add_argument(
        "--format",
        choices=("html", "markdown"),
        default="html",
        help="html: the full report; markdown: the verdict table, for CI job summaries (default: html)",
    )
    p.add_argument(
        "-o",
        "--output",
        help="output file (html default: reports/<machine-id>_<run-id>.html; markdown "
        "default: stdout; a markdown file is appended to)",
    )
    p.set_defaults(func=cmd_report)


def add_seeds(sub: argparse._SubParsersAction) -> None:
    """Add the ``seeds`` command to the subcommands ``sub``."""
    p = sub.add_parser("seeds", help="the seeds each scenario's first look needs, from a results file's spread")
    p.add_argument("results_file")
    p.add_argument(
        "--reach",
        type=options.factor,
        default=3.0,
        metavar="X",
        help="a claim needing more than X times the seeds it has is beyond reach and is only reported "
        "(default: %(default)s, the seeds of three looks)",
    )
    p.set_defaults(func=cmd_seeds)
