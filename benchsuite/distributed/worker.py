"""One rank of a data-parallel pool, started by PyTorch's elastic launcher (torchrun, ``torch.distributed.run``).

``python -m benchsuite.distributed.launch --folder=FOLDER -- --nproc-per-node N ... -m benchsuite.distributed.worker
--serve FOLDER``, torchrun under its guard (see :class:`benchsuite.distributed.pool.RankPool`). Each rank joins the
process group once (nccl on CUDA with rank r on ``cuda:LOCAL_RANK``, gloo on a CPU with its share of the cores as
torch threads) and then serves the jobs the launching process writes into FOLDER, ``job1.json``, ``job2.json``, …
until a ``stop`` job: it trains each run with its team (:class:`benchsuite.training.ranks.Ranks`); rank 0 writes the
run's result, and local rank 0 of every node marks the job done. A rank whose run fails writes its error beside the
result (``result<N>.json.rank<R>.error``) and exits, which takes the pool down (``--max-restarts 0``); torchrun's
``@record`` keeps its own error file as well (the torch.distributed.elastic documentation, "Error Propagation"). A
rank arms its guard first thing, before importing torch (:func:`benchsuite.distributed.processes.guard_rank`): it
stops within a fraction of a second, whatever it is doing, once torchrun or the session is gone.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchsuite.distributed.processes import guard_rank

if TYPE_CHECKING:
    import torch

#: Fault injection for the tests (``crash:<rank>``, ``hang:<rank>`` or ``linger:<rank>``): a rank that fails its job,
#: never returns from it, or ignores the stop job.
FAULT_ENV = "BENCHSUITE_INJECT_FAULT"
POLL_S = 0.01


def _fault(rank: int) -> str | None:
    """The fault injected into ``rank`` (:data:`FAULT_ENV`), or None."""
    kind, _, target = os.environ.get(FAULT_ENV, "").partition(":")
    return kind if target and int(target) == rank else None


def _inject_fault(rank: int) -> None:
    kind = _fault(rank)
    if kind == "crash":
        raise RuntimeError(f"injected crash on rank {rank}")
    if kind == "hang":
        while True:
            time.sleep(1.0)


def _device() -> torch.device:
    import torch

    if os.environ.get("BENCHSUITE_DEVICE") == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return torch.device("cpu")


def _next_job(folder: Path, n: int) -> dict:
    """Wait for ``job<n>.json`` (the guard ends the rank if the session goes meanwhile)."""
    path = folder / f"job{n}.json"
    while not path.exists():
        time.sleep(POLL_S)
    return json.loads(path.read_text(encoding="utf-8"))


def do_job(job: dict, device: torch.device, team) -> dict | None:
    """Train one job's run, or profile its case, with ``team``; what rank 0 reports, None on the other ranks."""
    from benchsuite.scenario.matrix import Case
    from benchsuite.specs.case import CaseConfig
    from benchsuite.workloads.datasets import adopt

    body = job["profile"] if "profile" in job else job["run"]
    config = CaseConfig.model_validate(body["config"])
    if job.get("dataset_file"):
        adopt(config.workload.dataset, Path(job["dataset_file"]))  # built once by the launching process
    _inject_fault(team.rank)
    case = Case(body["scenario"], tuple(tuple(a) for a in body["axes"]), config, body["is_baseline"])
    result = _profile(case, body, device, team) if "profile" in job else _train(case, body, device, team)
    return result if team.is_leader else None


def _train(case, body: dict, device: torch.device, team) -> dict:
    from benchsuite.scenario.matrix import Run
    from benchsuite.training.run import train_run

    result = train_run(
        Run(case, body["seed"]),
        device,
        max_steps=body["max_steps"],
        warmup_steps=body["warmup_steps"],
        telemetry_interval_s=body["telemetry_interval_s"],
        team=team,
    )
    return result.extra_info()


def _profile(case, body: dict, device: torch.device, team) -> dict:
    from benchsuite.profiling.window import profile_case
    from benchsuite.specs.profile import ProfileSpec

    trace_path = Path(body["trace_path"]) if body.get("trace_path") else None
    return profile_case(case, device, ProfileSpec.model_validate(body["spec"]), trace_path=trace_path, team=team)


def serve(folder: Path) -> None:
    """Join the process group, then train every job written into ``folder`` until a stop job."""
    import torch
    import torch.distributed as dist

    from benchsuite.results.files import atomic_write_json
    from benchsuite.training.ranks import Ranks

    device = _device()
    if device.type == "cpu":
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    team, n = Ranks(), 1
    try:
        while not (job := _next_job(folder, n)).get("stop"):
            try:
                info = do_job(job, device, team)
            except BaseException as exc:
                Path(f"{job['out']}.rank{team.rank}.error").write_text(
                    f"rank {team.rank}: {type(exc).__name__}: {exc}", encoding="utf-8"
                )
                raise
            if info is not None:
                atomic_write_json(Path(job["out"]), info)
            team.barrier()  # the result is on disk before any node says the job is done
            if int(os.environ.get("LOCAL_RANK", "0")) == 0:
                Path(job["done"]).touch()
            n += 1
        if _fault(team.rank) == "linger":
            while True:
                time.sleep(1.0)
    finally:
        dist.destroy_process_group()


def main(argv: list[str] | None = None) -> int:
    """Entry point of one rank: its guard first, then :func:`serve` under torchrun's ``@record`` (its error file)."""
    parser = argparse.ArgumentParser(prog="benchsuite.distributed.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--serve", required=True, help="folder of the jobs (benchsuite.distributed.pool.RankPool)")
    folder = Path(parser.parse_args(argv).serve)
    guard_rank(folder)
    from torch.distributed.elastic.multiprocessing.errors import record

    record(serve)(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
