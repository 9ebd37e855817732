"""The record of one run, assembled in one place from what the run's steps produced (:mod:`benchsuite.training.run`):
what was prepared before the timed region, what the loop trained, and what was measured around it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from benchsuite.scenario.matrix import Run
from benchsuite.specs.case import CaseConfig
from benchsuite.telemetry import mfu
from benchsuite.telemetry.sampler import Sampler, downsample
from benchsuite.telemetry.step_times import step_times
from benchsuite.telemetry.summary import run_summary
from benchsuite.training import precision
from benchsuite.training.build import Trainer, effective_lr
from benchsuite.training.loop import Budget, TrainingLoop
from benchsuite.training.outcome import RunResult, Status, target_hit
from benchsuite.workloads.datasets import Dataset


@dataclass
class Prepared:
    """Everything before the timed region: the data and budget, the trainer (wrapped for the ranks), and the
    seconds spent apart from the timed region (warm-up, setup, compile, pretraining) with the FLOPs per sample."""

    data: Dataset
    budget: Budget
    trainer: Trainer
    warmup_steps: int
    warmup_s: float
    setup_s: float
    compile_s: float
    flops_per_sample: float
    pretrain_s: float = 0.0
    """Seconds of the pretraining steps (``train.pretrain``; its data load and model build count in ``setup_s``)."""
    pretrain_steps: int = 0
    """Optimizer steps of the pretraining stage (0 without one)."""


@dataclass
class Trained:
    """What the timed loop left: the loop (curve, segments, stopwatches, stall), its status and steps, the sampler
    and the clock intervals of the telemetry extension."""

    loop: TrainingLoop
    status: Status
    steps: int
    sampler: Sampler | None
    extension: list[tuple[float, float]]


@dataclass
class Measured:
    """Figures taken around the loop: the telemetry summary and timeline, every rank's report, the communication
    share of a step (None without data parallel or after a fault)."""

    telemetry: dict[str, Any]
    timeline: list
    ranks: list
    comm_share: float | None


def assemble(
    run: Run, device: torch.device, prepared: Prepared, trained: Trained, measured: Measured, world_size: int
) -> RunResult:
    """The run's :class:`RunResult`: the one place where a finished run's fields are filled in.

    ``loop.samples`` counts the global batches (every rank's samples), so the achieved FLOP/s is the whole job's and
    MFU divides it by ``world_size`` devices' peak (per GPU, as in PaLM: Chowdhery et al. 2022, appendix B;
    :func:`benchsuite.telemetry.mfu.utilisation`)."""
    config, loop, budget = run.case.config, trained.loop, prepared.budget
    timed_s = loop.train_watch.elapsed_s
    peak = mfu.peak_flops(device, config.techniques.precision)
    return RunResult(
        **run_identity(run, device),
        status=trained.status,
        steps=trained.steps,
        budget_steps=budget.total_steps,
        samples=loop.samples,
        steps_per_epoch=budget.steps_per_epoch,
        timed_s=timed_s,
        warmup_steps=prepared.warmup_steps,
        warmup_s=prepared.warmup_s,
        eval_s=loop.eval_watch.elapsed_s,
        setup_s=prepared.setup_s,
        compile_s=prepared.compile_s,
        pretrain_s=prepared.pretrain_s,
        pretrain_steps=prepared.pretrain_steps,
        stop_reason=loop.stop_reason,
        stop_step=loop.stop_step,
        num_params=sum(p.numel() for p in prepared.trainer.optimizer.param_groups[0]["params"]),
        effective_lr=effective_lr(config),
        optimizer_impl=prepared.trainer.optimizer_impl,
        curve=loop.curve,
        segments=loop.segments,
        fault_step=loop.fault_step,
        fault_stage=loop.fault_stage,
        error=loop.fault_error,
        telemetry=measured.telemetry,
        timeline=measured.timeline,
        world_size=world_size,
        ranks=measured.ranks,
        utilisation={
            **mfu.utilisation(prepared.flops_per_sample, loop.samples, timed_s, peak, world_size),
            "comm_share": measured.comm_share,
            **loop.stall.figures(timed_s),
        },
    )


def run_identity(run: Run, device: torch.device) -> dict[str, Any]:
    """The fields every record has, finished or not: which run, where, with what configuration and precision."""
    config = run.case.config
    return {
        "run_id": run.run_id,
        "scenario": run.case.scenario,
        "case_id": run.case.case_id,
        "seed": run.seed,
        "axes": dict(run.case.axes),
        "is_baseline": run.case.is_baseline,
        "device": str(device),
        "batch_size": config.train.global_batch_size,
        "precision": precision.in_effect(config.techniques.precision, device),
        "target_metric": config.target.metric if config.target else None,
        "target_value": config.target.value if config.target else None,
        "config": config.model_dump(mode="json"),
    }


def unfinished(
    run: Run, device: torch.device, status: Status, error: str, *, stage: str | None = None, world_size: int = 1
) -> RunResult:
    """The record of a run that never finished, with no figures: status ``oom`` (out of memory, in ``stage``),
    ``failed`` (another exception, in ``stage``), ``crashed`` or ``timeout`` (its data-parallel ranks failed or hung),
    and the error's first line."""
    return RunResult(
        **run_identity(run, device),
        status=status,
        steps=0,
        budget_steps=0,
        samples=0,
        steps_per_epoch=1,
        timed_s=0.0,
        warmup_steps=run.case.config.train.warmup_steps,
        warmup_s=0.0,
        eval_s=0.0,
        setup_s=0.0,
        num_params=0,
        world_size=world_size,
        fault_stage=stage,
        error=error,
    )


def rank_info(team, device: torch.device, loop: TrainingLoop, telemetry: dict) -> dict:
    """What each rank reports to rank 0: its device, threads, timed seconds, median step time and telemetry."""
    keep = ("kernel_busy_pct_mean", "power_w_mean", "mem_used_mib_peak", "process_cpu_pct_mean")
    return {
        "rank": team.rank,
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "timed_s": loop.train_watch.elapsed_s,
        "step_time_s_median": step_times(loop.segments).median_s,
        **{k: telemetry[k] for k in keep if telemetry.get(k) is not None},
    }


def telemetry_of(
    sampler: Sampler | None,
    loop: TrainingLoop,
    config: CaseConfig,
    device: torch.device,
    extension: list[tuple[float, float]],
) -> tuple[dict, list]:
    """Telemetry summary (with energy-to-target and torch's per-run peak memory) and the bounded timeline."""
    memory = torch_memory(device)
    if sampler is None:
        return memory, []
    target = config.target
    hit = target_hit(loop.curve, target.metric, target.value) if target else None
    summary = run_summary(sampler, loop.train_watch.intervals, hit.time_to_target_s if hit else None, extension)
    start = sampler.samples[0][0] if sampler.samples else 0.0
    return {**summary, **memory}, downsample(sampler.samples, start)


def torch_memory(device: torch.device) -> dict[str, float | None]:
    """This run's peak memory as torch's caching allocator saw it (reset before the loop): allocated by tensors and
    reserved from the driver. NVML's memory in use covers the whole device instead (every process, the CUDA
    context, the cached datasets of earlier runs)."""
    if device.type != "cuda":
        return {"torch_peak_allocated_mib": None, "torch_peak_reserved_mib": None}
    return {
        "torch_peak_allocated_mib": torch.cuda.max_memory_allocated(device) / 2**20,
        "torch_peak_reserved_mib": torch.cuda.max_memory_reserved(device) / 2**20,
    }
