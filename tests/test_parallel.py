"""Independent pieces in worker processes (results/parallel.py): the same results, in order, as in one process; in
this process for a few pieces or where processes cannot start; and a report built either way is the same page."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool

import pytest
from results_factory import faults_data

from benchsuite.report import sections
from benchsuite.report.html import render_report
from benchsuite.results import parallel


def _pid_and_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def test_items_come_back_in_order_from_other_processes():
    out = parallel.process_map(_pid_and_square, range(8), workers=2)
    assert [sq for _, sq in out] == [x * x for x in range(8)]
    assert {pid for pid, _ in out} - {os.getpid()}  # computed elsewhere


def test_few_items_or_one_worker_stay_in_this_process():
    assert {pid for pid, _ in parallel.process_map(_pid_and_square, [1, 2, 3], workers=1)} == {os.getpid()}
    assert {pid for pid, _ in parallel.process_map(_pid_and_square, [1, 2], workers=2, min_items=3)} == {os.getpid()}


@pytest.mark.parametrize("error", [OSError("no /dev/shm"), BrokenProcessPool("a worker died")])
def test_where_processes_cannot_start_the_items_are_computed_here(monkeypatch, error):
    class Refusing:
        def __init__(self, *args, **kwargs):
            raise error

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", Refusing)
    out = parallel.process_map(_pid_and_square, range(4), workers=2)
    assert out == [(os.getpid(), x * x) for x in range(4)]


def test_a_report_built_in_worker_processes_is_the_page_built_in_one(monkeypatch):
    data = faults_data()  # several scenarios: their sections are built in two processes
    assert len(data["benchsuite"]["scenarios"]) >= 4
    calls = []
    real = parallel.process_map

    def spy(fn, items, workers=None, **kwargs):
        calls.append(workers)
        return real(fn, items, 2, **kwargs)

    monkeypatch.setattr(sections, "process_map", spy)
    in_workers = render_report(data)
    monkeypatch.setattr(sections, "process_map", lambda fn, items, workers=None, **kw: real(fn, items, 1, **kw))
    assert calls and render_report(data) == in_workers
    assert sections._SHARED == {}  # nothing of the file is kept once the sections are built
