"""The processes of a rank pool, and the guards that keep any of them from outliving the session that started it.

A pool is three generations of processes: the session (pytest), which starts the launcher (torchrun, run through
:mod:`benchsuite.distributed.launch`) in a session of its own, which starts the ranks
(:mod:`benchsuite.distributed.worker`), each in a session of its own as well (torch.distributed.elastic's
``SubprocessHandler`` passes ``start_new_session``). So neither a signal to the session's process group (Ctrl-C)
nor the death of a parent reaches them: a child whose parent dies is re-parented to init and goes on (the Linux
``_exit(2)`` man page). Each one therefore watches the one above it, every :data:`WATCH_S`:

- the launcher, that its parent is still the session that started it; when not, it kills its ranks, removes the
  pool's folder and exits (:func:`guard_launcher`);
- each rank, that its parent is still the launcher (and the kernel kills it when the launcher's thread that started
  it ends: ``PR_SET_PDEATHSIG``, the Linux ``prctl(2)`` man page) and that the session lives; when either is gone it
  exits at once, local rank 0 removing the pool's folder first when the session is gone (:func:`guard_rank`);
- the session, when a pool closes, kills the launcher, its descendants and every rank that wrote its pid file into
  the pool's folder, which reaches the ranks of a launcher that was killed (:func:`kill_tree`). A pid file holds the
  process's start time, so a pid the kernel gave to another process since is never killed.

This module imports no torch, so a rank arms its guard before the seconds of importing it.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

#: The session's pid, set by the pool for its launcher and ranks.
SESSION_ENV = "BENCHSUITE_PARENT_PID"
#: The launcher's pid, set by the launcher for its ranks (so a rank knows its parent even if it started orphaned).
LAUNCHER_ENV = "BENCHSUITE_LAUNCHER_PID"
#: Seconds between two looks of a guard at the process it watches.
WATCH_S = 0.2
#: ``PR_SET_PDEATHSIG`` of ``<linux/prctl.h>``.
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ProcessId:
    """One process, told apart from any later one that the kernel gives the same pid.

    Attributes:
        pid: its process id.
        created: its start time, seconds since the epoch (``psutil.Process.create_time``).
    """

    pid: int
    created: float

    @classmethod
    def of(cls, pid: int) -> ProcessId | None:
        """The process ``pid`` now, or None when there is none (or it is a zombie: dead, not yet reaped)."""
        try:
            proc = psutil.Process(pid)
            return None if proc.status() == psutil.STATUS_ZOMBIE else cls(pid, proc.create_time())
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return None

    def process(self) -> psutil.Process | None:
        """The process, while it runs; None once it has exited (a zombie has), or the pid names another one."""
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.created) < 0.01 and proc.status() != psutil.STATUS_ZOMBIE:
                return proc
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            pass
        return None

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process() is not None


def guarded_command(folder: Path, torchrun_args: list[str]) -> list[str]:
    """The command line that runs torchrun with ``torchrun_args`` under the launcher's guard, for the pool of
    ``folder`` (:mod:`benchsuite.distributed.launch`)."""
    return [sys.executable, "-m", "benchsuite.distributed.launch", f"--folder={folder}", "--", *torchrun_args]


def set_parent_death_signal(signum: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``signum`` to this process when the thread that started it ends, with
    ``prctl(PR_SET_PDEATHSIG)`` (the Linux ``prctl(2)`` man page; kept across ``execve``). A parent that had already
    died before the call goes unnoticed: check ``os.getppid()`` after it. True where it was set, False on other
    systems (or where libc refuses)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def watch(gone: Callable[[], str | None], before_exit: Callable[[str], None], name: str) -> threading.Thread:
    """Start a daemon thread that calls ``gone`` every :data:`WATCH_S`; once it returns a reason, the thread says
    so on stderr, calls ``before_exit`` with it and ends the whole process with ``os._exit(1)`` (no cleanup: the
    process may be in the middle of anything, a collective included)."""

    def look() -> str | None:
        try:
            return gone()
        except Exception:  # a look that fails (psutil refused it) sees nothing gone: the next one tries again
            return None

    def loop() -> None:
        while (reason := look()) is None:
            time.sleep(WATCH_S)
        sys.stderr.write(f"benchsuite {name}: {reason}; exiting\n")
        sys.stderr.flush()
        try:
            before_exit(reason)
        finally:
            os._exit(1)

    thread = threading.Thread(target=loop, name=f"benchsuite-{name}-guard", daemon=True)
    thread.start()
    return thread


def guard_launcher(folder: Path) -> None:
    """Arm the launcher's guard: when its parent is no longer the session that started it, kill its ranks (its
    descendants), remove ``folder`` and exit. Sets :data:`LAUNCHER_ENV` for the ranks. A launcher whose session
    had already died exits at once."""
    session = int(os.environ.get(SESSION_ENV) or 0)
    parent = os.getppid()
    os.environ[LAUNCHER_ENV] = str(os.getpid())

    def gone() -> str | None:
        if session and os.getppid() != session:
            return f"the session (pid {session}) is gone"
        if os.getppid() != parent:
            return f"the process that started it (pid {parent}) is gone"
        return None

    def before_exit(reason: str) -> None:
        kill_processes(psutil.Process().children(recursive=True))
        remove_folder(folder)

    watch(gone, before_exit, "launcher")


def guard_rank(folder: Path) -> None:
    """Arm a rank's guard: record its pid file in ``folder``, ask the kernel for SIGKILL when the launcher goes
    (:func:`set_parent_death_signal`), and exit within :data:`WATCH_S` once the launcher (``os.getppid()`` is no
    longer :data:`LAUNCHER_ENV`) or the session (:data:`SESSION_ENV`) is gone; local rank 0 removes ``folder``
    first when the session is gone (the launcher, if it lives, does too: whoever is last cleans up)."""
    launcher = int(os.environ.get(LAUNCHER_ENV) or 0) or os.getppid()
    set_parent_death_signal(signal.SIGKILL)
    session_pid = int(os.environ.get(SESSION_ENV) or 0)
    session = ProcessId.of(session_pid) if session_pid else None
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))

    def session_gone() -> bool:
        return bool(session_pid) and (session is None or not session.alive())

    def gone() -> str | None:
        if os.getppid() != launcher:
            return f"its launcher (pid {launcher}) is gone"
        return f"the session (pid {session_pid}) is gone" if session_gone() else None

    def before_exit(reason: str) -> None:
        if local_rank == 0 and session_gone():
            remove_folder(folder)

    try:
        write_pid_file(folder, int(os.environ.get("RANK", "0")))
    except OSError:  # the folder is gone: so is the pool
        os._exit(1)
    watch(gone, before_exit, f"rank {os.environ.get('RANK', '0')}")


def write_pid_file(folder: Path, rank: int) -> Path:
    """``folder/rank<rank>.pid``: this process's pid and start time, written whole (temporary file, then rename)."""
    me = ProcessId.of(os.getpid())
    path = folder / f"rank{rank}.pid"
    tmp = folder / f".rank{rank}.pid.tmp"
    tmp.write_text(f"{me.pid} {me.created!r}\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def recorded_ranks(folder: Path | None) -> list[psutil.Process]:
    """The ranks that wrote a pid file into ``folder`` and still run (the same processes: start times match)."""
    found = []
    for path in sorted(folder.glob("rank*.pid")) if folder is not None and folder.is_dir() else []:
        try:
            pid, created = path.read_text(encoding="utf-8").split()
            proc = ProcessId(int(pid), float(created)).process()
        except (OSError, ValueError):
            continue
        if proc is not None:
            found.append(proc)
    return found


def kill_processes(procs: list[psutil.Process], timeout_s: float = 5.0) -> list[psutil.Process]:
    """SIGKILL to every process of ``procs``, then wait up to ``timeout_s`` for them to end; those still running.

    A killed process that is a zombie counts as ended: it runs no more, and its parent or init reaps it when it will
    (init may take a second or more; waiting for the reaping, as ``psutil.wait_procs`` does, would hold up the
    session for nothing)."""
    for proc in procs:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    deadline = time.monotonic() + timeout_s
    alive = list(procs)
    while alive := [p for p in alive if _running(p)]:
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    return alive


def _running(proc: psutil.Process) -> bool:
    """Whether ``proc`` (the same process: psutil checks its start time) still runs, a zombie not."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False


def kill_tree(process: subprocess.Popen, folder: Path | None) -> None:
    """Kill at once (SIGKILL) the launcher ``process``, every descendant of it, and every rank recorded in
    ``folder`` with its descendants: the ranks of a launcher that died are no longer its children (re-parented to
    init), and torchrun starts each rank in a session of its own, so neither a process-group kill nor the launcher's
    children alone would reach them. Returns when they have ended (:func:`kill_processes`) and the launcher is
    reaped."""
    kill_processes(_tree(process, folder, reaped=process.poll() is not None))
    process.wait()


def signal_tree(process: subprocess.Popen, folder: Path | None) -> None:
    """SIGKILL to the same processes as :func:`kill_tree`, returning at once: no wait and no reaping, so it is safe
    inside a signal handler that may interrupt the session's own ``Popen.wait`` (which holds the lock a second
    wait would need)."""
    for proc in _tree(process, folder, reaped=process.returncode is not None):
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


def _tree(process: subprocess.Popen, folder: Path | None, *, reaped: bool) -> list[psutil.Process]:
    """The launcher (unless ``reaped``: its pid may be another process's by now), its descendants, and the recorded
    ranks of ``folder`` with theirs."""
    tree: dict[int, psutil.Process] = {}
    roots = recorded_ranks(folder)
    if not reaped:
        try:
            roots.insert(0, psutil.Process(process.pid))
        except psutil.NoSuchProcess:
            pass
    for root in roots:
        try:
            for proc in [root, *root.children(recursive=True)]:
                tree.setdefault(proc.pid, proc)
        except psutil.NoSuchProcess:
            pass
    return list(tree.values())


def remove_folder(folder: Path | None) -> None:
    """Remove ``folder`` and everything in it, trying again while a process still writes into it."""
    if folder is None:
        return
    for _ in range(5):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.05)
