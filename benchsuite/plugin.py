"""pytest plugin (registered under the ``pytest11`` entry point).

``pytest benchsuite --benchmark`` collects every run (case × seed) of every scenario as an item of
``benchsuite/test_scenarios.py`` with an id like ``init[init=xavier_uniform-seed=1]``, trains it under
``benchmark.pedantic`` (one round: a training run is long, never auto-calibrated) with
:func:`benchsuite.telemetry.clock.timed_region_seconds` as pytest-benchmark's timer, so pytest-benchmark holds the timed
training region; every other figure goes to ``benchmark.extra_info``. Without ``--benchmark`` the same items are a
smoke check of a few steps. A refused scenario file becomes one failing item with the error message; the other
scenarios still run.

Runs are ordered against drift (``--run-order``, default random: the cases shuffled within each seed's block, from
a drawn and recorded seed); with ``--benchmark`` the top-up runs of a scenario's later looks follow its runs (each
trained only while a claim on its case is open, within ``--top-up-s``: :mod:`benchsuite.top_ups`), then its paired
step-timing items (``step_timing``) and its profiled windows.

The plugin is installed for every pytest session of the environment, so it stays light: the session that imports
torch and resolves the device (:mod:`benchsuite.session`) is created only when benchsuite items are collected.
"""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from benchsuite import options
from benchsuite.scenario.matrix import RUN_ORDERS

PLUGIN_NAME = "benchsuite-session"


def pytest_addoption(parser: pytest.Parser) -> None:
    """benchsuite's options, each validated as it is parsed (:mod:`benchsuite.options`), each help ending with its
    default."""
    group = parser.getgroup("benchsuite", "benchsuite training-speed scenarios")
    group.addoption("--benchmark", action="store_true", help="train every run fully, write results and a report")
    group.addoption(
        "--scenarios",
        action="append",
        default=None,
        metavar="PATH",
        help="scenario folder or file; repeat it for several (default: scenarios)",
    )
    group.addoption(
        "--seeds",
        type=options.positive_int,
        default=None,
        metavar="N",
        help="run only the first N seeds of each scenario (a quick look: claims are judged on fewer seeds, and the "
        "results keep the scenarios with the seeds that ran) (default: every seed)",
    )
    group.addoption(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="training device; auto: cuda when available (default: %(default)s)",
    )
    group.addoption(
        "--results-dir",
        default="results",
        metavar="DIR",
        help="where results/<machine-id>/ goes (default: %(default)s)",
    )
    group.addoption(
        "--reports-dir", default="reports", metavar="DIR", help="where HTML reports go (default: %(default)s)"
    )
    group.addoption(
        "--smoke-steps",
        type=options.positive_int,
        default=3,
        metavar="N",
        help="steps per run without --benchmark (default: %(default)s)",
    )
    group.addoption(
        "--telemetry-interval",
        type=options.sampling_interval,
        default=0.1,
        metavar="S",
        help=f"seconds between NVML/psutil samples around each run, at least {options.MIN_SAMPLING_INTERVAL_S:g}; "
        "0 turns telemetry off (default: %(default)s)",
    )
    group.addoption(
        "--run-order",
        choices=RUN_ORDERS,
        default="random",
        help="order of a scenario's runs: random (cases shuffled within each seed's block, from a recorded seed), "
        "seed-major (every case of seed 0, then seed 1, ...) or case-major (default: %(default)s)",
    )
    group.addoption(
        "--run-order-seed",
        type=options.non_negative_int,
        default=None,
        metavar="N",
        help="seed of the random run order (default: drawn, and recorded in the results)",
    )
    group.addoption(
        "--top-up-s",
        type=options.non_negative_seconds,
        default=options.TOP_UP_BUDGET_S,
        metavar="S",
        help="wall seconds that the top-up runs of claims a look leaves open (more seeds, look by look, for their "
        "cases only) may take in the whole session; a look runs whole when its runs, costed at the median seconds of "
        "their cases' first-look runs, fit what is left, else it and the scenario's later looks are skipped; 0 turns "
        "top-ups off. The default covers what the main job's open claims take, with room for the last look to cost "
        f"twice its estimate, on the 2-core Xeon where it takes about {options.MAIN_JOB_S:g} s without top-ups "
        "(default: %(default)s)",
    )
    group.addoption(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="a profiled window per case after its runs (phases, top operators, memory, syncs, a trace); "
        "--no-profile leaves them out (default: on)",
    )
    group.addoption(
        "--nnodes",
        type=options.positive_int,
        default=1,
        metavar="N",
        help="machines a data-parallel run spreads over; every node runs the same session (default: %(default)s)",
    )
    group.addoption(
        "--node-rank",
        type=options.non_negative_int,
        default=0,
        metavar="R",
        help="this machine's place among them, below --nnodes (default: %(default)s)",
    )
    group.addoption(
        "--rdzv-endpoint",
        type=options.host_port,
        default=None,
        metavar="HOST:PORT",
        help="c10d rendezvous of a multi-node run (default: a standalone one on this node)",
    )
    group.addoption(
        "--rank-timeout",
        type=options.positive_seconds,
        default=900.0,
        metavar="S",
        help="seconds a data-parallel run may take before its ranks are killed (default: %(default)s)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Refuse modes that could not be trusted or recorded, check options against each other, register the lazy
    session.

    Raises:
        pytest.UsageError: ``--benchmark`` with ``--benchmark-disable``, ``--benchmark-skip`` or pytest-xdist;
            ``--node-rank`` not below ``--nnodes``; a results or reports folder that cannot be written (checked
            before anything trains, see :func:`_check_writable`); ``--device cuda`` where torch has no CUDA device
            (:func:`_check_cuda`).
    """
    why = options.refusal(config.option, is_xdist_worker=hasattr(config, "workerinput"))
    if why:
        raise pytest.UsageError(f"benchsuite refuses {why}")
    if config.getoption("node_rank") >= config.getoption("nnodes"):
        raise pytest.UsageError(
            f"benchsuite: --node-rank {config.getoption('node_rank')} must be below --nnodes "
            f"{config.getoption('nnodes')}"
        )
    if config.getoption("device") == "cuda" and not config.getoption("collectonly"):
        _check_cuda()
    if config.getoption("benchmark") and not config.getoption("collectonly"):
        _check_writable(config)
    # One round per run: min = max = median, so pytest-benchmark's table shows the timed region once.
    if config.getoption("benchmark") and config.getoption("benchmark_columns", None) is None:
        config.option.benchmark_columns = ["median", "rounds"]
    config.addinivalue_line("markers", "gpu: needs a CUDA device (fp16, TF32); skipped with the reason without one")
    config.pluginmanager.register(LazySession(config), PLUGIN_NAME)


def _check_writable(config: pytest.Config) -> None:
    """Create ``--results-dir`` and ``--reports-dir`` and write and remove a probe file in each, so that a folder
    that is a file, read-only, full or out of reach is refused before the first run trains, not after it.

    Raises:
        pytest.UsageError: naming the option, the path and the operating system's reason.
    """
    from benchsuite.results.files import unwritable_reason

    root = config.invocation_params.dir
    for option in ("results_dir", "reports_dir"):
        reason = unwritable_reason(root / config.getoption(option))
        if reason:
            flag = "--" + option.replace("_", "-")
            raise pytest.UsageError(f"benchsuite: {flag} {config.getoption(option)} cannot be written: {reason}")


def _check_cuda() -> None:
    """Refuse ``--device cuda`` on a machine where torch cannot train on CUDA, before collection: every item would be
    skipped and the session would pass having trained nothing. torch is imported only here, when ``--device cuda`` is
    asked for.

    Raises:
        pytest.UsageError: naming the device and the reason
            (:func:`benchsuite.telemetry.hardware.cuda_unavailable_reason`).
    """
    from benchsuite.telemetry.hardware import cuda_unavailable_reason

    reason = cuda_unavailable_reason()
    if reason:
        raise pytest.UsageError(f"benchsuite: --device cuda: {reason}")


@pytest.fixture
def benchsuite_session(request: pytest.FixtureRequest) -> Any:
    """The :class:`benchsuite.session.BenchsuiteSession` that runs items and records results."""
    return request.config.pluginmanager.get_plugin(PLUGIN_NAME).session()


class LazySession:
    """The plugin object pytest calls: it creates the benchsuite session (torch, CUDA) when the first benchsuite item
    is parametrised, and passes the later hooks to it only if it exists."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._session = None

    def session(self):
        """The session, created on first use (a method, not a property: pytest before 8.2 reads every attribute of
        a plugin object when it registers it)."""
        if self._session is None:
            from benchsuite.session import BenchsuiteSession

            self._session = BenchsuiteSession(self.config)
        return self._session

    def results_file(self):
        """The results file the session wrote last (its last good file on disk), or None when it wrote none."""
        session = self._session
        return session.recorder.path if session is not None and session.recorder is not None else None

    @pytest.hookimpl
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "bench_run" in metafunc.fixturenames:
            metafunc.parametrize("bench_run", self.session().params())

    @pytest.hookimpl
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self._session is not None:
            self._session.machine.keep(session.items)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self._session is not None:
            self._session.pytest_sessionfinish(session, exitstatus)

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self._session is not None:
            self._session.pytest_terminal_summary(terminalreporter)

    @pytest.hookimpl
    def pytest_benchmark_update_machine_info(self, config: pytest.Config, machine_info: dict[str, Any]) -> None:
        if self._session is not None:
            self._session.machine.update(machine_info)

    @pytest.hookimpl
    def pytest_benchmark_update_json(self, config: pytest.Config, benchmarks: Any, output_json: dict) -> None:
        if self._session is not None:
            self._session.pytest_benchmark_update_json(config, benchmarks, output_json)
