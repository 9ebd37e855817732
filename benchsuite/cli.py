"""``benchsuite`` command line: ``schema``, ``validate``, ``list``, ``profile``, ``report``, ``compare``, ``nearest``,
``seeds``.

Errors are printed as one clear message each (file, field, value), never a traceback: exit status 2 for results
files ``report`` and ``compare`` cannot use (or outputs they cannot write), 1 for scenario files and profiling.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from benchsuite import options
from benchsuite.scenario.load import load_scenarios
from benchsuite.scenario.matrix import RUN_ORDERS
from benchsuite.specs.scenario import ScenarioSpec


def scenario_schema() -> dict:
    """The JSON Schema of the scenario format, with the pydantic version that wrote it (versions differ in form)."""
    import pydantic

    minor = ".".join(pydantic.VERSION.split(".")[:2])
    return {"$comment": f"written by benchsuite schema with pydantic {minor}", **ScenarioSpec.model_json_schema()}


def cmd_schema(args: argparse.Namespace) -> int:
    """Print (or write) the JSON Schema of the scenario format, for editors."""
    text = json.dumps(scenario_schema(), indent=2) + "\n"
    if args.output:
        from benchsuite.results.files import atomic_write_text

        atomic_write_text(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files without running them; print one line per good file and every error."""
    from benchsuite.scenario.matrix import expand_runs

    loaded = load_scenarios([Path(p) for p in args.paths])
    for path, spec in loaded.scenarios:
        runs = expand_runs(spec)
        print(f"ok      {path}: {spec.name}, {len(runs) // len(spec.seeds)} cases x {len(spec.seeds)} seeds")
    for error in loaded.errors:
        print(f"invalid {error}", file=sys.stderr)
    if not loaded.scenarios and not loaded.errors:
        print(f"no scenario files under {', '.join(args.paths)}", file=sys.stderr)
        return 1
    return 1 if loaded.errors else 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print the id of every item the scenarios expand to, in the order ``pytest benchsuite --benchmark`` runs them:
    the runs in ``--run-order``, the top-up runs of the later looks (each run only while a claim on its case is
    open; ``--no-top-ups`` leaves them out, as ``--top-up-s 0`` and a smoke session do), then each scenario's paired
    step-timing items."""
    from benchsuite.scenario.matrix import expand_runs, timing_pairs, top_up_runs

    loaded = load_scenarios([Path(p) for p in args.paths])
    for _, spec in loaded.scenarios:
        runs = expand_runs(spec, order=args.run_order, order_seed=args.run_order_seed)
        for item in [*runs, *(top_up_runs(spec) if args.top_ups else []), *timing_pairs(spec)]:
            print(item.run_id)
    for error in loaded.errors:
        print(f"invalid {error}", file=sys.stderr)
    return 1 if loaded.errors else 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchsuite", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.set_defaults(func=cmd_schema)
    for name, func, text in (("validate", cmd_validate, "check scenario files"), ("list", cmd_list, "list run ids")):
        p = sub.add_parser(name, help=text)
        p.add_argument("paths", nargs="*", default=["scenarios"], help="files or folders (default: scenarios)")
        p.set_defaults(func=func)
        if name == "list":
            p.add_argument(
                "--run-order",
                choices=RUN_ORDERS,
                default="random",
                help="order of the runs, as pytest's --run-order (default: %(default)s)",
            )
            p.add_argument(
                "--top-ups",
                action=argparse.BooleanOptionalAction,
                default=True,
                help="the top-up runs of later looks, as a --benchmark session collects them (default: on)",
            )
            p.add_argument(
                "--run-order-seed",
                type=options.non_negative_int,
                default=0,
                metavar="N",
                help="seed of the random order (default: %(default)s)",
            )
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
    p = sub.add_parser("nearest", help="the committed reference run nearest in hardware to a results file")
    p.add_argument("results_file")
    p.add_argument(
        "--references", default="results", help="folder of results/<machine-id>/ folders (default: %(default)s)"
    )
    p.set_defaults(func=cmd_nearest)
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``benchsuite`` console script."""
    if hasattr(signal, "SIGPIPE"):  # `benchsuite list | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
