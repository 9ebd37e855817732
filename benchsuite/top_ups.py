"""Group-sequential top-ups (issue 20, "verdicts that settle"): more seeds only for the claims a look leaves open,
within a session-wide budget of seconds.

A scenario's ``seeds`` are its first look (n₀ runs per case). After its runs, and before its step-timing and profile
items, come the top-up items of looks 2..``top_up.looks`` (:func:`benchsuite.scenario.matrix.top_up_runs`): one run
per case that a claim compares from its runs and seed the look adds, seeds fixed in advance
(:class:`benchsuite.specs.sequential.TopUpSpec`), so a session's runs never depend on the machine's speed, only on
which claims are open. At execution time a top-up item of look j

1. runs only if a claim that compares its case is still open after look j-1 and needs look j:
   :func:`benchsuite.analysis.looks.open_claims` on the results as they stand
   (:meth:`benchsuite.results.recorder.ResultsRecorder.snapshot`), judged once per scenario and look; else it is
   skipped with ``not needed: every claim on init=xavier_uniform settled at look 1``;
2. runs only when its whole look fits the session's budget (``--top-up-s``): at the look's first item the look is
   planned at once, its needed runs costed at the median wall seconds of each case's first-look runs in this session
   (:meth:`TopUps.observe`), and it runs whole if that estimate fits what the budget has left (the wall seconds of
   the top-up items that ran count against it), else every run of it and of the scenario's later looks is skipped
   with ``look 2 of schedules needs about 8.4 s, 3.1 s of the 30 s top-up budget left``. A look is never cut short
   for the budget, and whether it runs depends on the costs, not on where a clock stands mid-look, so two sessions
   on one machine plan the same looks unless their costs differ by the margin the budget leaves. Judging the looks
   is timed apart (``judging_s``).

The results file records the budget, the seconds spent, each planned look (its runs, estimated seconds and whether
it ran), the runs that ran, those not needed, and those skipped for the budget with the reason
(``benchsuite.top_ups``), so a report can tell a claim that settled from one the budget
cut short.

Sources: Jennison & Turnbull, *Group Sequential Methods with Applications to Clinical Trials*, 2000 (repeated
confidence intervals); Lan & DeMets 1983 (error spending).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from benchsuite.results.recorder import ResultsRecorder
from benchsuite.scenario.matrix import Case, TopUpRun
from benchsuite.specs.claims import ClaimSpec
from benchsuite.specs.scenario import ScenarioSpec

OpenClaims = Callable[[dict[str, Any], str], list[tuple[ClaimSpec, int]]]


def look_analysis() -> OpenClaims:
    """:func:`benchsuite.analysis.looks.open_claims` (the read side: pandas and scipy, imported on first use)."""
    from benchsuite.analysis.looks import open_claims

    return open_claims


class TopUps:
    """Which top-up items of a session run, what they cost and what was skipped.

    Args:
        budget_s: wall seconds the session's top-up items may take in all (``--top-up-s``); 0 turns top-ups off.
        recorder: the session's results recorder (its :meth:`~ResultsRecorder.snapshot` is what a look is judged on;
            its file carries :attr:`record`).
        specs: the session's scenarios.
        open_claims: the analysis of a look (default :func:`look_analysis`'s), ``(data, scenario) → [(claim, next
            look it needs)]`` for the claims of the scenario not settled.
    """

    def __init__(
        self,
        budget_s: float,
        recorder: ResultsRecorder,
        specs: list[ScenarioSpec],
        open_claims: OpenClaims | None = None,
    ) -> None:
        self.budget_s = float(budget_s)
        self.recorder = recorder
        self.specs = {spec.name: spec for spec in specs}
        self.record: dict[str, Any] = {
            "budget_s": self.budget_s,
            "spent_s": 0.0,
            "judging_s": 0.0,
            "looks": [],
            "ran": [],
            "not_needed": [],
            "skipped": [],
        }
        """``benchsuite.top_ups`` of the results file: ``budget_s``, ``spent_s`` (wall seconds of the top-up runs),
        ``judging_s`` (wall seconds of judging the looks), ``looks`` (each planned look: ``{scenario, look, runs,
        estimate_s, left_s, ran}``), ``ran`` and ``not_needed`` (run ids) and ``skipped``, the runs skipped for the
        budget (``{run_id, scenario, look, reason}``); the recorder writes this very dict."""
        recorder.top_ups = self.record
        self._open_claims = open_claims
        self._open: dict[tuple[str, int], dict[int, int]] = {}
        """(scenario, look) → index of each open claim → the next look it needs."""
        self._items: dict[tuple[str, int], list[TopUpRun]] = {}
        """(scenario, look) → the look's top-up items, in session order (:meth:`add`)."""
        self._seconds: dict[tuple[str, str], list[float]] = {}
        """(scenario, case id) → wall seconds of each of the case's first-look runs (:meth:`observe`)."""
        self._refused: dict[str, str] = {}
        """scenario → why its looks from the first one refused onwards are skipped (the budget)."""
        self._planned: set[tuple[str, int]] = set()

    def add(self, items: list[TopUpRun]) -> None:
        """Register a scenario's top-up items (:func:`benchsuite.scenario.matrix.top_up_runs`), so that a look can be
        planned whole."""
        for item in items:
            self._items.setdefault((item.case.scenario, item.look), []).append(item)

    @contextmanager
    def observing(self, case: Case) -> Iterator[None]:
        """:meth:`observe` the wall seconds of running a first-look run of ``case``, whether it finished or failed (a
        run skipped on this machine is not: its top-ups will be skipped the same way)."""

        def done(seconds: float, skipped: bool) -> None:
            if not skipped:
                self.observe(case, seconds)

        with _wall(done):
            yield

    def observe(self, case: Case, seconds: float) -> None:
        """Record the wall seconds of one first-look run of ``case`` (what its top-up runs are costed at)."""
        self._seconds.setdefault((case.scenario, case.case_id), []).append(float(seconds))

    @property
    def enabled(self) -> bool:
        """Whether the session collects top-up items at all (a budget above 0)."""
        return self.budget_s > 0

    def check(self, item: TopUpRun) -> None:
        """Skip ``item`` with the reason, recorded, unless a claim on its case is open and the budget lasts (or, when
        judging a look failed, with that error: a top-up never fails the session)."""
        reason = self.not_needed(item)
        if "error" in self.record:
            pytest.skip(f"top-ups off: judging the looks failed: {self.record['error']}")
        if reason is not None:
            self.record["not_needed"].append(item.run.run_id)
            pytest.skip(reason)
        reason = self.refused(item)
        if reason is not None:
            entry = {"run_id": item.run.run_id, "scenario": item.case.scenario, "look": item.look, "reason": reason}
            self.record["skipped"].append(entry)
            pytest.skip(reason)

    def refused(self, item: TopUpRun) -> str | None:
        """Why the budget refuses ``item``'s look (planned whole at its first needed item: :meth:`plan`), or None."""
        scenario = item.case.scenario
        if (scenario, item.look) not in self._planned and scenario not in self._refused:
            self.plan(scenario, item.look)
        return self._refused.get(scenario)

    def plan(self, scenario: str, look: int) -> None:
        """Plan look ``look`` of ``scenario`` whole: cost the runs it needs (:meth:`estimate_s`) and refuse it, with
        the scenario's later looks, when that exceeds what the budget has left; recorded in ``looks``."""
        self._planned.add((scenario, look))
        needed = [item for item in self._items.get((scenario, look), []) if self.not_needed(item) is None]
        estimate, left = self.estimate_s(needed), self.budget_s - self.record["spent_s"]
        ran = estimate <= left and left > 0
        entry = {"scenario": scenario, "look": look, "runs": len(needed), "estimate_s": estimate, "left_s": left}
        self.record["looks"].append({**entry, "ran": ran})
        if not ran:
            self._refused[scenario] = (
                f"look {look} of {scenario} needs about {estimate:.3g} s, {max(left, 0.0):.3g} s of the "
                f"{self.budget_s:g} s top-up budget left"
            )

    def estimate_s(self, items: list[TopUpRun]) -> float:
        """Wall seconds ``items`` should take: each at the median of its case's first-look runs in this session; a case
        none of whose first-look runs ran here (skipped: a world size this machine cannot host) costs nothing, its
        top-ups being skipped the same way."""
        total = 0.0
        for item in items:
            mine = self._seconds.get((item.case.scenario, item.case.case_id))
            total += statistics.median(mine) if mine else 0.0
        return total

    def not_needed(self, item: TopUpRun) -> str | None:
        """Why ``item`` is not needed (no claim on its case is open and needs its look), or None when one is."""
        open_claims = self.open_after(item.case.scenario, item.look) or {}
        if any(open_claims.get(index, item.look + 1) <= item.look for index in item.claims):
            return None
        when = "at" if item.look == 2 else "by"
        return f"not needed: every claim on {item.case.case_id} settled {when} look {item.look - 1}"

    def open_after(self, scenario: str, look: int) -> dict[int, int] | None:
        """Index of each claim of ``scenario`` still open when its look ``look`` is about to run → the next look it
        needs; judged once per scenario and look, on the results as they stand (timed as ``judging_s``). None
        once judging failed (the error, in one line, goes to the record as ``error``; no look is judged after it)."""
        key = (scenario, look)
        if "error" in self.record:
            return None
        if key not in self._open:
            start = time.perf_counter()
            try:
                analyse = self._open_claims or look_analysis()
                found = analyse(self.recorder.snapshot(scenario), scenario)
            except Exception as exc:  # the analysis is the read side's; the session goes on without top-ups
                self.record["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                return None
            finally:
                self._add("judging_s", time.perf_counter() - start)
            claims = self.specs[scenario].claims
            self._open[key] = {index: next_look for claim, next_look in found for index in _indices(claims, claim)}
        return self._open[key]

    def run(self, item: TopUpRun, benchmark: Callable[[], None]) -> None:
        """:meth:`check` ``item``, then ``benchmark`` it, :meth:`timed`."""
        self.check(item)
        with self.timed(item):
            benchmark()

    @contextmanager
    def timed(self, item: TopUpRun) -> Iterator[None]:
        """Count the wall seconds of running ``item`` against the budget, and record that it ran (unless it was
        skipped after all, on a machine that cannot host its ranks, as the first look's runs are)."""

        def done(seconds: float, skipped: bool) -> None:
            self._add("spent_s", seconds)
            if not skipped:
                self.record["ran"].append(item.run.run_id)  # a run that failed ran too (its record says how)

        with _wall(done):
            yield

    def _add(self, key: str, seconds: float) -> None:
        self.record[key] += seconds


@contextmanager
def _wall(done: Callable[[float, bool], None]) -> Iterator[None]:
    """Run the block, then ``done(its wall seconds, whether it was skipped)``, however it ended."""
    start, skipped = time.perf_counter(), False
    try:
        yield
    except pytest.skip.Exception:
        skipped = True
        raise
    finally:
        done(time.perf_counter() - start, skipped)


def _indices(claims: tuple[ClaimSpec, ...], claim: ClaimSpec) -> list[int]:
    """Where ``claim`` (as the results file stores it) is among the scenario's ``claims``."""
    return [i for i, mine in enumerate(claims) if mine == claim]
