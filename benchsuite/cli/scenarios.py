"""The commands that read scenario files: ``schema``, ``validate`` and ``list``. Exit status 1 on a scenario file
that does not load (one line per error, never a traceback)."""

from __future__ import annotations

import argparse
import json
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


def add_schema(sub: argparse._SubParsersAction) -> None:
    """Add the ``schema`` command to the subcommands ``sub``."""
    p = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.set_defaults(func=cmd_schema)


def _add_paths(p: argparse.ArgumentParser) -> None:
    """The scenario files or folders a command reads."""
    p.add_argument("paths", nargs="*", default=["scenarios"], help="files or folders (default: scenarios)")


def add_validate(sub: argparse._SubParsersAction) -> None:
    """Add the ``validate`` command to the subcommands ``sub``."""
    p = sub.add_parser("validate", help="check scenario files")
    _add_paths(p)
    p.set_defaults(func=cmd_validate)


def add_list(sub: argparse._SubParsersAction) -> None:
    """Add the ``list`` command to the subcommands ``sub``."""
    p = sub.add_parser("list", help="list run ids")
    _add_paths(p)
    p.set_defaults(func=cmd_list)
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
