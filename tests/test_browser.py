"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``; ``.ci/run`` installs it) renders a
report (and a comparison), every figure and table (the forest plots among them) has a visible box, the page logs no
console error, and a screenshot is saved.

The check runs inside the page: a script at the top of ``<head>`` records errors (``window.onerror`` and
``console.error``), one at the end of ``<body>`` measures every ``<svg>`` and ``<table>`` (layout is forced by
``getBoundingClientRect``) and writes the findings as JSON into the DOM, which ``--dump-dom`` prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest
from results_factory import commit_results, faults_data, results_data

from benchsuite.analysis import verdicts
from benchsuite.analysis.verdicts import Verdict
from benchsuite.compare.history import build_history
from benchsuite.compare.sides import compare, load_side
from benchsuite.report.compare import render_comparison
from benchsuite.report.history import render_history
from benchsuite.report.html import render_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = os.environ.get("BENCHSUITE_BROWSER") or next((b for b in map(shutil.which, BROWSERS) if b), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium (apt-get install chromium; .ci/run does)")

RECORD_ERRORS = """<script>
window.__errors = [];
window.addEventListener("error", (e) => window.__errors.push(String(e.message || e.type)));
const __consoleError = console.error;
console.error = (...args) => { window.__errors.push(args.join(" ")); __consoleError(...args); };
</script>"""
MEASURE = """<script>
const boxes = (sel) => [...document.querySelectorAll(sel)].map((el) => {
  const r = el.getBoundingClientRect(), st = getComputedStyle(el);
  return {x: r.left, y: r.top, w: r.width, h: r.height,
          shown: st.display !== "none" && st.visibility !== "hidden" && st.opacity !== "0"};
});
const out = document.createElement("pre");
out.id = "browser-check";
out.textContent = JSON.stringify({
  svg: boxes("svg"), table: boxes("table"), forest: boxes("figure.forest svg"), overview: boxes("table.overview"),
  errors: window.__errors,
});
document.body.appendChild(out);
</script>"""
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions"]


def browse(html: str, tmp_path, screenshot: bool = False, width: int = 1280) -> tuple[dict, str]:
    """Open ``html`` (instrumented) in headless Chromium ``width`` pixels wide; return the in-page findings and
    Chromium's stderr."""
    page = tmp_path / "report.html"
    page.write_text(html.replace("<head>", "<head>\n" + RECORD_ERRORS, 1).replace("</body>", MEASURE + "\n</body>", 1))
    profile = tmp_path / "profile"
    run = [
        BROWSER,
        *FLAGS,
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        f"--window-size={width},1600",
    ]
    done = subprocess.run([*run, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    match = re.search(r'<pre id="browser-check">(.*?)</pre>', done.stdout, flags=re.S)
    assert match, f"no findings in the dumped DOM; chromium said: {done.stderr[-2000:]}"
    if screenshot:
        shot = tmp_path / "report.png"
        subprocess.run([*run, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True)
    return json.loads(match[1].replace("&quot;", '"').replace("&amp;", "&")), done.stderr


def _invisible(boxes: list[dict]) -> list[int]:
    return [i for i, b in enumerate(boxes) if not b["shown"] or b["w"] < 20 or b["h"] < 20]


def test_report_renders_every_figure_and_table_visibly_without_console_errors(tmp_path):
    html = render_report(results_data(profiles=True), traces_from="../results/cpu-test-2c")
    assert "Where the time goes" in html and "tiny: where the time of a step goes" in html
    assert html.count('<figure class="forest"') == 1  # the first screen's forest plot; each section links to it
    found, stderr = browse(html, tmp_path, screenshot=True)
    assert len(found["forest"]) == 1 and _invisible(found["forest"]) == []
    # the forest plot, the phases, the curves and the telemetry
    assert len(found["svg"]) == html.count("<svg") >= 4 and len(found["table"]) == html.count("<table") >= 6
    assert _invisible(found["svg"]) == [] and _invisible(found["table"]) == []
    assert found["errors"] == [] and "CONSOLE" not in stderr
    shot = tmp_path / "report.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    (table,), (first,) = found["overview"], found["forest"]
    assert first["y"] > table["y"] + table["h"] - 1  # 1280 pixels wide: the forest plot under the claims table
    (tmp_path / "wide").mkdir()
    wide, _ = browse(html, tmp_path / "wide", width=1920)
    (table,), (first,) = wide["overview"], wide["forest"]
    assert first["x"] >= table["x"] + table["w"] and first["y"] < table["y"] + table["h"]  # 1920: beside it
    assert _invisible(wide["svg"]) == [] and wide["errors"] == []


def test_the_check_sees_a_hidden_figure_and_a_script_error(tmp_path):
    html = render_report(results_data()).replace("<svg", '<svg style="display:none"', 1)
    html = html.replace("</body>", "<script>undefinedFunction();</script></body>", 1)
    found, _ = browse(html, tmp_path)
    assert _invisible(found["svg"]) == [0]
    assert any("undefinedFunction" in e for e in found["errors"])


def test_a_report_of_runs_that_crashed_diverged_or_missed_renders_visibly_without_console_errors(tmp_path):
    html = render_report(faults_data())
    assert "no curve: every run of this scenario ended before its first evaluation" in html
    found, stderr = browse(html, tmp_path)
    assert len(found["svg"]) == html.count("<svg") and len(found["table"]) == html.count("<table")
    assert _invisible(found["svg"]) == [] and _invisible(found["table"]) == []
    assert found["errors"] == [] and "CONSOLE" not in stderr


def test_looks_and_the_compare_forest_plot_render_visibly_without_console_errors(tmp_path, monkeypatch):
    """A claim that took two looks (stand-ins for the analysis's looks) gets its looks table and hollow marks, and the
    comparison's forest plot has one mark per machine: all of it visible, no console error."""

    @dataclass(frozen=True)
    class Look:  # a stand-in for benchsuite.analysis.looks.Look
        n: int
        tail: float
        verdict: str
        pairs: tuple

    @dataclass(frozen=True)
    class Looked(Verdict):
        looks: tuple = ()
        settled: object = None

    def two_looks(v: Verdict) -> Looked:
        looks = (Look(2, 0.01, "inconclusive", v.pairs), Look(4, 0.04, v.verdict, v.pairs))
        return Looked(v.claim, v.verdict, v.pairs, looks, True)

    real = verdicts.claim_verdicts
    monkeypatch.setattr(verdicts, "claim_verdicts", lambda *a, **k: [two_looks(v) for v in real(*a, **k)])
    html = render_report(results_data())
    assert '<table class="looks">' in html and "earlier look" in html
    (tmp_path / "looks").mkdir()
    found, stderr = browse(html, tmp_path / "looks")
    assert len(found["table"]) == html.count("<table") and _invisible(found["table"]) == []
    assert len(found["forest"]) == 1 and _invisible(found["forest"]) == [] and found["errors"] == []
    monkeypatch.setattr(verdicts, "claim_verdicts", real)

    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    other = results_data(xavier_ttt=(1.9, 2.1, 2.3, 2.5))
    other["benchsuite"]["machine_id"] = other["machine_info"]["benchsuite"]["machine_id"] = "cpu-other-2c"
    for path, data in zip(paths, (results_data(), other), strict=True):
        path.write_text(json.dumps(data))
    html = render_comparison(compare([load_side(p) for p in paths]))
    (tmp_path / "compare").mkdir()
    found, stderr = browse(html, tmp_path / "compare")
    assert len(found["forest"]) == 1 and len(found["svg"]) == html.count("<svg") >= 3
    assert _invisible(found["svg"]) == [] and found["errors"] == [] and "CONSOLE" not in stderr


def test_the_history_page_renders_every_figure_and_table_visibly_without_console_errors(tmp_path):
    """Five commits with a 1.3× step at the third: the steps table, the claims strip and the figure are all visible."""
    folder = tmp_path / "results" / "cpu-test-2c"
    folder.mkdir(parents=True)
    for k in range(5):
        (folder / f"{k}.json").write_text(json.dumps(commit_results(k, step_at=2)))
    html = render_history(build_history([tmp_path / "results"], workers=1))
    assert '<table class="steps">' in html and '<table class="strip">' in html
    found, stderr = browse(html, tmp_path, screenshot=True)
    assert len(found["svg"]) == html.count("<svg") >= 1 and len(found["table"]) == html.count("<table") >= 3
    assert _invisible(found["svg"]) == [] and _invisible(found["table"]) == []
    assert found["errors"] == [] and "CONSOLE" not in stderr
