"""Results files: pytest-benchmark's JSON, produced through its own hooks, plus benchsuite's block.

The file is written before the first run (the hardware record, the scenarios, no run yet, ``incomplete: true``) and
rewritten atomically after every finished run, so an interrupted session keeps every finished case in a complete,
readable file; the last write of a session that ran to its end clears ``incomplete``. ``pytest-benchmark compare FILE``
reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchsuite import __version__
from benchsuite.results import formats
from benchsuite.results.files import atomic_write_json, atomic_write_text, new_run_id, results_path
from benchsuite.specs.scenario import ScenarioSpec


class ResultsRecorder:
    """Collects pytest-benchmark's per-run stats and writes ``results/<machine-id>/<run-id>.json``.

    Args:
        config: the pytest config (its hooks generate machine info, commit info and the JSON).
        results_dir: the ``results/`` folder.
        scenarios: the scenarios of this session, stored in the file so a report can be built from it alone.
        errors: scenario files that were refused (their errors), kept in the file as messages.
        run_order: how the session ordered its runs (``mode`` and ``seed``), kept in the file.
        top_ups: the session's top-up record (:attr:`benchsuite.top_ups.TopUps.record`: the budget, the seconds
            spent, the runs that ran, were not needed or were skipped for the budget), kept in the file as it stands
            at each write as ``benchsuite.top_ups``; the session updates the same dict.
    """

    def __init__(
        self,
        config: pytest.Config,
        results_dir: Path,
        scenarios: list[ScenarioSpec],
        errors: list[Exception],
        run_order: dict[str, Any] | None = None,
        top_ups: dict[str, Any] | None = None,
        scenario_paths: list[str] | None = None,
    ) -> None:
        self.config = config
        self.results_dir = Path(results_dir)
        self.scenarios = scenarios
        self.errors = errors
        self.run_order = run_order or {"mode": "seed-major", "seed": None}
        self.top_ups = top_ups
        self.scenario_paths = list(scenario_paths or [])
        """The scenario folders and files the session was given (``--scenarios``), as given: which selection ran."""
        self.run_id = new_run_id()
        self.stats: list[Any] = []
        self._serialized: list[str] = []
        self._scenario_of: list[str | None] = []
        """The scenario of each serialized entry (its ``extra_info``), so a snapshot can take one scenario's."""
        self._machine_info: dict[str, Any] | None = None
        self._commit_info: dict[str, Any] | None = None
        self.path: Path | None = None
        """The results file once a write has succeeded (the last good file on disk)."""
        self.runs_written = 0
        """Finished items the file on disk holds (its last successful write)."""
        self.complete = False
        """Whether the session ran to its end (the last write clears the file's ``incomplete`` mark)."""

    def add(self, stats: Any) -> None:
        """Keep one pytest-benchmark ``Metadata`` (the ``benchmark.stats`` of a finished run), and its JSON: a finished
        run never changes, so the rewrites after every run serialize only what is new."""
        self.stats.append(stats)
        if not stats.has_error:
            self._serialized.append(json.dumps(stats.as_dict(include_data=True), default=str))
            self._scenario_of.append((getattr(stats, "extra_info", None) or {}).get("scenario"))

    @property
    def machine_info(self) -> dict[str, Any]:
        """pytest-benchmark's machine_info, completed by our ``pytest_benchmark_update_machine_info``."""
        if self._machine_info is None:
            hook = self.config.hook
            info = hook.pytest_benchmark_generate_machine_info(config=self.config)
            hook.pytest_benchmark_update_machine_info(config=self.config, machine_info=info)
            self._machine_info = info
        return self._machine_info

    @property
    def machine_id(self) -> str:
        return self.machine_info["benchsuite"]["machine_id"]

    def benchsuite_block(self) -> dict[str, Any]:
        """What benchsuite adds to the JSON: format, run id, the scenarios and the refused files."""
        return {
            "format": formats.label(),
            "version": __version__,
            "run_id": self.run_id,
            "machine_id": self.machine_id,
            "scenarios": {s.name: s.model_dump(mode="json") for s in self.scenarios},
            "scenario_errors": [str(e) for e in self.errors],
            "run_order": self.run_order,
            **({"scenario_paths": self.scenario_paths} if self.scenario_paths else {}),
            **({"top_ups": self.top_ups} if self.top_ups is not None else {}),
            "incomplete": not self.complete,
        }

    @property
    def target(self) -> Path:
        """``results/<machine-id>/<run-id>.json``, the file this session writes."""
        return results_path(self.results_dir, self.machine_id, self.run_id)

    def write(self, *, final: bool = True) -> Path:
        """Write the results file atomically: before the first run (no run yet), after every run, and at the end.

        The last write of a session (``final``) goes through pytest-benchmark's JSON hooks whole, is indented and
        clears the ``incomplete`` mark. The rewrites after every run are the same JSON on one line, with every
        finished run serialized once (a session of 300 runs would otherwise spend seconds re-serializing the same
        runs).

        Raises:
            OSError: the file could not be written (no space, no permission); the last good file stays as it was.
        """
        hook = self.config.hook
        if self._commit_info is None:
            self._commit_info = hook.pytest_benchmark_generate_commit_info(config=self.config)
            hook.pytest_benchmark_update_commit_info(config=self.config, commit_info=self._commit_info)
        self.complete = final
        output = hook.pytest_benchmark_generate_json(
            config=self.config,
            benchmarks=self.stats if final else [],
            include_data=True,
            machine_info=self.machine_info,
            commit_info=self._commit_info,
        )
        hook.pytest_benchmark_update_json(config=self.config, benchmarks=self.stats, output_json=output)
        runs = len(self._serialized)
        if final:
            path = atomic_write_json(self.target, output)
        else:
            head = json.dumps(output, default=str)
            marker = '"benchmarks": []'
            text = head.replace(marker, '"benchmarks": [' + ", ".join(self._serialized) + "]", 1)
            path = atomic_write_text(self.target, text + "\n")
        self.path, self.runs_written = path, runs
        return path

    def snapshot(self, scenario: str | None = None) -> dict[str, Any]:
        """What the next rewrite would write (marked incomplete), as :func:`benchsuite.results.files.read_results`
        would read it back: JSON types only, migrated and checked (:func:`benchsuite.results.formats.migrate`). Built
        in memory; nothing is written. ``scenario`` keeps only that scenario's items (what the analysis of one
        scenario's looks reads, at a fraction of the cost).

        Raises:
            benchsuite.results.formats.ResultsError: a field the read side could not use (a bug of the writer).
        """
        hook = self.config.hook
        output = hook.pytest_benchmark_generate_json(
            config=self.config,
            benchmarks=[],
            include_data=True,
            machine_info=self.machine_info,
            commit_info=self._commit_info or {},
        )
        hook.pytest_benchmark_update_json(config=self.config, benchmarks=self.stats, output_json=output)
        output["benchsuite"]["incomplete"] = True
        data = json.loads(json.dumps(output, default=str))
        data["benchmarks"] = [
            json.loads(text)
            for text, name in zip(self._serialized, self._scenario_of, strict=True)
            if scenario is None or name == scenario
        ]
        return formats.migrate(data, f"the session's results ({self.target.name}, in memory)")

    def save(self, *, final: bool = False) -> str | None:
        """:meth:`write`, or the one-line reason it failed: the file, the operating system's error, and how many runs
        the last good file on disk holds (an atomic write leaves that file as it was)."""
        try:
            self.write(final=final)
        except OSError as exc:
            return f"cannot write {self.target}: {exc.strerror or exc}; {self.kept()}"
        return None

    def kept(self) -> str:
        """What the last good file on disk holds, in words."""
        if self.path is None:
            return "no results file was written"
        return f"{self.path} holds the {self.runs_written} results (runs, step timings, profiles) written before"
