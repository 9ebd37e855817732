"""What a ``--benchmark`` session leaves on disk, and when: the results file before the first run (the hardware, the
scenarios, no run yet, marked incomplete), again after every finished item, a last time at the end (complete unless
the session was interrupted or stopped), then the HTML report built from the file on disk, and the terminal summary.

A write that fails (no space left, no permission) stops the session after the current item with one line naming the
file and what the last good file holds; the report is still built from that file when the reports folder takes it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from benchsuite.results.recorder import ResultsRecorder


class SessionOutputs:
    """The results file and report of one session.

    Args:
        recorder: the session's results recorder.
        reports_dir: where the HTML report goes.
    """

    def __init__(self, recorder: ResultsRecorder, reports_dir: Path) -> None:
        self.recorder, self.reports_dir = recorder, Path(reports_dir)
        self.started = False
        """Whether the first write (before the first run) was made."""
        self.write_error: str | None = None
        """Why the results file could not be written (the session stopped), or None."""
        self.report_path: Path | None = None
        self.report_error: str | None = None
        self.cut_short = False
        """Whether a second Ctrl-C cut the finish short (the summary is then left out too)."""

    def start(self, request: pytest.FixtureRequest) -> None:
        """Before the first run: write the results file, so a session killed during its first run still leaves its
        record, and a folder that fills or closes in the meantime stops the session here."""
        if not self.started:
            self.started = True
            self.save(request)

    def save(self, request: pytest.FixtureRequest) -> None:
        """Rewrite the results file; when it cannot be written, stop the session after this item (pytest's
        ``session.shouldstop``) and fail this item, both with the one-line reason."""
        error = self.recorder.save()
        if error:
            self.write_error = error
            request.session.shouldstop = f"benchsuite: {error}"
            pytest.fail(f"benchsuite: {error}", pytrace=False)

    def finish(self, interrupted: bool) -> None:
        """The last write (complete unless ``interrupted``), then the report from the file on disk: the last good
        one when a write failed. A report that fails says why (:attr:`report_error`); the results stay. A second
        Ctrl-C during either leaves the last good file whole (the writes are atomic) and skips what is left."""
        if not self.started:
            return
        try:
            if self.cut_short:  # a second Ctrl-C came before the finish: the file on disk is the last good one
                self.write_error = f"left as it was (a second Ctrl-C); {self.recorder.kept()}"
                return
            if self.write_error is None:
                self.write_error = self.recorder.save(final=not interrupted)
        except KeyboardInterrupt:
            self.cut_short = True
            self.write_error = f"interrupted (a second Ctrl-C) before the last write; {self.recorder.kept()}"
            return
        if self.recorder.path is None:
            return
        try:
            from benchsuite.report.html import write_report

            self.report_path = write_report(self.recorder.path, self.reports_dir)
        except KeyboardInterrupt:
            self.cut_short = True
            self.report_error = f"interrupted (a second Ctrl-C); benchsuite report {self.recorder.path} writes it"
        except Exception as exc:  # the results are safe on disk; say why the report failed and go on
            self.report_error = f"{type(exc).__name__}: {exc}"

    def summary(self, terminalreporter: Any) -> None:
        """The ``benchsuite`` section of pytest's terminal summary: the verdicts, where the results and the report
        are, and what could not be written."""
        if self.recorder.path is None:
            if self.write_error:
                terminalreporter.write_line(f"benchsuite: results not saved: {self.write_error}", red=True)
            return
        terminalreporter.section("benchsuite")
        try:
            if self.cut_short:  # a second Ctrl-C: what it interrupted (an import, say) may be half done
                raise KeyboardInterrupt
            from benchsuite.report.terminal import summary_lines

            for line in summary_lines(self.recorder.path):
                terminalreporter.write_line(line)
        except KeyboardInterrupt:
            terminalreporter.write_line(f"summary left out (a second Ctrl-C); benchsuite report {self.recorder.path}")
        except Exception as exc:  # the summary is a courtesy: the results file and the report stand without it
            terminalreporter.write_line(f"summary failed: {type(exc).__name__}: {exc}", red=True)
        terminalreporter.write_line(f"results: {self.recorder.path}")
        if self.report_path:
            terminalreporter.write_line(f"report:  {self.report_path}")
        if self.report_error:
            terminalreporter.write_line(f"report failed: {self.report_error}", red=True)
        if self.write_error:
            terminalreporter.write_line(f"results not saved: {self.write_error}", red=True)


def sigterm_as_interrupt() -> Any:
    """Make SIGTERM end the session as Ctrl-C does (pytest's interrupted finish: the ranks stopped, the results file
    kept and marked incomplete, the report written) instead of killing it outright; a second SIGTERM kills at once.

    Only from the main thread and when SIGTERM has its default action (an embedding program's own handler stays).
    Returns the handler to put back at the session's end, or None when nothing was changed.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        return None

    def interrupt(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise KeyboardInterrupt(f"benchsuite: signal {signal.Signals(signum).name}")

    return signal.signal(signal.SIGTERM, interrupt)


class SecondInterrupt:
    """Ctrl-C as pytest knows it the first time (a ``KeyboardInterrupt``: the interrupted finish keeps the results and
    writes the report), and handled after that: the second kills the ranks of every pool at once and cuts the finish
    short (no report, no summary) without raising, so no traceback comes out of whatever it interrupted (pytest's own
    formatting of the first one, an import, pytest's unconfigure); a third ends the process at once (exit status 130),
    which loses nothing: the ranks are gone and the results file on disk is whole (its writes are atomic).

    Args:
        pools: the session's :class:`benchsuite.distributed.pool.RankPools` (anything with ``kill_now()``).
        outputs: the session's outputs, or a callable returning them (None before collection).
    """

    def __init__(self, pools: Any, outputs: Any) -> None:
        self.pools, self.outputs, self.installed = pools, outputs, False

    def install(self) -> SecondInterrupt:
        """Take over SIGINT, from the main thread and only while it has Python's default handler."""
        if threading.current_thread() is threading.main_thread() and (
            signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            signal.signal(signal.SIGINT, self._first)
            self.installed = True
        return self

    def restore(self) -> None:
        """Give SIGINT its default handler back when no Ctrl-C came (at the end of the terminal summary); after one,
        the handler stays until the process ends, so a later Ctrl-C is handled too."""
        if self.installed and signal.getsignal(signal.SIGINT) == self._first:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self.installed = False

    def _first(self, signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, self._second)
        raise KeyboardInterrupt

    def _second(self, signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, self._third)
        self.pools.kill_now()
        outputs = self.outputs() if callable(self.outputs) else self.outputs
        if outputs is not None:
            outputs.cut_short = True
        sys.stderr.write("benchsuite: second Ctrl-C: the ranks are killed; the results file is kept as it is\n")

    def _third(self, signum: int, frame: Any) -> None:
        self.pools.kill_now()
        sys.stderr.write("benchsuite: third Ctrl-C: exiting now; the results file on disk is whole\n")
        sys.stderr.flush()
        os._exit(130)
