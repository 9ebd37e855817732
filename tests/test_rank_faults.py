"""The ranks of a data-parallel run never outlive their session: a pytest session killed (SIGKILL, SIGTERM) or
interrupted twice (Ctrl-C) mid-run, or a torchrun launcher killed mid-run, leaves no rank, no torchrun and no
temporary folder behind (issue 19).

Each test starts a real benchmark session in a subprocess, in a process group of its own, with ``TMPDIR`` under
``tmp_path`` (so the pool's folder and anything torchrun makes land there) and a unique environment tag, by which
every process it started is found again with psutil.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
from conftest import tiny_spec, write_yaml

import benchsuite
from benchsuite.distributed.processes import recorded_ranks

TAG_ENV = "BENCHSUITE_TEST_TAG"
TEST_SCENARIOS = Path(benchsuite.__file__).parent / "test_scenarios.py"
#: A world-size-2 run far longer than any test waits (each step is well under a millisecond of work).
LONG = {"optimizer": "sgd", "lr": 0.05, "batch_size": 16, "max_steps": 10_000_000, "warmup_steps": 1}
SHORT = {**LONG, "max_steps": 4, "max_epochs": None}
#: torch's per-user cache folder (``torchinductor_<user>``), made by DistributedDataParallel's construction in any
#: torch program and shared by them all: not a pool's to remove.
SHARED_CACHE = "torchinductor_"
DATA = {"name": "synthetic", "shape": [1, 8], "num_samples": 256, "val_samples": 32, "num_classes": 3}


def _scenario(name: str, train: dict, world_size: int = 2) -> dict:
    """A one-run scenario of ``world_size`` on synthetic data."""
    return tiny_spec(
        name=name,
        seeds=[0],
        matrix={"world_size": [world_size]},
        workload={"dataset": DATA, "model": {"name": "mlp", "hidden": [16]}},
        train={**train, "eval_every_steps": 1_000_000},
        target={"metric": "val_accuracy", "value": 0.999},
    )


class Session:
    """A ``pytest benchsuite --benchmark`` session in a subprocess, with the processes it started."""

    def __init__(self, tmp_path: Path, scenarios: dict[str, dict], linger: int | None = None) -> None:
        self.tag, self.tmp = uuid.uuid4().hex, tmp_path / "tmp"
        self.tmp.mkdir()
        folder = tmp_path / "scenarios"
        for name, spec in scenarios.items():
            write_yaml(folder / f"{name}.yaml", spec)
        self.output = tmp_path / "session.log"
        command = [
            *(sys.executable, "-m", "pytest", str(TEST_SCENARIOS), "--benchmark", "--scenarios", str(folder)),
            *("--results-dir", str(tmp_path / "r"), "--reports-dir", str(tmp_path / "p")),
            *("--no-profile", "-p", "no:cacheprovider", "-q"),
        ]
        env = {**os.environ, "TMPDIR": str(self.tmp), TAG_ENV: self.tag}
        if linger is not None:  # that rank ignores the stop job (benchsuite.distributed.worker)
            env["BENCHSUITE_INJECT_FAULT"] = f"linger:{linger}"
        with self.output.open("w") as out:
            self.process = subprocess.Popen(
                command,
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_default_sigint,
            )

    def tagged(self) -> list[psutil.Process]:
        """Every live process that carries this session's tag (the session itself included), zombies aside."""
        found = []
        for proc in psutil.process_iter():
            try:
                if proc.status() != psutil.STATUS_ZOMBIE and proc.environ().get(TAG_ENV) == self.tag:
                    found.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        return found

    def ranks(self) -> list[psutil.Process]:
        """The live ranks (processes running benchsuite.distributed.worker)."""
        return [p for p in self.tagged() if _module(p) == "benchsuite.distributed.worker"]

    def launchers(self) -> list[psutil.Process]:
        """The live torchrun launchers: the parents of the ranks."""
        return list({p.pid: p for p in (r.parent() for r in self.ranks()) if p is not None}.values())

    def training(self, pool: int = 1, timeout_s: float = 90.0) -> Path:
        """Wait until the ``pool``-th pool's ranks train their first job; that pool's folder."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            folders = sorted(self.tmp.glob("benchsuite-ranks2-*/job1.json"), key=lambda p: p.stat().st_mtime)
            if len(folders) >= pool and len(self.ranks()) == 2:
                time.sleep(1.0)  # past the hand-over of the job: both ranks train it
                return folders[pool - 1].parent
            time.sleep(0.1)
        raise AssertionError(f"the ranks did not start training within {timeout_s:g} s\n{self.log()[-4000:]}")

    def signal(self, signum: int) -> None:
        """``signum`` to the session's process group (as a terminal sends Ctrl-C), the session alone for others."""
        if signum == signal.SIGINT:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)

    def left_behind(self, timeout_s: float = 5.0) -> tuple[list[str], list[str]]:
        """Once the session has ended (it may still write its results and report: up to 60 s), the processes and
        temporary files that outlive it, polled for up to ``timeout_s``."""
        try:
            self.process.wait(timeout=60.0)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + timeout_s
        while True:
            procs = [f"{p.pid} {_cmdline(p)[:120]}" for p in self.tagged()]
            files = sorted(p.name for p in self.tmp.iterdir() if not p.name.startswith(SHARED_CACHE))
            if (not procs and not files) or time.monotonic() > deadline:
                return procs, files
            time.sleep(0.1)

    def log(self) -> str:
        """The session's output (stdout and stderr)."""
        return self.output.read_text(encoding="utf-8", errors="replace")

    def kill_all(self) -> None:
        """Kill the session and anything it left (a failing test leaves nothing behind)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        survivors = self.tagged()
        for proc in survivors:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(survivors, timeout=5.0)


def _default_sigint() -> None:
    """In the session's child: SIGINT back to its default, as a terminal's foreground job has it. A test run started
    in the background of a non-interactive shell (``cmd &``) inherits SIGINT ignored, and a session that finds it
    ignored rightly leaves it so (benchsuite.outputs takes over only Python's default handler): its Ctrl-C would never
    arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _running(proc: psutil.Process) -> bool:
    """Whether ``proc`` still runs (a zombie has exited)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False


def _module(proc: psutil.Process) -> str | None:
    """The module a Python process runs (``python -m MODULE``), or None."""
    argv = _cmdline(proc).split()
    return argv[argv.index("-m") + 1] if "-m" in argv[:-1] else None


def _cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return ""


@pytest.fixture
def session(tmp_path):
    sessions: list[Session] = []

    def start(scenarios: dict[str, dict], linger: int | None = None) -> Session:
        sessions.append(Session(tmp_path, scenarios, linger))
        return sessions[-1]

    yield start
    for s in sessions:
        s.kill_all()


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_a_session_killed_mid_run_leaves_no_rank_nor_folder(session, signum):
    """The session killed mid-run, by SIGKILL (no cleanup of its own) or SIGTERM (its interrupted finish, or
    SIGTERM's default action where the session has no handler): torchrun and its ranks stop at once and the pool's
    folder goes."""
    s = session({"long": _scenario("long", LONG)})
    s.training()
    s.signal(signum)
    procs, files = s.left_behind()
    assert procs == [] and files == [], s.log()


@pytest.mark.parametrize("gap_s", [0.05, 0.5, 2.5])
def test_two_ctrl_c_mid_run_kill_the_ranks_at_once(session, gap_s):
    """Ctrl-C twice mid-run: the pool is killed at once, no wait, no traceback (the second Ctrl-C lands in the
    session's finish: the last write or the report, which say they were interrupted)."""
    s = session({"long": _scenario("long", LONG)})
    s.training()
    s.signal(signal.SIGINT)
    time.sleep(gap_s)  # the second lands in pytest's report of the first, in the finish, or in pytest's unconfigure
    if s.process.poll() is None:
        s.signal(signal.SIGINT)
    procs, files = s.left_behind()
    log = s.log()
    assert procs == [] and files == [], log
    assert "KeyboardInterrupt" in log and "Traceback" not in log, log
    assert "waiting up to" not in log, log  # a pool running a job gets no graceful wait


def test_a_ctrl_c_during_the_graceful_stop_of_an_idle_pool_kills_it_without_a_traceback(session):
    """A session interrupted between runs gives its idle pool a stop job and says what it waits for; a second
    Ctrl-C during that wait kills the ranks at once. Rank 1 is made to ignore the stop job (``linger``), so the wait
    lasts until the Ctrl-C."""
    s = session({"a-short": _scenario("a-short", SHORT), "b-long": _scenario("b-long", LONG, world_size=1)}, linger=1)
    deadline = time.monotonic() + 90.0
    while not list(s.tmp.glob("benchsuite-ranks2-*/done1")):  # the data-parallel run is done, the long one starts
        assert s.process.poll() is None and time.monotonic() < deadline, s.log()
        time.sleep(0.1)
    (folder,) = [p.parent for p in s.tmp.glob("benchsuite-ranks2-*/done1")]
    ranks = s.ranks()
    time.sleep(1.0)
    s.signal(signal.SIGINT)
    deadline = time.monotonic() + 5.0
    while "waiting up to" not in s.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    s.signal(signal.SIGINT)
    procs, files = s.left_behind()
    log = s.log()
    assert len(ranks) == 2 and procs == [] and files == [] and not folder.exists(), log
    assert (
        "benchsuite: waiting up to 7 s more for the 2 ranks of world size 2 to stop; Ctrl-C kills them at once" in log
    )
    assert "Traceback" not in log, log


def test_a_killed_launcher_crashes_its_run_and_its_ranks_are_gone_before_the_next_run(session):
    """SIGKILL to torchrun mid-run: the run is recorded crashed, and its ranks (no longer torchrun's children) are
    gone before the next run's pool starts; that run trains normally."""
    s = session({"a-long": _scenario("a-long", LONG), "b-short": _scenario("b-short", SHORT)})
    first = s.training()
    old_ranks = s.ranks()
    (launcher,) = s.launchers()
    launcher.kill()
    # the next run's pool starts (its first job is written) only after the old ranks are gone
    deadline = time.monotonic() + 60.0
    while not any(p.parent != first for p in s.tmp.glob("benchsuite-ranks2-*/job1.json")):
        assert s.process.poll() is None and time.monotonic() < deadline, s.log()
        time.sleep(0.01)
    assert [p for p in old_ranks if _running(p)] == []
    assert s.process.wait(timeout=90) == 1, s.log()  # the crashed run fails its item, the short one passes
    procs, files = s.left_behind()
    log = s.log()
    assert procs == [] and files == [], log
    assert "1 failed, 1 passed" in log and "crashed" in log, log


def test_a_pid_file_names_its_process_only_while_it_is_that_process(tmp_path):
    """The pool kills the ranks that its folder's pid files name, never a process that got a pid of theirs since."""
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        created = psutil.Process(child.pid).create_time()
        (tmp_path / "rank0.pid").write_text(f"{child.pid} {created!r}\n", encoding="utf-8")
        (tmp_path / "rank1.pid").write_text(f"{child.pid} {created - 5.0!r}\n", encoding="utf-8")  # a reused pid
        (tmp_path / "rank2.pid").write_text("half a line", encoding="utf-8")
        assert [p.pid for p in recorded_ranks(tmp_path)] == [child.pid]
        child.stdin.close()
        child.wait()
        assert recorded_ranks(tmp_path) == [] and recorded_ranks(tmp_path / "gone") == []
    finally:
        child.kill()
        child.wait()
