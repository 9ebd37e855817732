"""The words beside a claim's verdict (benchsuite.report.verdict_words): its look and where an inconclusive claim
stands, with n said once, the same in the terminal, the Markdown summary and the HTML report."""

from __future__ import annotations

import json
import math

import pytest
from results_factory import results_data, sequential_data

from benchsuite.analysis.looks import Look
from benchsuite.analysis.verdicts import Verdict, claim_verdicts
from benchsuite.report import verdict_words
from benchsuite.report.html import render_report
from benchsuite.report.overview import markdown_summary, overview_rows
from benchsuite.report.terminal import claim_lines, summary_lines
from benchsuite.results import frames
from benchsuite.specs.claims import ClaimSpec

CLAIM = ClaimSpec.model_validate(
    {"says": "Xavier is faster", "cases": {"init": ["xavier_uniform"]}, "against": {"init": "default"}}
)


def _verdict(verdict: str, looks: list[tuple[int, int, int]], planned_looks: int = 3) -> Verdict:
    """A verdict of :data:`CLAIM` judged at ``looks`` (n, number, planned n), each look with no pair."""
    judged = tuple(Look(n, 0.01, "inconclusive", (), number, planned) for n, number, planned in looks)
    last = judged[-1]
    judged = (*judged[:-1], Look(last.n, last.tail, verdict, (), last.number, last.planned))
    return Verdict(CLAIM, verdict, (), judged, planned_looks)


@pytest.mark.parametrize(
    ("verdict", "looks", "planned", "words"),
    [
        ("inconclusive", [(7, 1, 7), (14, 2, 14), (21, 3, 21)], 3, "look 3 of 3, n = 21, within the indifference zone"),
        ("inconclusive", [(7, 1, 7), (10, 2, 14)], 3, "look 2 of 3 cut short, n = 10 of 14"),
        ("inconclusive", [(7, 1, 7)], 3, "look 1 of 3, n = 7, look 2 not run"),
        ("inconclusive", [(5, 1, 5)], 1, "n = 5, within the indifference zone"),  # one look planned: no look number
        ("held", [(7, 1, 7), (14, 2, 14)], 3, "look 2 of 3, n = 14"),
    ],
)
def test_a_claims_look_says_its_n_once(verdict, looks, planned, words):
    v = _verdict(verdict, looks, planned)
    assert v.look_note == words and verdict_words.verdict_qualifiers(v) == [words]
    line = claim_lines(v)[0]
    assert line.startswith(f"  claim {verdict.upper()} ({words}): Xavier is faster") and line.count("n = ") == 1


def test_a_claim_decided_at_its_only_look_has_no_look_words():
    assert _verdict("held", [(7, 1, 7)]).look_note is None
    assert verdict_words.verdict_qualifiers(_verdict("held", [(7, 1, 7)])) == []


def test_the_pairs_not_judged_follow_the_look():
    v = _verdict("inconclusive", [(7, 1, 7), (14, 2, 14), (21, 3, 21)])
    judged = claim_verdicts(*_frames(results_data()))[0].pairs[0]
    not_judged = type(judged)(judged.effect, "not judged")
    v = Verdict(v.claim, v.verdict, (judged, not_judged), v.looks, v.planned_looks)
    assert v.pairs_note == "1 of 2 pairs not judged"
    assert verdict_words.qualifiers_text(v) == (
        "look 3 of 3, n = 21, within the indifference zone; 1 of 2 pairs not judged"
    )
    assert v.note == verdict_words.qualifiers_text(v)  # the verdict's own note: the same pieces, once each


def _frames(data: dict):
    return frames.runs_frame(data), frames.scenario_specs(data)["tiny"], frames.blocks_frame(data), True


def _sequential(n: int) -> dict:
    """The tiny scenario in 3 looks of 7 seeds, ``n`` seeds run, each seed's log ratio near 0.05: every look's
    interval holds both no effect and 1.1×."""
    d = ([0.3, -0.2] * 10 + [0.3])[:n]
    return sequential_data([2.0 * math.exp(-x) for x in d], [2.0] * n, timed=3.0)


@pytest.mark.parametrize(
    ("n", "words"),
    [(21, "look 3 of 3, n = 21, within the indifference zone"), (10, "look 2 of 3 cut short, n = 10 of 14")],
)
def test_terminal_markdown_and_html_say_the_look_once(tmp_path, n, words):
    data = _sequential(n)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    (claim,) = [line for line in summary_lines(path) if line.startswith("  claim ")]
    assert claim.startswith(f"  claim INCONCLUSIVE ({words}): ")
    (row,) = overview_rows(data)
    assert row.qualifiers == [words] and row.look == words and row.note is None
    assert f"**inconclusive** ({words})" in markdown_summary(data)
    html = render_report(data)
    assert f'inconclusive</span><br><span class="note">{words}</span>' in html  # the claims table
    assert f'inconclusive</span> <span class="note">({words})</span>:' in html  # the scenario's section
    for text in (claim, markdown_summary(data), html):
        assert f"n = {n}; n = {n}" not in text and f"n = {n}, n = {n}" not in text


def test_the_html_fills_in_the_expected_false_verdicts_sentence():
    html = render_report(results_data())
    sentence = html[html.index('id="expected-false">') :].split("</p>", 1)[0]
    assert "{" not in sentence and "at most 2.5 % of the time" in sentence
    assert "among this report&#39;s 1 judged claim, at most 0.025 false verdicts are expected" in sentence
