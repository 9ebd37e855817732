"""Group-sequential top-ups: the items of later looks (their cases, seeds and order), when they run (a claim on
their case still open, the budget left) and what the results file records of them."""

from __future__ import annotations

import json

import pytest
from conftest import tiny_spec, write_yaml
from test_plugin import results_files, run

from benchsuite.scenario.matrix import claim_cases, top_up_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.top_ups import TopUps

CLAIM = {
    "says": "Xavier needs fewer steps",
    "metric": "steps_to_target",
    "cases": {"init": ["xavier_uniform"]},
    "against": {"init": "default"},
}


def _spec(**overrides) -> ScenarioSpec:
    return ScenarioSpec.model_validate(tiny_spec(**{"claims": [CLAIM], **overrides}))


def test_top_ups_follow_the_runs_look_by_look_seed_major_with_the_order_alternated():
    spec = _spec(seeds=[0, 1], matrix={"init": ["default", "xavier_uniform", "kaiming_normal"]})
    items = top_up_runs(spec)
    assert [(i.look, i.seed, i.case.case_id) for i in items] == [
        (2, 2, "init=default"),
        (2, 2, "init=xavier_uniform"),
        (2, 3, "init=xavier_uniform"),  # every other seed in reverse, so no case always runs first
        (2, 3, "init=default"),
        (3, 4, "init=default"),
        (3, 4, "init=xavier_uniform"),
        (3, 5, "init=xavier_uniform"),
        (3, 5, "init=default"),
    ]  # kaiming_normal is in no claim: it gets no top-up
    assert items[0].run_id == "tiny[look=2:init=default-seed=2]" and items[0].run.run_id == "tiny[init=default-seed=2]"
    assert all(i.claims == (0,) for i in items)


def test_top_up_seeds_are_the_ones_fixed_in_advance():
    spec = _spec(seeds=[3, 9], top_up={"looks": 2, "seeds": [20, 21, 22]})
    assert spec.top_up.new_seeds(spec.seeds, 1) == (3, 9) and spec.top_up.new_seeds(spec.seeds, 2) == (20, 21)
    assert {i.seed for i in top_up_runs(spec)} == {20, 21} and {i.look for i in top_up_runs(spec)} == {2}
    assert spec.top_up.look_of(spec.seeds, 21) == 2 and spec.top_up.look_of(spec.seeds, 3) == 1
    assert top_up_runs(_spec(top_up={"looks": 1})) == [] and top_up_runs(_spec(claims=[])) == []


def test_too_few_top_up_seeds_are_refused_when_the_scenario_loads():
    with pytest.raises(ValueError, match=r"top_up.seeds needs 4 seeds not among seeds \[0, 1\] for 3 looks"):
        _spec(top_up={"seeds": [5, 6]})


def test_a_step_time_claim_judged_from_paired_blocks_needs_no_top_up():
    step = {**CLAIM, "metric": "step_time_s"}
    timed = _spec(claims=[step], step_timing={"against": {"init": "default"}})
    assert claim_cases(timed) == {} and top_up_runs(timed) == []
    untimed = _spec(claims=[step, {**CLAIM, "cases": {"init": ["default"]}, "against": {"init": "xavier_uniform"}}])
    assert claim_cases(untimed) == {"init=default": (0, 1), "init=xavier_uniform": (0, 1)}


class _Recorder:
    top_ups = None

    def snapshot(self, scenario=None):
        return {"scenario": scenario}


def _top_ups(found, budget=60.0):
    calls = []

    def open_claims(data, scenario):
        calls.append((data["scenario"], scenario))
        return found

    spec = _spec()
    return spec, TopUps(budget, _Recorder(), [spec], open_claims=open_claims), calls


def test_a_top_up_is_skipped_when_every_claim_on_its_case_is_settled_and_runs_while_one_is_open():
    spec, top_ups, calls = _top_ups([])
    first = top_up_runs(spec)[0]
    with pytest.raises(pytest.skip.Exception, match="not needed: every claim on init=default settled at look 1"):
        top_ups.check(first)
    assert top_ups.record["not_needed"] == ["tiny[init=default-seed=2]"] and top_ups.record["skipped"] == []
    spec, top_ups, calls = _top_ups([(spec.claims[0], 2)])
    for item in top_up_runs(spec)[:4]:
        top_ups.run(item, lambda: None)
    assert calls == [("tiny", "tiny")]  # one analysis per scenario and look, not per item
    assert top_ups.record["ran"] == [
        f"tiny[{c}-seed={s}]"
        for s, c in [(2, "init=default"), (2, "init=xavier_uniform"), (3, "init=xavier_uniform"), (3, "init=default")]
    ]
    with pytest.raises(pytest.skip.Exception, match="settled by look 2"):
        _top_ups([(spec.claims[0], 4)])[1].check(top_up_runs(spec)[-1])  # open, but not needing look 3 yet


def _costed(budget, seconds=0.02):
    """Top-ups of the tiny claim, open until look 3, each case's first-look runs observed at ``seconds``."""
    spec, top_ups, _ = _top_ups([(_spec().claims[0], 2)], budget=budget)
    items = top_up_runs(spec)
    top_ups.add(items)
    for case in {item.case.case_id: item.case for item in items}.values():
        for s in (seconds / 2, seconds, seconds * 3):  # the median, 0.02 s, is what a run is costed at
            top_ups.observe(case, s)
    return top_ups, items


def test_a_look_that_does_not_fit_the_budget_is_skipped_whole_with_the_later_looks():
    top_ups, items = _costed(budget=0.07)  # look 2: 4 runs at 0.02 s = 0.08 s, more than the budget
    for item in items:
        with pytest.raises(pytest.skip.Exception, match=r"look 2 of tiny needs about 0.08 s, 0.07 s of the 0.07 s"):
            top_ups.check(item)
    record = top_ups.record
    assert record["ran"] == [] and len(record["skipped"]) == 8 and {s["look"] for s in record["skipped"]} == {2, 3}
    assert record["looks"] == [
        {"scenario": "tiny", "look": 2, "runs": 4, "estimate_s": pytest.approx(0.08), "left_s": 0.07, "ran": False}
    ]


def test_a_look_that_fits_runs_whole_and_the_next_is_costed_against_what_is_left():
    top_ups, items = _costed(budget=0.1)
    for item in items[:4]:  # each takes longer than costed: a look that started is never cut short
        top_ups.run(item, lambda: __import__("time").sleep(0.03))
    assert len(top_ups.record["ran"]) == 4 and top_ups.record["spent_s"] >= 0.12
    with pytest.raises(pytest.skip.Exception, match=r"look 3 of tiny needs about 0.08 s, 0 s of the 0.1 s top-up"):
        top_ups.check(items[4])
    looks = top_ups.record["looks"]
    assert [(look["look"], look["runs"], look["ran"]) for look in looks] == [(2, 4, True), (3, 4, False)]
    assert looks[1]["left_s"] < 0 and top_ups.record["skipped"][0]["run_id"] == items[4].run.run_id


def test_a_look_is_costed_from_the_runs_it_needs_only():
    spec = _spec(matrix={"init": ["default", "xavier_uniform"]})
    top_ups = TopUps(1.0, _Recorder(), [spec], open_claims=lambda data, scenario: [(spec.claims[0], 2)])
    items = top_up_runs(spec)
    top_ups.add(items)
    top_ups.observe(items[0].case, 0.3)  # the other case's first-look runs were skipped here: so are its top-ups
    assert top_ups.estimate_s(items[:4]) == pytest.approx(0.6)
    assert TopUps(1.0, _Recorder(), [spec]).estimate_s(items) == 0.0  # nothing of the scenario ran: nothing known


def test_a_failing_analysis_turns_top_ups_off_with_the_error_and_never_fails_the_session():
    def broken(data, scenario):
        raise RuntimeError("no looks\nmore")

    spec = _spec()
    top_ups = TopUps(60, _Recorder(), [spec], open_claims=broken)
    for item in top_up_runs(spec)[:2]:
        with pytest.raises(
            pytest.skip.Exception, match="top-ups off: judging the looks failed: RuntimeError: no looks"
        ):
            top_ups.check(item)
    assert top_ups.record["error"] == "RuntimeError: no looks" and top_ups.record["ran"] == []


# ------------------------------------------------------------ sessions (pytester subprocesses)

#: A stand-in for benchsuite.analysis.looks (installed before the session imports it): every claim open until the
#: runs hold OPEN_LOOKS looks of seeds, then settled.
FAKE_LOOKS = """
import sys, types
from benchsuite.results import frames

def open_claims(data, scenario):
    spec = frames.scenario_specs(data)[scenario]
    runs = frames.runs_frame(data)
    looks = runs["seed"].nunique() // len(spec.seeds) if len(runs) else 0
    return [(claim, looks + 1) for claim in spec.claims] if looks < OPEN_LOOKS else []

module = types.ModuleType("benchsuite.analysis.looks")
module.open_claims = open_claims
sys.modules["benchsuite.analysis.looks"] = module
"""


def _session(pytester, tmp_path, open_looks, *args):
    """A session of the tiny scenario and its claim, with the look analysis faked, in its default (random) order."""
    pytester.makepyfile(fakelooks=FAKE_LOOKS.replace("OPEN_LOOKS", str(open_looks)))
    write_yaml(tmp_path / "s" / "tiny.yaml", tiny_spec(claims=[CLAIM]))
    result = run(pytester, tmp_path / "s", "--benchmark", "-p", "fakelooks", "-rs", *args, order=None)
    (path,) = results_files(pytester)
    return result, json.loads(path.read_text())


def test_open_claims_get_their_top_ups_in_order_and_recorded_in_a_session_of_random_order(pytester, tmp_path):
    result, data = _session(pytester, tmp_path, 2, "--top-up-s=600")  # open after look 1, settled after look 2
    result.assert_outcomes(passed=8, skipped=4)
    infos = [b["extra_info"] for b in data["benchmarks"]]
    assert [(i["seed"], i["case_id"], i["look"]) for i in infos[4:]] == [
        (2, "init=default", 2),
        (2, "init=xavier_uniform", 2),
        (3, "init=xavier_uniform", 2),
        (3, "init=default", 2),
    ]
    assert [i["order_index"] for i in infos] == list(range(8)) and {i["look"] for i in infos[:4]} == {1}
    order = data["benchsuite"]["run_order"]
    assert order["mode"] == "random" and isinstance(order["seed"], int)  # the default order, its seed drawn
    block = data["benchsuite"]["top_ups"]
    assert block["budget_s"] == 600 and 0 < block["spent_s"] < 600 and len(block["ran"]) == 4
    assert block["skipped"] == [] and block["not_needed"] == [f"tiny[{r}]" for r in _look3()]
    result.stdout.fnmatch_lines(["*SKIPPED*not needed: every claim on init=*settled by look 2*"])
    result.stdout.fnmatch_lines(["*tiny?look=2:init=default-seed=2?*PASSED*"])


def _look3() -> list[str]:
    return ["init=default-seed=4", "init=xavier_uniform-seed=4", "init=xavier_uniform-seed=5", "init=default-seed=5"]


def test_settled_claims_skip_every_top_up_and_a_spent_budget_stops_them(pytester, tmp_path):
    result, data = _session(pytester, tmp_path, 0, "--top-up-s=60")
    result.assert_outcomes(passed=4, skipped=8)
    result.stdout.fnmatch_lines(["*SKIPPED*not needed: every claim on init=default settled at look 1*"])
    assert len(data["benchsuite"]["top_ups"]["not_needed"]) == 8 and data["benchsuite"]["top_ups"]["ran"] == []
    for path in results_files(pytester):
        path.unlink()
    result, data = _session(pytester, tmp_path, 3, "--top-up-s=0.001")  # always open; no look fits the budget
    result.assert_outcomes(passed=4, skipped=8)
    block = data["benchsuite"]["top_ups"]
    assert block["budget_s"] == 0.001 and block["spent_s"] == 0 and block["ran"] == []
    assert [(look["look"], look["runs"], look["ran"]) for look in block["looks"]] == [(2, 4, False)]
    assert block["looks"][0]["estimate_s"] > 0.001  # costed from the first look's runs of this session
    assert {s["reason"].split(",")[0] for s in block["skipped"]} == {"look 2 of tiny needs about " + _cost(block)}
    result.stdout.fnmatch_lines(["*SKIPPED*look 2 of tiny needs about * s, 0.001 s of the 0.001 s top-up budget*"])


def _cost(block) -> str:
    return f"{block['looks'][0]['estimate_s']:.3g} s"


def test_top_ups_are_off_with_a_zero_budget_and_in_smoke_sessions(pytester, tmp_path):
    write_yaml(tmp_path / "s" / "tiny.yaml", tiny_spec(claims=[CLAIM]))
    collected = run(pytester, tmp_path / "s", "--collect-only", "-q", "--benchmark", "--top-up-s=60").stdout.str()
    assert "tiny[look=2:init=default-seed=2]" in collected and "12 tests collected" in collected
    for args in (("--benchmark", "--top-up-s=0"), ()):
        collected = run(pytester, tmp_path / "s", "--collect-only", "-q", *args).stdout.str()
        assert "look=" not in collected and "4 tests collected" in collected


def test_the_default_budget_keeps_the_main_job_within_5_minutes_on_the_machine_it_was_sized_on():
    from benchsuite import options

    assert options.MAIN_JOB_S + options.TOP_UP_BUDGET_S <= options.MAIN_JOB_BUDGET_S / 2


def test_a_first_look_run_is_observed_when_it_finishes_or_fails_never_when_skipped():
    spec, top_ups, _ = _top_ups([(_spec().claims[0], 2)])
    items = top_up_runs(spec)
    case = items[0].case
    with top_ups.observing(case):
        pass
    with pytest.raises(pytest.fail.Exception), top_ups.observing(case):
        pytest.fail("failed")
    with pytest.raises(pytest.skip.Exception), top_ups.observing(items[1].case):
        pytest.skip("a world size this machine cannot host")
    assert (
        len(top_ups._seconds[("tiny", case.case_id)]) == 2 and ("tiny", items[1].case.case_id) not in top_ups._seconds
    )
    assert top_ups.estimate_s(items[:2]) == pytest.approx(top_ups.estimate_s(items[:1]))


def test_a_scenario_of_one_look_is_judged_at_its_whole_error_with_the_pairing_its_seeds_can_bound():
    """``top_up: {looks: 1}``: one look at the claim's whole error, paired by seed only where the pairs can give a
    bounded signed-rank interval at that error (5 pairs cannot at a Holm-corrected level). On the reference run, init's
    three claims that Xavier and He beat the default (5 seeds, 4 Holm pairs each) are held with bounded intervals under
    one look, as under three; one look paired by seed made them inconclusive, [0x, inf]."""
    import copy
    from pathlib import Path

    from benchsuite.report.overview import overview_rows
    from benchsuite.results.files import read_results

    (path,) = (Path(__file__).parents[1] / "results" / "cpu-intel-f6m167-amx-avx512bf16-2c").glob("*.json")
    data = read_results(path)
    for looks in (1, 3):
        planned = copy.deepcopy(data)
        planned["benchsuite"]["scenarios"]["init"]["top_up"] = {"looks": looks}
        rows = [r for r in overview_rows(planned) if r.scenario == "init" and r.says.startswith("Xavier and He")]
        assert len(rows) == 3 and {r.verdict for r in rows} == {"held"}, (looks, [r.verdict for r in rows])
        assert all("[0×, ∞]" not in effect and "[−∞, +∞]" not in effect for r in rows for effect in r.effects)
