"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``; ``.ci/run`` installs it) renders a
report, every figure and table has a visible box, the page logs no console error, and a screenshot is saved.

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

import pytest
from results_factory import faults_data, results_data

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
  return {w: r.width, h: r.height, shown: st.display !== "none" && st.visibility !== "hidden" && st.opacity !== "0"};
});
const out = document.createElement("pre");
out.id = "browser-check";
out.textContent = JSON.stringify({svg: boxes("svg"), table: boxes("table"), errors: window.__errors});
document.body.appendChild(out);
</script>"""
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions"]


def browse(html: str, tmp_path, screenshot: bool = False) -> tuple[dict, str]:
    """Open ``html`` (instrumented) in headless Chromium; return the in-page findings and Chromium's stderr."""
    page = tmp_path / "report.html"
    page.write_text(html.replace("<head>", "<head>\n" + RECORD_ERRORS, 1).replace("</body>", MEASURE + "\n</body>", 1))
    profile = tmp_path / "profile"
    run = [BROWSER, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--window-size=1280,1600"]
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
    found, stderr = browse(html, tmp_path, screenshot=True)
    assert len(found["svg"]) == html.count("<svg") >= 4 and len(found["table"]) == html.count("<table") >= 6
    assert _invisible(found["svg"]) == [] and _invisible(found["table"]) == []
    assert found["errors"] == [] and "CONSOLE" not in stderr
    shot = tmp_path / "report.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


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
