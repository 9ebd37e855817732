"""One run, one plain function: :func:`train_run`.

Timing rules (DESIGN.md, airbench/nanoGPT style): data preload, model build, FLOP counting, compile and warm-up
happen before the timed region and are reported apart; the loop (:mod:`benchsuite.loop`) times segments of training
steps between untimed evaluations. A data-parallel run calls this on every rank with its team
(:mod:`benchsuite.team`); rank 0's result is the run's.
"""

from __future__ import annotations

import contextlib

import torch

from benchsuite import mfu, precision
from benchsuite.clock import Stopwatch
from benchsuite.loop import Budget, TrainingLoop, evaluate
from benchsuite.matrix import Run
from benchsuite.outcome import RunResult, step_times, time_to_target
from benchsuite.runtime import build_trainer, compile_model, effective_lr, train_step
from benchsuite.serving import batches
from benchsuite.specs import CaseConfig, DataLoaderSpec
from benchsuite.team import Solo, communication_share
from benchsuite.telemetry import DEFAULT_INTERVAL_S, Sampler, downsample
from benchsuite.telemetry_summary import run_summary
from benchsuite.workloads import Dataset, load_dataset


class UnsupportedCase(ValueError):
    """The case cannot run on this device (e.g. fp16 autocast on a CPU); the message says why."""


def warm_up(config: CaseConfig, data: Dataset, device: torch.device, steps: int, team=None) -> float:
    """Run ``steps`` steps on a throwaway model, optimizer and precision setup (wrapped for the team's ranks, so
    their collectives warm up too); return their seconds (untimed)."""
    if steps == 0:
        return 0.0
    team = team or Solo()
    trainer = build_trainer(config, data, device, total_steps=steps, steps_per_epoch=steps)
    trainer.model = team.wrap(trainer.model, device)
    watch = Stopwatch(device)
    with watch:
        for idx in batches(len(data.train_y), config.train.global_batch_size, steps, torch.Generator(), device):
            train_step(trainer, *team.shard(data.train_x[idx], data.train_y[idx]))
    return watch.elapsed_s


def train_run(
    run: Run,
    device: torch.device,
    *,
    max_steps: int | None = None,
    warmup_steps: int | None = None,
    telemetry_interval_s: float | None = DEFAULT_INTERVAL_S,
    team=None,
) -> RunResult:
    """Train one run until its target is reached (if ``stop_at_target``) or its budget ends.

    Args:
        run: the case and seed; the seed makes the run reproducible (same seed, same curve on CPU).
        device: where data, model and optimizer live.
        max_steps: further cap on the budget (smoke checks).
        warmup_steps: overrides ``train.warmup_steps``.
        telemetry_interval_s: seconds between telemetry samples (NVML + psutil) around the loop; None: off.
        team: the ranks of a data-parallel run (:class:`benchsuite.team.Ranks`); None: this process alone.

    Returns:
        The run's result with status ``ok``, ``diverged`` (non-finite loss) or ``oom`` (CUDA out of memory).

    Raises:
        UnsupportedCase: the case's precision cannot run on ``device``.
    """
    config, device = run.case.config, torch.device(device)
    reason = precision.unsupported_reason(config.techniques.precision, device)
    if reason:
        raise UnsupportedCase(reason)
    stage = Stage()
    with precision.matmul_mode(config.techniques.precision, device):
        try:
            return _train(run, config, device, max_steps, warmup_steps, telemetry_interval_s, team or Solo(), stage)
        except torch.cuda.OutOfMemoryError as error:
            message = f"CUDA out of memory in {stage.name}: " + (str(error).strip().splitlines() or [""])[0]
    release_cached_memory(device)  # outside the except block: the traceback's tensors are gone by now
    return out_of_memory(run, device, stage.name, message, (team or Solo()).world_size)


class Stage:
    """The stage a run is in (``data load``, ``warm-up``, ...), so a fault outside the loop says where it happened."""

    name = "data load"


def out_of_memory(run: Run, device: torch.device, stage: str, error: str, world_size: int = 1) -> RunResult:
    """The record of a run that ran out of device memory before its training loop (status ``oom``, no figures)."""
    config = run.case.config
    return RunResult(
        run_id=run.run_id, scenario=run.case.scenario, case_id=run.case.case_id, seed=run.seed,
        axes=dict(run.case.axes), is_baseline=run.case.is_baseline, device=str(device), status="oom", steps=0,
        budget_steps=0, samples=0, batch_size=config.train.global_batch_size, steps_per_epoch=1, timed_s=0.0,
        warmup_steps=config.train.warmup_steps, warmup_s=0.0, eval_s=0.0, setup_s=0.0, num_params=0,
        precision=precision.in_effect(config.techniques.precision, device),
        target_metric=config.target.metric if config.target else None,
        target_value=config.target.value if config.target else None, config=config.model_dump(mode="json"),
        world_size=world_size, fault_stage=stage, error=error,
    )  # fmt: skip


def release_cached_memory(device: torch.device) -> None:
    """Hand the failed run's cached blocks back to the driver, so the session's next runs start clean."""
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _train(run: Run, config: CaseConfig, device: torch.device, max_steps: int | None, warmup: int | None,
           interval_s: float | None, team, stage: Stage) -> RunResult:  # fmt: skip
    setup = Stopwatch(device)
    with setup:
        data = load_dataset(config.workload.dataset, device)
    budget = Budget.of(config.train, len(data.train_y), max_steps)
    warmup_n = config.train.warmup_steps if warmup is None else warmup
    stage.name = "warm-up"
    warmup_s = warm_up(config, data, device, warmup_n, team)
    stage.name = "model build"
    with setup:
        torch.manual_seed(run.seed)
        trainer = build_trainer(config, data, device, budget.total_steps, budget.steps_per_epoch)
    stage.name = "FLOP count"
    first = slice(0, min(config.train.global_batch_size, len(data.train_y)))
    flops_sample = mfu.flops_per_sample(trainer.model, data.train_x[first], data.train_y[first], config.model_dump_json())
    stage.name = "compile"
    compile_s = compile_model(trainer, config, data) if config.techniques.compile else 0.0
    trainer.model = team.wrap(trainer.model, device)
    stage.name = "training"  # the loop records its own faults (first evaluation included)
    loop = TrainingLoop(config, data, budget, device, team)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    loader = config.train.loader
    workers = isinstance(loader, DataLoaderSpec) and loader.num_workers > 0
    sampler = Sampler(device, interval_s, children=workers) if interval_s else None
    with sampler or contextlib.nullcontext():
        status, steps = loop.run(trainer, torch.Generator().manual_seed(run.seed))
        missing = config.train.min_timed_s - loop.train_watch.elapsed_s
        lengthen = sampler is not None and status == "ok" and missing > 0
        stage.name = "telemetry extension"
        extension = loop.extend(trainer, missing, torch.Generator().manual_seed(run.seed + 1)) if lengthen else []
    telemetry, timeline = _telemetry(sampler, loop, config, device, extension)
    ranks = team.gather(_rank_info(team, device, loop, telemetry))
    stage.name = "communication probe"
    comm = communication_share(trainer, data, config, device, team) if status == "ok" else None
    return RunResult(
        run_id=run.run_id, scenario=run.case.scenario, case_id=run.case.case_id, seed=run.seed,
        axes=dict(run.case.axes), is_baseline=run.case.is_baseline, device=str(device), status=status,
        steps=steps, budget_steps=budget.total_steps, samples=loop.samples, batch_size=config.train.global_batch_size,
        steps_per_epoch=budget.steps_per_epoch, timed_s=loop.train_watch.elapsed_s, warmup_steps=warmup_n,
        warmup_s=warmup_s, eval_s=loop.eval_watch.elapsed_s, setup_s=setup.elapsed_s, compile_s=compile_s,
        num_params=sum(p.numel() for p in trainer.optimizer.param_groups[0]["params"]),
        effective_lr=effective_lr(config), precision=precision.in_effect(config.techniques.precision, device),
        target_metric=config.target.metric if config.target else None,
        target_value=config.target.value if config.target else None,
        curve=loop.curve, segments=loop.segments, fault_step=loop.fault_step, config=config.model_dump(mode="json"),
        fault_stage=loop.fault_stage,
        telemetry=telemetry, timeline=timeline, world_size=team.world_size, ranks=ranks,
        utilisation={**mfu.utilisation(flops_sample, loop.samples, loop.train_watch.elapsed_s,
                                       mfu.peak_flops(device, config.techniques.precision)),
                     "comm_share": comm, **loop.stall.figures(loop.train_watch.elapsed_s)},
    )  # fmt: skip


def _rank_info(team, device: torch.device, loop: TrainingLoop, telemetry: dict) -> dict:
    """What each rank reports to rank 0: its device, threads, timed seconds, median step time and telemetry."""
    keep = ("kernel_busy_pct_mean", "power_w_mean", "mem_used_mib_peak", "process_cpu_pct_mean")
    return {"rank": team.rank, "device": str(device), "torch_threads": torch.get_num_threads(),
            "timed_s": loop.train_watch.elapsed_s, "step_time_s_median": step_times(loop.segments).median_s,
            **{k: telemetry[k] for k in keep if telemetry.get(k) is not None}}  # fmt: skip


def _telemetry(sampler: Sampler | None, loop: TrainingLoop, config: CaseConfig, device: torch.device,
               extension: list[tuple[float, float]]) -> tuple[dict, list]:  # fmt: skip
    """Telemetry summary (with energy-to-target and torch's per-run peak memory) and the bounded timeline."""
    memory = _torch_memory(device)
    if sampler is None:
        return memory, []
    target = config.target
    hit = time_to_target(loop.curve, target.metric, target.value, target.higher_is_better) if target else None
    summary = run_summary(sampler, loop.train_watch.intervals, hit.time_to_target_s if hit else None, extension)
    start = sampler.samples[0][0] if sampler.samples else 0.0
    return {**summary, **memory}, downsample(sampler.samples, start)


def _torch_memory(device: torch.device) -> dict[str, float | None]:
    """This run's peak memory as torch's caching allocator saw it (reset before the loop): allocated by tensors and
    reserved from the driver. NVML's memory in use covers the whole device instead (every process, the CUDA
    context, the cached datasets of earlier runs)."""
    if device.type != "cuda":
        return {"torch_peak_allocated_mib": None, "torch_peak_reserved_mib": None}
    return {"torch_peak_allocated_mib": torch.cuda.max_memory_allocated(device) / 2**20,
            "torch_peak_reserved_mib": torch.cuda.max_memory_reserved(device) / 2**20}  # fmt: skip


__all__ = ["Budget", "Stage", "UnsupportedCase", "out_of_memory", "release_cached_memory", "batches", "evaluate", "train_run", "warm_up"]
