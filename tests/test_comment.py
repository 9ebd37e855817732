"""The pull-request comment (``benchsuite report NEW --format markdown --against BASE``) and the base it is built
against (``benchsuite base``): the no-change body the same bytes for equivalent runs, a regression's breaches and
changed verdicts, the gate only on the same machine id, the fallback to an earlier commit, and bad input refused in
one line."""

from __future__ import annotations

import json
from pathlib import Path

from results_factory import results_data

from benchsuite.cli import main
from benchsuite.report.comment import MARKER, comment_body

MACHINE = "cpu-test-2c"


def _with(data: dict, run_id: str, commit: str, commit_time: str, ran: str, machine: str = MACHINE) -> dict:
    data["benchsuite"]["run_id"] = run_id
    data["commit_info"] = {"id": commit, "time": commit_time}
    data["datetime"] = ran
    data["benchsuite"]["machine_id"] = data["machine_info"]["benchsuite"]["machine_id"] = machine
    return data


def _slowed(data: dict, case: str, factor: float) -> dict:
    """Every time of ``init=<case>``'s runs ``factor`` times as long (its steps as many): a slower machine or a
    slower change."""
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        if info["case_id"] != f"init={case}":
            continue
        for key in ("timed_s", "step_time_s", "step_time_s_median"):
            info[key] *= factor
        info["time_to_target_s"] = info["time_to_target_s"] and info["time_to_target_s"] * factor
        info["throughput_samples_per_s"] /= factor
        info["segments"] = [[seconds * factor, steps] for seconds, steps in info["segments"]]
        for point in info["curve"]:
            point["timed_s"] *= factor
    return data


def _write(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def _base(tmp_path: Path, machine: str = MACHINE) -> Path:
    return _write(tmp_path / "base" / machine / f"{_ids(1)[0]}.json", _with(results_data(), *_ids(1), machine=machine))


def _ids(n: int) -> tuple[str, str, str, str]:
    """Run n's run id, commit, commit time and start."""
    return (f"2026112{n}T000000Z", f"{n}" * 40, f"2026-11-2{n}T00:00:00+00:00", f"2026-11-2{n}T01:00:00+00:00")


def _new(tmp_path: Path, data: dict, n: int = 2) -> Path:
    return _write(tmp_path / "new" / MACHINE / f"{_ids(n)[0]}.json", _with(data, *_ids(n)))


NO_CHANGE = (
    f"{MARKER}\n### benchsuite: cpu-test-2c\n\nNo change against base `1111111` (run `20261121T000000Z`): 1 verdict "
    "the same, no case beyond the gate (time per step +10 %, throughput −10 %).\n"
)


def test_no_change_is_a_short_body_the_same_for_two_runs_with_other_numbers(tmp_path):
    base = _base(tmp_path)
    one = _new(tmp_path, _slowed(results_data(xavier_ttt=(0.9, 1.05, 1.15, 1.25)), "default", 1.03), 2)
    two = _new(tmp_path, _slowed(results_data(), "xavier_uniform", 0.97), 3)
    first, second = comment_body(one, base), comment_body(two, base)
    assert first == NO_CHANGE
    assert second == first  # the effects (2.09× here, 2× there) and run ids are not in it


def test_a_slowdown_beyond_the_gate_lists_its_breaches_the_changed_verdict_and_every_verdict(tmp_path):
    base = _base(tmp_path)
    new = _new(tmp_path, _slowed(results_data(), "xavier_uniform", 2.2))
    body = comment_body(new, base)
    lines = body.splitlines()
    assert lines[:3] == [MARKER, "### benchsuite: cpu-test-2c", ""]
    assert lines[3] == (
        "Against base `1111111` (run `20261121T000000Z`): 1 of 1 verdict changed, 2 breaches of the gate "
        "(time per step +10 %, throughput −10 %)."
    )
    assert "| tiny | Xavier is faster | held | **inconclusive** | init=xavier_uniform vs init=default: 0." in body
    breaches = [line for line in lines if line.startswith("- regression: ")]
    assert len(breaches) == 2
    assert breaches[0].startswith("- regression: tiny / init=xavier_uniform: cpu-test-2c (20261122T000000Z) ")
    assert "time_per_step 2.2× [2.2×, 2.2×] of cpu-test-2c (20261121T000000Z), beyond +10%" in breaches[0]
    assert "<details><summary>Every verdict of run <code>20261122T000000Z</code></summary>" in body
    assert body.count("### benchsuite:") == 1 and body.rstrip().endswith("</details>")


def test_a_verdict_that_flips_without_a_breach_is_a_table_row(tmp_path):
    base = _base(tmp_path)
    body = comment_body(_new(tmp_path, results_data(xavier_ttt=(2.0, 2.6, 2.8, 3.0))), base)
    assert "1 of 1 verdict changed, no case beyond the gate" in body
    assert "| tiny | Xavier is faster | held | **inconclusive** | init=xavier_uniform vs init=default: 0.846×" in body
    assert "regression:" not in body and "#### Beyond the gate" not in body


def test_a_claim_on_one_side_only_is_a_change(tmp_path):
    base = _base(tmp_path)
    data = results_data()
    data["benchsuite"]["scenarios"]["tiny"]["claims"][0]["says"] = "Xavier is quicker"
    body = comment_body(_new(tmp_path, data), base)
    assert "2 of 2 verdicts changed" in body
    assert (
        "| tiny | Xavier is quicker | — | **held** |" in body
        and "| tiny | Xavier is faster | held | **—** | — |" in body
    )


def test_the_gate_is_not_applied_across_machine_ids(tmp_path):
    base = _base(tmp_path, machine="cpu-other-2c")
    body = comment_body(_new(tmp_path, _slowed(results_data(), "default", 1.5)), base)
    assert body == (
        f"{MARKER}\n### benchsuite: cpu-test-2c\n\nNo change against base `1111111` (run `20261121T000000Z`): 1 "
        "verdict the same; the gate was not applied: the base ran on cpu-other-2c, and across machines the gate would "
        "flag the hardware, not the change.\n"
    )


def test_the_rules_given_replace_the_default_gate(tmp_path):
    base = _base(tmp_path)
    new = _new(tmp_path, _slowed(results_data(), "default", 1.5))
    assert comment_body(new, base) != NO_CHANGE  # beyond the default +10 %
    body = comment_body(new, base, fail_on=["time_per_step:+60%"])
    assert body.endswith("no case beyond the gate (time per step +60 %).\n")


def test_a_base_of_an_earlier_commit_says_so(tmp_path):
    base, new = _base(tmp_path), _new(tmp_path, results_data())
    assert comment_body(new, base, base_commit="1111111") == NO_CHANGE  # the base commit's own run: no sentence
    body = comment_body(new, base, base_commit="b" * 40)
    assert body == NO_CHANGE + (
        "The base commit `bbbbbbb` has no results on this runner kind (cpu-test-2c); the nearest earlier commit with "
        "results, `1111111`, was used instead.\n"
    )


def test_report_against_prints_or_appends_the_comment_and_exits_0_on_a_regression(tmp_path, capsys):
    base = _base(tmp_path)
    new = _new(tmp_path, _slowed(results_data(), "xavier_uniform", 2.2))
    assert main(["report", str(new), "--format", "markdown", "--against", str(base)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(MARKER) and "- regression: tiny / init=xavier_uniform" in out
    comment = tmp_path / "comment.md"
    comment.write_text("before\n")
    args = ["report", str(new), "--format", "markdown", "--against", str(base), "-o", str(comment)]
    assert main([*args, "--base-commit", "1111111"]) == 0
    assert comment.read_text() == "before\n" + out and capsys.readouterr().out == f"{comment}\n"


def _refusal(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    return captured.err


def test_report_refuses_against_without_markdown_and_its_options_without_against(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # were it not refused, the HTML report would go to ./reports/
    base, new = _base(tmp_path), _new(tmp_path, results_data())
    err = _refusal(capsys, ["report", str(new), "--against", str(base)])
    assert "--against builds the pull-request comment, which is Markdown: add --format markdown" in err
    err = _refusal(capsys, ["report", str(new), "--format", "markdown", "--base-commit", "1111111"])
    assert "--base-commit and --fail-on go with --against BASE" in err
    err = _refusal(capsys, ["report", str(new), "--format", "markdown", "--against", str(base), "--fail-on", "x:+1"])
    assert "--fail-on 'x:+1': expected <metric>:+<percent>%" in err
    err = _refusal(capsys, ["report", str(new), "--format", "markdown", "--against", str(base), "--base-commit", "12"])
    assert "--base-commit '12': expected a commit sha of 7 to 40 hex digits" in err


def test_report_refuses_a_corrupt_or_missing_base_in_one_line_naming_it(tmp_path, capsys):
    new = _new(tmp_path, results_data())
    corrupt = tmp_path / "base.json"
    corrupt.write_text('{"benchmarks": [')
    err = _refusal(capsys, ["report", str(new), "--format", "markdown", "--against", str(corrupt)])
    assert err.startswith(f"error: {corrupt}: not valid JSON")
    err = _refusal(capsys, ["report", str(new), "--format", "markdown", "--against", str(tmp_path / "none.json")])
    assert f"{tmp_path / 'none.json'}: cannot read" in err


# benchsuite base: the run of a commit on a runner kind, or of the nearest earlier commit


def _history(tmp_path: Path) -> Path:
    """Four runs of cpu-test-2c: commit a twice (the second newer), b, and d after the date the tests ask about;
    one run of another machine."""
    store = tmp_path / "store" / "results"
    runs = [  # commit a's newer run has the name that sorts first: the run's datetime decides
        ("20261120T010000Z-rerun", "a" * 40, "2026-11-20T00:00:00+00:00", "2026-11-20T09:00:00+00:00"),
        ("20261120T090000Z", "a" * 40, "2026-11-20T00:00:00+00:00", "2026-11-20T01:00:00+00:00"),
        ("20261125T010000Z", "b" * 40, "2026-11-25T01:30:00+01:00", "2026-11-25T01:00:00+00:00"),
        ("20261130T010000Z", "d" * 40, "2026-11-30T00:00:00+00:00", "2026-11-30T01:00:00+00:00"),
    ]
    for run in runs:
        _write(store / MACHINE / f"{run[0]}.json", _with(results_data(), *run))
    other = _with(results_data(), "20261126T000000Z", "c" * 40, "2026-11-26T00:00:00Z", "2026-11-26T01:00:00Z", "x")
    _write(store / "x" / "20261126T000000Z.json", other)
    return store


def _base_cli(capsys, store: Path, *args: str) -> tuple[int, str, str]:
    status = main(["base", str(store), "--machine-id", MACHINE, *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_base_is_the_newest_run_of_the_commit_given_whole_or_by_prefix(tmp_path, capsys):
    store = _history(tmp_path)
    newest = f"{store / MACHINE / '20261120T010000Z-rerun.json'}\n"
    assert _base_cli(capsys, store, "--commit", "a" * 40) == (0, newest, "exact: commit aaaaaaa\n")
    assert _base_cli(capsys, store, "--commit", "AAAAAAA", "--commit-date", "2026-11-29T00:00:00Z")[:2] == (0, newest)
    status, out, err = _base_cli(capsys, store, "--commit", "aaaaaa")
    assert (status, out) == (2, "") and "--commit 'aaaaaa': expected a commit sha of 7 to 40 hex digits" in err


def test_base_falls_back_to_the_nearest_earlier_commit(tmp_path, capsys):
    store = _history(tmp_path)
    # b's commit time 01:30+01:00 is 00:30Z, before 00:45Z; d's is after; c ran on another machine
    status, out, err = _base_cli(capsys, store, "--commit", "c" * 40, "--commit-date", "2026-11-29T00:45:00Z")
    assert (status, out) == (0, f"{store / MACHINE / '20261125T010000Z.json'}\n")
    assert err == (
        "commit ccccccc has no results for cpu-test-2c; nearest earlier commit bbbbbbb (2026-11-25T01:30:00+01:00)\n"
    )
    status, out, _ = _base_cli(capsys, store, "--commit", "e" * 40, "--commit-date", "2026-11-25T00:40:00+00:00")
    assert out == f"{store / MACHINE / '20261125T010000Z.json'}\n"
    status, out, _ = _base_cli(capsys, store, "--commit", "e" * 40, "--commit-date", "2026-11-25T00:20:00+00:00")
    assert out == f"{store / MACHINE / '20261120T010000Z-rerun.json'}\n"  # b is later than that: a's newest run


def test_base_exits_1_in_one_line_when_nothing_fits(tmp_path, capsys):
    store = _history(tmp_path)
    missing = "error: commit eeeeeee has no results for cpu-test-2c"
    for args, line in (
        (["--commit", "e" * 40], f"{missing}, and no --commit-date was given to look for an earlier commit\n"),
        (
            ["--commit", "e" * 40, "--commit-date", "2026-11-01T00:00:00Z"],
            f"{missing}, nor has any commit before 2026-11-01T00:00:00Z\n",
        ),
    ):
        assert _base_cli(capsys, store, *args) == (1, "", line)
    assert main(["base", str(store), "--machine-id", "cpu-none", "--commit", "a" * 40]) == 1
    assert capsys.readouterr().err == f"error: no results for cpu-none under {store}\n"
    status, _, err = _base_cli(capsys, store, "--commit", "a" * 40, "--commit-date", "yesterday")
    assert status == 2 and "--commit-date 'yesterday': expected an ISO 8601 date" in err


def test_base_skips_an_unreadable_file_or_another_machines_with_a_warning(tmp_path, capsys):
    store = _history(tmp_path)
    corrupt = store / MACHINE / "20261130T020000Z.json"
    corrupt.write_text('{"benchmarks": [')
    misplaced = _with(results_data(), "20261127T000000Z", "f" * 40, "2026-11-27T00:00:00Z", "2026-11-27T01:00:00Z", "x")
    _write(store / MACHINE / "20261127T000000Z.json", misplaced)
    status, out, err = _base_cli(capsys, store, "--commit", "d" * 40)
    assert (status, out) == (0, f"{store / MACHINE / '20261130T010000Z.json'}\n")
    lines = err.splitlines()
    assert lines[0] == (
        f"warning: skipped {store / MACHINE / '20261127T000000Z.json'}: field 'benchsuite.machine_id' is 'x', "
        "not its folder's 'cpu-test-2c'"
    )
    assert lines[1].startswith(f"warning: skipped {corrupt}: not valid JSON") and lines[2:] == ["exact: commit ddddddd"]
    assert "Traceback" not in err
