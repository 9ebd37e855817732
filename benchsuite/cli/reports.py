"""The commands that read one results file: ``report`` (HTML or Markdown) and ``seeds``. Exit status 2 with one
line on a results file they cannot use (or an output they cannot write), never a traceback."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchsuite import options


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild the HTML report of a results file (``--format html``), or print its verdict table as Markdown
    (``--format markdown``, for a CI job summary; ``-o`` writes it to a file, and ``-o "$GITHUB_STEP_SUMMARY"``
    appends), or with ``--against BASE`` the pull-request comment on it against the base run
    (:func:`benchsuite.report.comment.comment_body`; ``--base-commit``, ``--fail-on``). Stored scenarios that today's
    schema no longer takes are reported as stored, each with a warning line, as is a session that did not finish.
    Exit status: 0 (with ``--against`` whether or not the gate was breached: ``benchsuite compare --fail-on`` is the
    gate), or 2 with one line on a results file that cannot be used, an output that cannot be written, a rule or
    sha that does not parse, or ``--against`` without ``--format markdown``."""
    from benchsuite.results import frames
    from benchsuite.results.files import read_results

    refused = _refused_options(args)
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    path = Path(args.results_file)
    try:
        data = read_results(path)
        if args.format == "markdown":
            out = _write_markdown(_markdown(path, data, args), args.output)
        else:
            from benchsuite.report.html import write_report

            out = write_report(path, out=Path(args.output) if args.output else None, data=data)
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


def _refused_options(args: argparse.Namespace) -> str | None:
    """Why the options do not go together, or None: ``--against`` builds Markdown, and ``--base-commit`` and
    ``--fail-on`` belong to ``--against``."""
    if args.against and args.format != "markdown":
        return "--against builds the pull-request comment, which is Markdown: add --format markdown"
    if not args.against and (args.base_commit or args.fail_on):
        return "--base-commit and --fail-on go with --against BASE (the pull-request comment)"
    return None


def _markdown(path: Path, data: dict, args: argparse.Namespace) -> str:
    """The verdict table of ``data``, or with ``--against`` the pull-request comment.

    Raises:
        ValueError: an unreadable base file (ResultsError, naming it), a rule or sha that does not parse.
    """
    if not args.against:
        from benchsuite.report.overview import markdown_summary

        return markdown_summary(data)
    from benchsuite.report.comment import comment_body

    return comment_body(
        path, Path(args.against), new_data=data, base_commit=args.base_commit, fail_on=args.fail_on or None
    )


def _write_markdown(text: str, output: str | None) -> str | None:
    """Print the Markdown ``text``, or append it to ``output`` (GitHub's job summary file is appended to); return
    the file written, if any."""
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
    p.add_argument(
        "--against",
        metavar="BASE",
        help="with --format markdown: the pull-request comment on this run against the results file BASE (the "
        "verdicts that changed, the gate's breaches when both have the same machine id, the verdict table)",
    )
    p.add_argument(
        "--base-commit",
        metavar="SHA",
        help="with --against: the pull request's base commit; when BASE ran another, the comment says the nearest "
        "earlier commit's run was used",
    )
    p.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="RULE",
        help="with --against: the gate's rules, as benchsuite compare takes them (default: time_per_step:+10%% "
        "and throughput:-10%%); repeatable. Exit status stays 0: the comment is information",
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
