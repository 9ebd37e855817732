"""The forest plot of the verdicts (issue 20, item 8): its rows from verdicts (ratio and difference claims, unbounded
intervals, pairs not judged), the SVG (both panels, deterministic, a line instead when nothing can be drawn), where it
appears (the report's first screen, each scenario's section, ``benchsuite compare -o``), and the looks and top-ups
of group-sequential seeds, tested with stand-ins for the analysis's looks."""

from __future__ import annotations

import json
import math
import re

import pytest
from results_factory import results_data

from benchsuite.analysis import effects, verdicts
from benchsuite.analysis.looks import Look
from benchsuite.analysis.verdicts import PairEffect, PairVerdict, Verdict
from benchsuite.compare.sides import compare, load_side
from benchsuite.report import forest_plot, verdict_words
from benchsuite.report.colours import VERDICT_COLOURS
from benchsuite.report.compare import comparison_rows, render_comparison
from benchsuite.report.forest import short_names, thresholds, verdict_rows
from benchsuite.report.forest_plot import forest_figure, forest_part
from benchsuite.report.html import render_report
from benchsuite.report.looks import looks_table, section_top_up_line, top_up_line
from benchsuite.specs.claims import ClaimSpec

SELECT = {"cases": {"init": ["xavier_uniform"]}, "against": {"init": "default"}}


def claim(metric: str = "time_to_target_s", kind: str = "better", says: str = "Xavier is faster", **kw) -> ClaimSpec:
    return ClaimSpec(says=says, metric=metric, kind=kind, **SELECT, **kw)


def _log(v: float) -> float:
    return -math.inf if v == 0 else math.log(v)


def pair(
    estimate: float,
    low: float,
    high: float,
    verdict: str = "held",
    scale: str = "ratio",
    case: str = "init=xavier_uniform",
    missing: str | None = None,
) -> PairVerdict:
    to = _log if scale == "ratio" else float
    shift = effects.Shift(to(estimate), to(low), to(high), 0.95, "exact")
    effect = PairEffect(case, "init=default", scale, shift, 0.01, 0.05, 4, 4, missing=missing)
    return PairVerdict(effect, verdict)


NOT_JUDGED = pair(1.0, 1.0, 1.0, "not judged", case="init=kaiming", missing="no run reached the target")


def looked(v: Verdict, ns=(4, 8), tails=(0.01, 0.04)) -> Verdict:
    """``v`` as judged in two looks: inconclusive at the first, its own verdict at the second."""
    first = tuple(pair(1.3, 0.9, 2.0, "inconclusive") for _ in v.pairs)
    looks = (
        Look(ns[0], tails[0], "inconclusive", first, number=1, planned=2),
        Look(ns[1], tails[1], v.verdict, v.pairs, number=2, planned=2),
    )
    return Verdict(v.claim, v.verdict, v.pairs, looks=looks, planned_looks=2)


def test_thresholds_are_r_star_or_the_margin_on_the_effect_scale():
    assert thresholds(claim(min_ratio=2.0)) == (2.0,)
    assert thresholds(claim()) == (1.1,)  # the default minimal effect
    assert thresholds(claim("final_val_metric", "better", better="higher")) == (0.01,)
    assert thresholds(claim(kind="no_worse", margin=1.25)) == pytest.approx((0.8,))
    assert thresholds(claim("final_val_metric", "no_worse", margin=0.02, better="higher")) == (-0.02,)
    assert thresholds(claim(kind="equivalent", margin=1.05)) == pytest.approx((1 / 1.05, 1.05))
    assert thresholds(claim("final_val_metric", "equivalent", margin=0.01, better="higher")) == (-0.01, 0.01)


def test_rows_from_ratio_and_difference_verdicts_one_per_pair():
    time = Verdict(claim(), "held", (pair(1.6, 1.3, 1.9), pair(1.2, 0.9, 1.5, "inconclusive", case="init=he")))
    quality = Verdict(
        claim("final_val_metric", better="higher"), "refuted", (pair(-0.05, -0.08, -0.02, "refuted", "difference"),)
    )
    rows = verdict_rows([("tiny", time), ("tiny", quality)])
    assert [r.label for r in rows] == [
        "tiny: time-to-target — init=xavier_uniform vs init=default",
        "tiny: time-to-target — init=he vs init=default",
        "tiny: final validation metric — init=xavier_uniform vs init=default",
    ]
    assert [r.scale for r in rows] == ["ratio", "ratio", "difference"]
    assert rows[0].claim == rows[1].claim != rows[2].claim  # the threshold line spans a claim's rows
    (mark,) = rows[0].marks
    assert (mark.estimate, mark.low, mark.high, mark.verdict) == pytest.approx((1.6, 1.3, 1.9, "held"))
    assert rows[2].marks[0].low == pytest.approx(-0.08) and rows[2].thresholds == (0.01,)
    assert verdict_rows([("tiny", time)], with_scenario=False)[0].label.startswith("time-to-target — ")
    not_run = Verdict(claim(), "not run", ())
    assert verdict_rows([("tiny", not_run)]) == []


def test_two_claims_on_one_metric_are_named_by_their_words():
    names = short_names(
        [
            claim(says="Two devices reach the target close to 2x faster"),
            claim(says="Four devices"),
            claim("steps_to_target"),
        ]
    )
    assert names == ["Two devices reach the target close to 2x…", "Four devices", "steps-to-target"]


def test_unbounded_intervals_and_pairs_not_judged():
    v = Verdict(claim(), "held", (pair(2.0, 1.5, math.inf), pair(1.0, 0.0, 1.2, "refuted", case="init=he"), NOT_JUDGED))
    unbounded, below, skipped = verdict_rows([("tiny", v)])
    assert unbounded.marks[0].high == math.inf and unbounded.drawn
    assert below.marks[0].low == 0.0 and below.drawn  # -inf on the log scale: an arrow to the left edge
    assert skipped.marks[0].reason == "no run reached the target" and not skipped.drawn
    scale = forest_plot._scale([unbounded, below, skipped], "ratio")  # the axis: every finite value, and margin
    assert scale.place(0.0) == (scale.low, -1) and scale.place(math.inf) == (scale.high, 1)  # arrows to the edges
    assert scale.low < math.log10(1.0) < math.log10(2.0) < scale.high and scale.place(math.nan) == (None, 0)
    svg = forest_figure([unbounded, below, skipped], "tiny")
    assert "not judged: no run reached the target" in svg and "unbounded: to the edge" in svg


def _svg_rows():
    time = Verdict(claim(), "held", (pair(1.6, 1.3, math.inf), NOT_JUDGED))
    quality = Verdict(
        claim("final_val_metric", "no_worse", margin=0.02, better="higher"),
        "inconclusive",
        (pair(-0.01, -0.03, 0.01, "inconclusive", "difference"),),
    )
    return verdict_rows([("tiny", time), ("tiny", quality)])


def test_the_svg_has_both_panels_with_text_and_is_deterministic():
    rows = _svg_rows()
    svg = forest_figure(rows, "tiny")
    assert svg.startswith("<svg") and svg == forest_figure(rows, "tiny")
    assert "tiny: claims on times, steps and rates (ratio, log axis)" in svg
    assert "tiny: claims on validation metrics (difference)" in svg
    assert "init=xavier_uniform vs init=default" in svg and ">1×<" in svg  # labels and ticks stay text
    assert VERDICT_COLOURS["held"] in svg and VERDICT_COLOURS["inconclusive"] in svg  # the heat map's colours
    assert VERDICT_COLOURS["refuted"] not in svg


def test_nothing_to_draw_is_a_line_instead_of_the_figure(monkeypatch):
    assert forest_figure([], "tiny") is None
    assert forest_part([], "tiny") == {
        "forest_svg": None,
        "forest_note": "no forest plot: no claim had a compared pair here",
    }
    only = verdict_rows([("tiny", Verdict(claim(), "not judged", (NOT_JUDGED,)))])
    assert forest_figure(only, "tiny") is None
    assert forest_part(only, "tiny")["forest_note"].startswith("no forest plot: no compared pair could be judged")

    def broken(*args):
        raise ValueError("bad axis\nmore")

    monkeypatch.setattr(forest_plot, "forest_figure", broken)
    assert forest_part(_svg_rows(), "tiny") == {
        "forest_svg": None,
        "forest_note": "no forest plot: ValueError: bad axis",
    }


def _claims_part(html: str) -> str:
    return html[html.index('<h2 id="claims">') : html.index('<nav id="contents">')]


def _section(html: str, name: str) -> str:
    start = html.index(f'<h2 id="{name}">')
    return html[start : html.index("<h2", start + 1)]


def test_the_figure_is_on_the_first_screen_and_each_section_links_to_it():
    html = render_report(results_data())
    first = _claims_part(html)
    assert '<figure class="forest" id="forest"><svg' in first and "all claims: claims on times" in first
    assert "tiny: time-to-target — init=xavier_uniform vs init=default" in first
    part = _section(html, "tiny")
    assert '<figure class="forest"' not in part and '<a href="#forest">the forest plot of every claim</a>' in part
    assert 'id="reading-forest"' in html and "The forest plots draw each compared pair as a row" in html


def test_the_compare_html_has_one_mark_per_machine(tmp_path):
    other = results_data(xavier_ttt=(1.9, 2.1, 2.3, 2.5))
    other["benchsuite"]["machine_id"] = other["machine_info"]["benchsuite"]["machine_id"] = "cpu-other-2c"
    paths = []
    for name, data in (("a", results_data()), ("b", other)):
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
        paths.append(tmp_path / f"{name}.json")
    comparison = compare([load_side(p) for p in paths])
    (row,) = comparison_rows(comparison)
    assert row.label == "tiny: time-to-target — init=xavier_uniform vs init=default"
    assert [(m.who, m.marker) for m in row.marks] == [("cpu-test-2c", "o"), ("cpu-other-2c", "s")]
    assert row.marks[0].verdict == "held" and row.marks[1].verdict != "held"  # each side's own verdict
    assert row.marks[0].offset < 0 < row.marks[1].offset
    html = render_comparison(comparison)
    figure = re.search(r'<figure class="forest" id="forest">(<svg.*?</svg>)', html, flags=re.S)
    assert figure and "verdicts per machine" in figure[1] and "cpu-other-2c" in figure[1]


def test_a_claim_that_took_several_looks_gets_its_looks_table_and_hollow_marks(monkeypatch):
    real = verdicts.claim_verdicts
    monkeypatch.setattr(verdicts, "claim_verdicts", lambda *a, **k: [looked(v) for v in real(*a, **k)])
    (v,) = verdicts.claim_verdicts(*_judge_args())
    table = looks_table(v)
    assert table["pairs"] == ["init=xavier_uniform vs init=default"] and table["settled"] == "settled at look 2"
    assert [(r["look"], r["n"], r["tail"], r["verdict"]) for r in table["rows"]] == [
        (1, 4, 0.01, "inconclusive"),
        (2, 8, 0.04, "held"),
    ]
    assert looks_table(Verdict(v.claim, v.verdict, v.pairs)) is None  # judged at one look: no table

    (row,) = verdict_rows([("tiny", v)], planned={"tiny": 3})
    final, earlier = row.marks
    assert final.note == "look 2 of 3, n = 8" and not final.hollow
    assert (
        earlier.hollow and earlier.note == "look 1, n = 4" and earlier.offset > 0 and earlier.verdict == "inconclusive"
    )

    data = results_data()
    data["benchsuite"]["scenarios"]["tiny"]["top_up"] = {"looks": 3}  # the factory's scenario takes one look
    html = render_report(data)
    part = _section(html, "tiny")
    assert '<table class="looks">' in part and "<th>n per side</th>" in part and "settled at look 2" in part
    first = _claims_part(html)
    assert "look 2 of 3, n = 8" in first and "earlier look" in first  # tiny's stored top-up allows 3 looks


def _judge_args():
    from benchsuite.results import frames

    data = results_data()
    return frames.runs_frame(data), frames.scenario_specs(data)["tiny"], frames.blocks_frame(data), False


TOP_UPS = {
    "budget_s": 60.0,
    "spent_s": 41.2,
    "skipped": [{"run_id": "tiny[init=default-seed=9]", "reason": "budget spent"}, {"run_id": "other[x-seed=9]"}],
}


def test_the_top_up_budget_is_a_line_in_the_run_card_and_in_each_affected_section(monkeypatch):
    real = verdicts.claim_verdicts
    monkeypatch.setattr(verdicts, "claim_verdicts", lambda *a, **k: [looked(v) for v in real(*a, **k)])
    data = results_data()
    data["benchsuite"]["top_ups"] = TOP_UPS
    html = render_report(data)
    card = html[html.index('<section id="hardware"') : html.index("</section>")]
    assert (
        '<dt>top-ups</dt><dd id="top-ups">1 claim took more seeds, 41.2 s of a 60 s budget; '
        "2 runs skipped for the budget</dd>" in card
    )
    assert (
        "top-ups: 1 claim took more seeds (up to n = 8 per side); 1 run skipped for the budget (budget spent): "
        "tiny[init=default-seed=9]." in _section(html, "tiny")
    )
    assert "top-ups" not in render_report(results_data()).split('<h2 id="method">')[0]  # an old file: nothing


def test_top_up_lines_from_the_block_alone():
    plain = [Verdict(claim(), "held", (pair(1.6, 1.3, 1.9),))]
    assert top_up_line(None, plain) is None
    block = {"budget_s": 60, "spent_s": 0, "skipped": []}
    assert top_up_line(block, plain) == "top-ups: no claim took more seeds, 0 s of a 60 s budget"
    assert top_up_line({**block, "budget_s": 0}, plain) == "top-ups: off (no budget)"
    assert top_up_line({**block, "error": "ValueError: x"}, plain).endswith(
        "; judging the looks failed, so no more were run: ValueError: x"
    )
    unreadable = {"spent_s": "?", "skipped": "?"}
    assert top_up_line(unreadable, plain) == "top-ups: no claim took more seeds"  # unreadable parts left out
    assert section_top_up_line(TOP_UPS, "tiny", plain).endswith(
        "; 1 run skipped for the budget (budget spent): tiny[init=default-seed=9]"
    )
    assert section_top_up_line(TOP_UPS, "third", plain) is None  # not touched by top-ups
    many = {"skipped": [{"run_id": f"tiny[s{i}]", "scenario": "tiny", "reason": "budget spent"} for i in range(9)]}
    assert section_top_up_line(many, "tiny", plain) == (
        "top-ups: no claim took more seeds; 9 runs skipped for the budget (budget spent): "
        "tiny[s0], tiny[s1], tiny[s2], tiny[s3], tiny[s4], tiny[s5] and 3 more"
    )


def test_how_to_read_shows_the_expected_false_verdicts_sentence_of_the_judged_claims(monkeypatch):
    monkeypatch.setattr(verdict_words, "EXPECTED_FALSE_VERDICTS", "Of {n} judged claim{s}, at most {expected} false.")
    assert '<p class="note" id="expected-false">Of 1 judged claim, at most 0.025 false.</p>' in render_report(
        results_data()
    )
    none_reached = results_data(default_ttt=(None,) * 4, xavier_ttt=(None,) * 4)  # its one claim: not judged
    assert 'id="expected-false"' not in render_report(none_reached)
