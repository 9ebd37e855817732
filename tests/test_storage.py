"""Atomic writes and result locations."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pytest

from benchsuite.results import files


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "deep" / "r.json"
    files.atomic_write_json(target, {"a": 1})
    files.atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert os.listdir(target.parent) == ["r.json"]
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0600


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch, failure):
    target = files.atomic_write_text(tmp_path / "r.json", "old")

    def broken_fsync(fd):
        raise failure

    monkeypatch.setattr(files.os, "fsync", broken_fsync)
    with pytest.raises(type(failure)):
        files.atomic_write_text(target, "new, but interrupted")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["r.json"]


def test_paths_and_run_id():
    run_id = files.new_run_id(datetime(2026, 11, 21, 18, 30, 5, tzinfo=timezone.utc), token="3f9a1c")
    assert run_id == "20261121T183005Z-3f9a1c"
    assert str(files.results_path("results", "cpu-x-2c", run_id)) == "results/cpu-x-2c/20261121T183005Z-3f9a1c.json"
    assert str(files.report_path("reports", "cpu-x-2c", run_id)) == "reports/cpu-x-2c_20261121T183005Z-3f9a1c.html"


def test_sessions_started_in_the_same_second_get_different_run_ids():
    """Two sessions on two GPUs of one machine, started together, must not overwrite each other's results."""
    now = datetime(2026, 11, 21, 18, 30, 5, tzinfo=timezone.utc)
    ids = {files.new_run_id(now) for _ in range(50)}
    assert len(ids) == 50
    assert all(run_id.startswith("20261121T183005Z-") for run_id in ids)
    assert sorted([files.new_run_id(now.replace(second=6)), *ids])[-1].startswith("20261121T183006Z")
