"""The benchsuite session behind the pytest plugin: scenarios → items, running each item (a smoke check, a full
benchmarked run in this process or on its data-parallel ranks, a top-up run of a later look (:mod:`benchsuite.top_ups`),
paired step timing, or a case's profiled window), recording the results and writing the report. Created by
:mod:`benchsuite.plugin` only when a session has benchsuite items, so that pytest sessions of other projects in the same
environment never import torch or touch CUDA.
"""

from __future__ import annotations

import secrets
import signal
from pathlib import Path
from typing import Any

import pytest

from benchsuite.machine_info import SessionMachine
from benchsuite.outputs import SecondInterrupt, SessionOutputs, sigterm_as_interrupt
from benchsuite.results.files import trace_path
from benchsuite.results.recorder import ResultsRecorder
from benchsuite.scenario.load import ScenarioError, load_scenarios
from benchsuite.scenario.matrix import (
    ProfileItem,
    Run,
    TimingPair,
    TopUpRun,
    expand_cases,
    expand_runs,
    profile_items,
    timing_pairs,
    top_up_runs,
)
from benchsuite.telemetry import clock
from benchsuite.telemetry.hardware import resolve_device
from benchsuite.top_ups import TopUps
from benchsuite.training.outcome import smoke_problems

Item = Run | TopUpRun | TimingPair | ProfileItem


class BenchsuiteSession:
    """Per-session state: options, loaded scenarios, the device, and (with ``--benchmark``) the recorder."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.full = bool(config.getoption("benchmark"))
        self.device = resolve_device(config.getoption("device"))
        self.smoke_steps = config.getoption("smoke_steps")
        root = config.invocation_params.dir
        self.scenarios_given: list[str] = list(config.getoption("scenarios") or ["scenarios"])
        """``--scenarios`` as given (kept in the results: which selection ran)."""
        self.scenario_paths = [root / path for path in self.scenarios_given]
        self.seeds = config.getoption("seeds")
        self.results_dir = root / config.getoption("results_dir")
        self.reports_dir = root / config.getoption("reports_dir")
        self.recorder: ResultsRecorder | None = None
        self.top_ups: TopUps | None = None
        """The top-up runs of later looks, their budget and record (run only with ``--benchmark``)."""
        self.outputs: SessionOutputs | None = None
        """The results file and report (with ``--benchmark``), from the first collected item on."""
        self._params: list[Any] | None = None
        seed = config.getoption("run_order_seed")
        self.run_order = {
            "mode": config.getoption("run_order"),
            "seed": seed if seed is not None else secrets.randbelow(2**31),
        }
        self.order_index: dict[str, int] = {}
        from benchsuite.distributed.pool import Launcher, RankPools

        launcher = Launcher(
            config.getoption("nnodes"),
            config.getoption("node_rank"),
            config.getoption("rdzv_endpoint"),
            config.getoption("rank_timeout"),
        )
        self.machine = SessionMachine(self.device, launcher.nnodes)
        """The hardware record and machine id, from the items that run (the plugin hands it the kept items)."""
        self.pools = RankPools(self.device, launcher)
        """The rank pools serving this session's data-parallel runs and profiles, one per world size."""
        self.case_index: dict[tuple[str, str], int] = {}
        self._sigterm = sigterm_as_interrupt() if self.full else None
        self._sigint = SecondInterrupt(self.pools, lambda: self.outputs).install()

    # ------------------------------------------------------------ collection

    def params(self) -> list[Any]:
        """One ``pytest.param`` per run, plus one per refused scenario file (loaded once per session)."""
        if self._params is None:
            loaded = load_scenarios(self.scenario_paths)
            errors = list(loaded.errors)
            if not loaded.scenarios and not errors:
                where = ", ".join(str(path) for path in self.scenario_paths)
                errors.append(ScenarioError(f"{where}: no scenario files (*.yaml) found"))
            specs = [spec.first_seeds(self.seeds) for _, spec in loaded.scenarios]
            self.recorder = ResultsRecorder(
                self.config, self.results_dir, specs, errors, self.run_order, scenario_paths=self.scenarios_given
            )
            self.outputs = SessionOutputs(self.recorder, self.reports_dir)
            self.top_ups = TopUps(self.config.getoption("top_up_s") if self.full else 0.0, self.recorder, specs)
            items = [item for spec in specs for item in self._items(spec)]
            self.order_index = {item.run_id: i for i, item in enumerate(items)}
            self.case_index = {
                (c.scenario, c.case_id): i for spec in specs for i, c in enumerate(expand_cases(spec, self.device.type))
            }
            self._params = [self._param(item) for item in items]
            self._params += [pytest.param(e, id=f"{Path(e.path or 'scenarios').stem}[invalid]") for e in errors]
        return self._params

    def _items(self, spec) -> list[Item]:
        """A scenario's runs in the session's run order, then (with ``--benchmark``) the top-up runs of its later
        looks, its paired step-timing items, and a profiled window per case (unless ``--no-profile``)."""
        order, seed, device = self.run_order["mode"], self.run_order["seed"], self.device.type
        top_ups = top_up_runs(spec, device) if self.top_ups.enabled else []
        self.top_ups.add(top_ups)
        profiled = profile_items(spec, device) if self.config.getoption("profile") else []
        return [*expand_runs(spec, device, order, seed), *top_ups, *timing_pairs(spec, device), *profiled]

    @staticmethod
    def _param(item: Item) -> Any:
        """The item's ``pytest.param``: a benchmark group per scenario, and the ``gpu`` mark when a case needs CUDA
        (fp16, TF32), so ``-m "not gpu"`` leaves those out on any machine."""
        from benchsuite.training.precision import PRECISION_POLICIES

        marks = [pytest.mark.benchmark(group=item.case.scenario, timer=clock.timed_region_seconds)]
        cases = (item.case, item.reference) if isinstance(item, TimingPair) else (item.case,)
        if any(PRECISION_POLICIES[case.config.techniques.precision].cuda_only for case in cases):
            marks.append(pytest.mark.gpu)
        return pytest.param(item, id=item.run_id, marks=marks)

    # ------------------------------------------------------------ running

    def execute(self, item: Item | ScenarioError, request: pytest.FixtureRequest) -> None:
        """Run one item: fail a refused file with its message, skip what this device cannot run, then a paired
        step-timing item, a profiled window, a smoke check, a full benchmarked run, or a top-up run (skipped with the
        reason when no open claim needs it or the budget is spent).

        The ``benchmark`` fixture is requested only for full runs, so smoke checks leave pytest-benchmark idle.
        """
        if isinstance(item, ScenarioError):
            pytest.fail(str(item), pytrace=False)
        self._skip_unrunnable(item)
        if self.full:
            self.outputs.start(request)
        if isinstance(item, TimingPair):
            self._time_pair(item, request)
        elif isinstance(item, ProfileItem):
            self._profile(item, request)
        elif isinstance(item, TopUpRun):  # skipped with the reason unless an open claim needs it and the budget lasts
            self.top_ups.run(item, lambda: self._benchmark(item, request))
        elif not self.full:
            self._smoke(item)
        else:
            with self.top_ups.observing(item.case):  # what its top-up runs are costed at
                self._benchmark(item, request)

    def _skip_unrunnable(self, item: Item) -> None:
        """Skip, with the reason, an item this device cannot run (fp16 or TF32 on a CPU; ``--device cuda`` without a
        CUDA device is refused before collection, :func:`benchsuite.plugin.pytest_configure`)."""
        from benchsuite.training.precision import unsupported_reason

        cases = (item.case, item.reference) if isinstance(item, TimingPair) else (item.case,)
        for case in cases:
            reason = unsupported_reason(case.config.techniques.precision, self.device)
            if reason:
                pytest.skip(reason)

    def _smoke(self, item: Run) -> None:
        """A few steps of the run, failed with the problems found (no steps, a non-finite loss, a crash)."""
        info = self._trainer(item)(max_steps=self.smoke_steps, warmup_steps=1, telemetry_interval_s=None)
        problems = smoke_problems(info, min(info.get("budget_steps") or self.smoke_steps, self.smoke_steps))
        if problems:
            pytest.fail(f"{item.run_id}: " + "; ".join(problems), pytrace=False)

    def _benchmark(self, item: Run | TopUpRun, request: pytest.FixtureRequest) -> None:
        """The full run under pytest-benchmark (one round; the timer is the timed training region), recorded with its
        look. The trainer comes first: a run this machine cannot host is skipped before the ``benchmark`` fixture is
        asked for (pytest-benchmark warns about a fixture left unused)."""
        run = item.run if isinstance(item, TopUpRun) else item
        train = self._trainer(run)
        benchmark = request.getfixturevalue("benchmark")
        interval = self.config.getoption("telemetry_interval") or None
        info = benchmark.pedantic(
            train, kwargs={"telemetry_interval_s": interval}, rounds=1, iterations=1, warmup_rounds=0
        )
        if info is None:
            pytest.skip("rank 0 of this run trained on another node, which records it")
        benchmark.extra_info.update(
            info,
            look=getattr(item, "look", 1),
            order_index=self.order_index.get(item.run_id),
            case_index=self.case_index.get((run.case.scenario, run.case.case_id)),
        )
        self._record(benchmark, request)
        if info["status"] in ("crashed", "timeout", "failed"):
            pytest.fail(f"{run.run_id}: {info['status']}: {info.get('error')}", pytrace=False)

    def _record(self, benchmark: Any, request: pytest.FixtureRequest) -> None:
        """Hand the benchmark's statistics to the recorder and rewrite the results file at once (an interrupted
        session keeps every finished item)."""
        if benchmark.stats is not None and self.recorder is not None:
            self.recorder.add(benchmark.stats)
            self.outputs.save(request)

    def _trainer(self, item: Run):
        """A function that trains ``item`` and returns its ``extra_info``: in this process for world size 1, on its
        ranks through torchrun otherwise (skipped where this machine cannot host them)."""
        world_size = item.case.config.train.world_size
        if world_size == 1:
            from benchsuite.training.run import train_run

            return lambda **kwargs: train_run(item, self.device, **kwargs).extra_info()
        pool = self._pool(world_size)

        def ranks(**kwargs) -> dict[str, Any] | None:
            info = pool.run(item, **kwargs)
            if info is not None:
                clock.add_timed_region(info.get("timed_s") or 0.0)  # pytest-benchmark's figure: the ranks' timed region
            return info

        return ranks

    def _pool(self, world_size: int):
        """The session's rank pool of ``world_size`` (skipped where this machine cannot host its ranks)."""
        from benchsuite.distributed.hosting import Unhostable

        try:
            return self.pools.get(world_size)
        except Unhostable as why:
            pytest.skip(str(why))

    def _profile(self, item: ProfileItem, request: pytest.FixtureRequest) -> None:
        """A case's profiled window: one recorded step as a smoke check; with ``--benchmark`` the scenario's window,
        its trace kept next to the results file, the profile recorded."""
        spec = item.spec if self.full else item.spec.model_copy(update={"steps": 1, "wait": 0, "warmup": 1})
        world_size, case = item.case.config.train.world_size, item.case
        trace = trace_path(self.recorder.target, case.scenario, case.case_id) if self.full else None  # by the results
        if world_size == 1:
            from benchsuite.profiling.window import profile_case

            profile = lambda: profile_case(item.case, self.device, spec, trace_path=trace)  # noqa: E731
        else:
            pool = self._pool(world_size)
            profile = lambda: pool.profile(item.case, spec, trace)  # noqa: E731
        if not self.full:
            info = profile()
            if info is not None and (info["status"] != "ok" or not info["phases"]):
                pytest.fail(f"{item.run_id}: status {info['status']}: {info.get('error')}", pytrace=False)
            return
        from benchsuite.profiling.window import relative_traces

        benchmark = request.getfixturevalue("benchmark")
        info = benchmark.pedantic(profile, rounds=1, iterations=1, warmup_rounds=0)
        if info is None:
            pytest.skip("rank 0 of this case profiled on another node, which records it")
        benchmark.extra_info.update(
            relative_traces(info, self.recorder.target.parent),
            kind="profile",
            run_id=item.run_id,
            order_index=self.order_index.get(item.run_id),
        )
        self._record(benchmark, request)
        if info["status"] != "ok":
            pytest.fail(f"{item.run_id}: status {info['status']}: {info.get('error')}", pytrace=False)

    def _time_pair(self, pair: TimingPair, request: pytest.FixtureRequest) -> None:
        """Paired step-timing blocks: one short block each as a smoke check, all of them with ``--benchmark``."""
        from benchsuite.training.step_timing import time_pair

        if not self.full:
            timing = time_pair(pair, self.device, blocks=1, min_block_s=0.0)
            if timing.status != "ok" or not all(b.case_s > 0 and b.against_s > 0 for b in timing.blocks):
                pytest.fail(
                    f"{pair.run_id}: status {timing.status}: {timing.error}, blocks {timing.blocks}", pytrace=False
                )
            return
        benchmark = request.getfixturevalue("benchmark")
        timing = benchmark.pedantic(time_pair, args=(pair, self.device), rounds=1, iterations=1, warmup_rounds=0)
        benchmark.extra_info.update(timing.extra_info(), order_index=self.order_index.get(pair.run_id))
        self._record(benchmark, request)
        if timing.status != "ok":
            pytest.fail(f"{pair.run_id}: status {timing.status}: {timing.error}", pytrace=False)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Stop the ranks, then the last write of the results file and the report."""
        self.pools.close()  # the ranks of data-parallel runs leave with the session
        if self._sigterm is not None:
            signal.signal(signal.SIGTERM, self._sigterm)
        if self.full and self.outputs is not None:
            self.outputs.finish(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED or bool(session.shouldstop))

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.full and self.outputs is not None:
            self.outputs.summary(terminalreporter)
        self._sigint.restore()

    # ------------------------------------------------------------ pytest-benchmark hooks

    @pytest.hookimpl
    def pytest_benchmark_update_json(self, config: pytest.Config, benchmarks: Any, output_json: dict) -> None:
        if self.recorder is not None:
            output_json["benchsuite"] = self.recorder.benchsuite_block()
