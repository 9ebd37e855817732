"""Write tests/data/schedules_replay.json, the fixture of tests/test_replay.py, from results files of real sessions.

- Steps-to-target of the schedules claim's two cases (``lr_schedule=onecycle`` and its reference
  ``lr_schedule=constant``) for every seed of every planned look (the scenario's seeds, then its top-up's), from the
  ``--steps`` files: steps are the algorithm's part, the same for a seed on one CPU, so each seed may come from any
  file that ran it (a seed two files disagree on is refused).
- A/A time noise from the ``--noise`` files, each a session of this machine: the per-seed log ratios of time-to-target
  of the known-answers scenario's A/A pair (``optimizer=adam-again`` against ``optimizer=adam``: one configuration,
  the same steps, so the ratio is the machine's noise on one pair of runs), and the per-run log residuals of seconds
  per step to the target (time-to-target / steps-to-target) about their case's median in the session, for every run
  of the schedules scenario.

Usage (from the repository root; results files as ``pytest benchsuite --benchmark`` writes them)::

    python tests/data/make_schedules_replay.py --steps A.json B.json --noise A.json C.json \\
        --command "what produced the files" -o tests/data/schedules_replay.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
from pathlib import Path

import numpy as np

from benchsuite.results import frames
from benchsuite.results.files import read_results
from benchsuite.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "schedules.yaml"
CASE, REFERENCE = "lr_schedule=onecycle", "lr_schedule=constant"
AA_CASE, AA_REFERENCE = "optimizer=adam-again", "optimizer=adam"
ABOUT = (
    "Replay data of the schedules claim (tests/test_replay.py): steps-to-target of its two cases for every seed of "
    "every planned look, and this machine's A/A time noise (known-answers A/A pair log ratios per seed; schedules "
    "runs' log residuals of seconds per step about their case's median), one list per real session; written by "
    "tests/data/make_schedules_replay.py."
)


def _reached(runs):
    ok = (runs["status"] == "ok") & runs["steps_to_target"].notna() & runs["time_to_target_s"].notna()
    return runs[ok]


def _session(path: str, data: dict) -> dict:
    info = data.get("benchsuite") or {}
    return {
        "file": Path(path).name,
        "run_id": info.get("run_id"),
        "machine_id": info.get("machine_id"),
        "datetime": data.get("datetime"),
        "commit": (data.get("commit_info") or {}).get("id"),
    }


def steps_to_target(paths: list[str], seeds: tuple[int, ...]) -> tuple[dict, list]:
    """{case id: steps of each of ``seeds``} for both cases, and the run id of the file each seed was read from."""
    steps: dict[str, dict[str, int]] = {CASE: {}, REFERENCE: {}}
    source: dict[str, str] = {}
    for path in paths:
        data = read_results(path)
        runs = _reached(frames.runs_frame(data))
        runs = runs[(runs["scenario"] == "schedules") & runs["case_id"].isin(steps)]
        for row in runs.itertuples():
            seed, value = str(int(row.seed)), int(row.steps_to_target)
            known = steps[row.case_id].setdefault(seed, value)
            if known != value:
                raise ValueError(f"{path}: {row.case_id} seed {seed} took {value} steps, another file {known}")
            source.setdefault(seed, data["benchsuite"]["run_id"])
    missing = [(c, s) for c in steps for s in seeds if str(s) not in steps[c]]
    if missing:
        raise ValueError(f"no steps-to-target for {missing}")
    return {c: [steps[c][str(s)] for s in seeds] for c in steps}, [source[str(s)] for s in seeds]


def noise(path: str) -> tuple[dict, list[float], list[float], list[float]]:
    """One session's provenance, A/A log ratios (seed order), schedules runs' log residuals (run order) and the
    seconds per step to the target of the claim's two cases' runs."""
    data = read_results(path)
    runs = _reached(frames.runs_frame(data)).copy()
    runs["log_s_per_step"] = np.log(runs["time_to_target_s"] / runs["steps_to_target"])
    aa = runs[runs["scenario"] == "known-answers"].pivot(index="seed", columns="case_id", values="time_to_target_s")
    aa = aa[[AA_CASE, AA_REFERENCE]].dropna().sort_index()
    ratios = np.log(aa[AA_CASE] / aa[AA_REFERENCE])
    mine = runs[runs["scenario"] == "schedules"].sort_values("order_index")
    residuals = mine["log_s_per_step"] - mine.groupby("case_id")["log_s_per_step"].transform("median")
    seconds = np.exp(mine[mine["case_id"].isin([CASE, REFERENCE])]["log_s_per_step"]).tolist()
    return _session(path, data), [round(float(r), 6) for r in ratios], [round(float(r), 6) for r in residuals], seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", nargs="+", required=True, help="results files holding the claim's cases' steps")
    parser.add_argument("--noise", nargs="+", required=True, help="results files of sessions whose noise to keep")
    parser.add_argument("--command", default="", help="how the results files were made (recorded as is)")
    parser.add_argument("--note", default="", help="anything else the fixture should say about its sources")
    parser.add_argument("-o", "--output", default=str(Path(__file__).with_name("schedules_replay.json")))
    args = parser.parse_args(argv)
    spec = load_scenario(SCENARIO)
    seeds = spec.top_up.look_seeds(spec.seeds, spec.top_up.looks)
    steps, steps_from = steps_to_target(args.steps, seeds)
    sessions, aa, residuals, seconds = [], {}, {}, []
    for path in args.noise:
        session, ratios, res, secs = noise(path)
        sessions.append(session)
        aa[session["run_id"]], residuals[session["run_id"]] = ratios, res
        seconds += secs
    fixture = {
        "about": ABOUT,
        "provenance": {
            "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "generator": "tests/data/make_schedules_replay.py",
            "command": args.command,
            "note": args.note,
            "steps_files": [_session(p, read_results(p)) for p in args.steps],
            "noise_sessions": sessions,
        },
        "scenario": spec.name,
        "claim": spec.claims[0].says,
        "case": CASE,
        "reference": REFERENCE,
        "seeds": list(seeds),
        "steps_to_target": steps,
        "steps_from": steps_from,
        "base_s_per_step": round(float(np.median(seconds)), 9),
        "aa_log_ratios": aa,
        "run_log_residuals": residuals,
    }
    if not all(math.isfinite(v) for values in aa.values() for v in values):
        raise ValueError("an A/A log ratio is not finite")
    Path(args.output).write_text(_dumps(fixture) + "\n", encoding="utf-8")


def _dumps(fixture: dict) -> str:
    """JSON with one key a line and each list of numbers on one line."""
    text = json.dumps(fixture, indent=1)
    return re.sub(r"\[\s*(-?[0-9][^\[\]{}\"]*?)\s*\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text)


if __name__ == "__main__":
    main()
