"""Launch data-parallel runs on N ranks with PyTorch's elastic launcher and bring each result back.

A :class:`RankPool` starts ``python -m torch.distributed.run`` (torchrun) once per world size and session:
``--standalone`` on one node, or ``--nnodes``/``--node-rank`` with a c10d rendezvous endpoint across several
(torch.distributed.run documentation); ``--max-restarts 0``, so a failed rank fails its run. The ranks then serve
the session's runs of that world size one by one (:mod:`benchsuite.distributed.worker`), so the seconds of starting
Python, importing torch and joining the process group are paid once, while the session keeps its run order (runs of
one process interleave with them). Each run has ``timeout_s``; past it, or when a rank fails, the pool is taken
down, every process of its tree is killed (none is left behind), the run comes back with status ``timeout`` or
``crashed`` and the failing rank's error, and the next run starts a new pool. No process of a pool outlives the
session, however it ends: they watch it (:mod:`benchsuite.distributed.processes`), and a pool closed mid-job is
killed at once. torchrun's own log folder is inside the pool's, which goes with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from benchsuite.distributed.hosting import Unhostable, threads_per_rank, world_size_unsupported
from benchsuite.distributed.jobs import case_job, failed_profile, failed_run, job_error
from benchsuite.distributed.processes import SESSION_ENV, guarded_command, kill_tree, remove_folder, signal_tree
from benchsuite.results.files import atomic_write_text
from benchsuite.scenario.matrix import Case, Run
from benchsuite.specs.profile import ProfileSpec
from benchsuite.telemetry.clock import now
from benchsuite.telemetry.hardware import cuda_device_count
from benchsuite.telemetry.sampler import DEFAULT_INTERVAL_S
from benchsuite.workloads.datasets import hand_over

DEFAULT_TIMEOUT_S = 900.0
POLL_S = 0.02
#: Seconds an idle pool's ranks get to stop after the stop job before they are killed.
STOP_WAIT_S = 10.0
#: Seconds of that wait before it is said on stderr.
QUIET_STOP_S = 3.0


@dataclass(frozen=True)
class Launcher:
    """How ranks are started.

    Attributes:
        nnodes: machines the ranks are spread over (each runs the same pytest session with its ``node_rank``).
        node_rank: this machine's place among them.
        rdzv_endpoint: ``host:port`` of the c10d rendezvous (needed with more than one node).
        timeout_s: seconds a run may take before its ranks are killed.
    """

    nnodes: int = 1
    node_rank: int = 0
    rdzv_endpoint: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    def command(self, world_size: int, folder: Path) -> list[str]:
        """The command line of torchrun (under the launcher's guard, :mod:`benchsuite.distributed.launch`) for
        ``world_size`` ranks over :attr:`nnodes` machines, serving ``folder``, with its log folder inside it
        (``--log-dir``; torchrun's default is a ``torchelastic_*`` folder in the temporary folder, never removed).

        Raises:
            ValueError: the world size does not split evenly over the nodes, or several nodes without an endpoint.
        """
        if world_size % self.nnodes:
            raise ValueError(f"world size {world_size} does not split over {self.nnodes} nodes")
        argv = [
            f"--nproc-per-node={world_size // self.nnodes}",
            "--max-restarts=0",
            "--monitor-interval=0.5",
            f"--log-dir={Path(folder) / 'torchelastic'}",
        ]
        if self.nnodes == 1 and self.rdzv_endpoint is None:
            argv.append("--standalone")
        elif self.rdzv_endpoint is None:
            raise ValueError(f"{self.nnodes} nodes need a rendezvous endpoint (host:port)")
        else:
            argv += [
                f"--nnodes={self.nnodes}",
                f"--node-rank={self.node_rank}",
                "--rdzv-backend=c10d",
                f"--rdzv-endpoint={self.rdzv_endpoint}",
                f"--rdzv-id=benchsuite-{world_size}",
            ]
        return guarded_command(Path(folder), [*argv, "-m", "benchsuite.distributed.worker", f"--serve={folder}"])


class RankPools:
    """The rank pools of a session, one per world size, started on first use and closed with the session."""

    def __init__(self, device: torch.device, launcher: Launcher) -> None:
        self.device, self.launcher = torch.device(device), launcher
        self.by_size: dict[int, RankPool] = {}

    def get(self, world_size: int) -> RankPool:
        """The pool of ``world_size``.

        Raises:
            Unhostable: this node has too few GPUs or cores for its ranks (:func:`world_size_unsupported`).
        """
        gpus = cuda_device_count() if self.device.type == "cuda" else 0
        reason = world_size_unsupported(world_size, self.device, gpus, os.cpu_count() or 1, self.launcher.nnodes)
        if reason:
            raise Unhostable(reason)
        if world_size not in self.by_size:
            self.by_size[world_size] = RankPool(world_size, self.device, self.launcher)
        return self.by_size[world_size]

    def close(self) -> None:
        """Stop every pool (no process of theirs is left behind). The session is ending: a Ctrl-C meanwhile kills
        the pool it interrupts at once, and is swallowed (no traceback)."""
        for pool in self.by_size.values():
            graceful = True
            while pool.process is not None or pool.folder is not None:
                try:
                    pool.close(graceful=graceful)
                except KeyboardInterrupt:
                    graceful = False

    def kill_now(self) -> None:
        """SIGKILL to every pool's processes, returning at once (a second Ctrl-C; safe in a signal handler)."""
        for pool in self.by_size.values():
            if pool.process is not None:
                signal_tree(pool.process, pool.folder)


class RankPool:
    """The ranks of one world size on this node, started by torchrun and serving runs until :meth:`close`.

    Args:
        world_size: ranks over all nodes.
        device: ``cpu`` (gloo) or ``cuda`` (nccl, rank r on ``cuda:LOCAL_RANK``).
        launcher: nodes, rendezvous and timeout.
        env: extra environment for the ranks (the tests inject faults through it).
    """

    def __init__(self, world_size: int, device: torch.device, launcher: Launcher, env: dict[str, str] | None = None):
        self.world_size, self.device, self.launcher, self.env = world_size, torch.device(device), launcher, env or {}
        self.process: subprocess.Popen | None = None
        self.folder: Path | None = None
        self.jobs = 0
        self.datasets: dict[Any, str] = {}

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=f"benchsuite-ranks{self.world_size}-"))
        self.jobs, self.datasets = 0, {}
        threads = threads_per_rank(self.world_size, os.cpu_count() or 1, self.launcher.nnodes)
        env = {
            **os.environ,
            "OMP_NUM_THREADS": str(threads),
            SESSION_ENV: str(os.getpid()),
            "BENCHSUITE_DEVICE": self.device.type,
            **self.env,
        }
        log = (self.folder / "torchrun.log").open("w")
        command = self.launcher.command(self.world_size, self.folder)
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()

    def run(
        self,
        run: Run,
        *,
        max_steps: int | None = None,
        warmup_steps: int | None = None,
        telemetry_interval_s: float | None = DEFAULT_INTERVAL_S,
    ) -> dict[str, Any] | None:
        """Train ``run`` on the ranks; its ``extra_info``, or None on a node where rank 0 is not (the node that has
        it records the run). A crashed or hung rank gives a ``crashed``/``timeout`` record, and a new pool for the
        next run."""
        body = {
            "run": {
                **case_job(run.case),
                "seed": run.seed,
                "max_steps": max_steps,
                "warmup_steps": warmup_steps,
                "telemetry_interval_s": telemetry_interval_s,
            }
        }
        status, info, error = self._submit(body, run.case)
        return info if status == "ok" else failed_run(run, self.device, status, error)

    def profile(self, case: Case, spec: ProfileSpec, trace_path: Path | None) -> dict[str, Any] | None:
        """Profile ``case`` on every rank (:func:`benchsuite.profiling.window.profile_case`); rank 0's profile, None
        on a node where rank 0 is not, or a ``crashed``/``timeout`` record as for a run."""
        body = {
            "profile": {
                **case_job(case),
                "spec": spec.model_dump(mode="json"),
                "trace_path": str(trace_path) if trace_path else None,
            }
        }
        status, info, error = self._submit(body, case)
        return info if status == "ok" else failed_profile(case, self.world_size, status, error)

    def _submit(self, body: dict[str, Any], case: Case) -> tuple[str, dict[str, Any] | None, str | None]:
        """Hand one job to the ranks (a new pool when the last one is gone) and wait for it: (status, what rank 0
        wrote, the failing rank's error). A failure takes the pool down."""
        if not self.alive:
            self.close()
            self._start()
        self.jobs += 1
        n, folder = self.jobs, self.folder
        job = {
            **body,
            "device": self.device.type,
            "out": str(folder / f"result{n}.json"),
            "done": str(folder / f"done{n}"),
            "dataset_file": self._dataset(case),
        }
        atomic_write_text(folder / f"job{n}.json", json.dumps(job))
        status = self._wait(n)
        out = folder / f"result{n}.json"
        if status == "ok":
            return status, json.loads(out.read_text(encoding="utf-8")) if out.exists() else None, None
        error = job_error(folder, n, status, self.launcher.timeout_s, self.process.poll())
        self.close()
        return status, None, error

    def _dataset(self, case: Case) -> str:
        """The dataset file of ``case`` (handed over once per pool)."""
        spec = case.config.workload.dataset
        if spec not in self.datasets:
            path = self.folder / f"dataset{len(self.datasets)}.pt"
            self.datasets[spec] = str(hand_over(spec, path))
        return self.datasets[spec]

    def _wait(self, n: int) -> str:
        """``ok`` when job ``n`` is done on this node, ``crashed`` when the ranks exited, ``timeout`` past it."""
        deadline = now() + self.launcher.timeout_s
        done = self.folder / f"done{n}"
        while now() < deadline:
            if done.exists():
                return "ok"
            if self.process.poll() is not None:
                return "ok" if done.exists() else "crashed"
            time.sleep(POLL_S)
        return "timeout"

    def close(self, graceful: bool = True) -> None:
        """Stop the ranks and remove the folder. An idle pool (``graceful``) gets a stop job and up to
        :data:`STOP_WAIT_S` to end, said on stderr; a Ctrl-C during that wait ends it and is swallowed. A pool still
        running a job (the session was interrupted, or the job failed) gets no wait. Then whatever of its processes
        is left is killed at once (:func:`benchsuite.distributed.processes.kill_tree`)."""
        if self.process is not None:
            try:
                if graceful and self.process.poll() is None and self._idle():
                    self._stop()
            finally:
                kill_tree(self.process, self.folder)
            self.process = None
        remove_folder(self.folder)
        self.folder = None

    def _idle(self) -> bool:
        """Whether no job is running: none was given, or the last one is done."""
        return self.jobs == 0 or (self.folder / f"done{self.jobs}").exists()

    def _stop(self) -> None:
        """The stop job, and the wait for torchrun to end (up to :data:`STOP_WAIT_S`, or a Ctrl-C)."""
        atomic_write_text(self.folder / f"job{self.jobs + 1}.json", json.dumps({"stop": True}))
        ranks, more = self.world_size // self.launcher.nnodes, STOP_WAIT_S - QUIET_STOP_S
        for timeout, said in ((QUIET_STOP_S, None), (more, f"waiting up to {more:g} s more for the {ranks} ranks")):
            if said:  # ranks that stop as asked (about 2 s) need no word
                print(
                    f"benchsuite: {said} of world size {self.world_size} to stop; Ctrl-C kills them at once",
                    file=sys.stderr,
                    flush=True,
                )
            try:
                self.process.wait(timeout=timeout)
                return
            except subprocess.TimeoutExpired:
                continue
            except KeyboardInterrupt:
                return  # killed at once by the caller
