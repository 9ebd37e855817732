"""The doctor's checks of the step itself: host syncs per source line in a short run of each precision, and
``torch.compile`` with TF32 (pytorch/pytorch#166387: TF32 set through the new ``fp32_precision`` API alone made
TorchInductor fail). Each returns a :class:`benchsuite.telemetry.checks.Check` and never raises.

On CUDA the case's step loop (:class:`benchsuite.training.loop.TrainingLoop`, the loop of every run) trains a short
budget under both witnesses of :mod:`benchsuite.profiling.syncs`. On a CPU nothing can sync, so the case's loop runs
on the ``meta`` device, where the dispatcher still shows each read of a device tensor and each pageable copy to the
device; autocast has no ``meta`` device, so a precision with autocast is checked on CUDA only.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any

import torch
import torch.nn.functional as F

from benchsuite.profiling.syncs import HostSyncWatch, cuda_sync_warnings
from benchsuite.scenario.matrix import Run
from benchsuite.specs.serving import PreloadedLoader
from benchsuite.telemetry.checks import Check
from benchsuite.telemetry.clock import now
from benchsuite.training import precision
from benchsuite.training.build import build_trainer
from benchsuite.training.faults import first_line
from benchsuite.training.loop import Budget, TrainingLoop
from benchsuite.workloads.datasets import Dataset, load_dataset

META = torch.device("meta")

#: Timed steps of a sync check's short run.
SYNC_CHECK_STEPS = 24


def step_sync_check(run: Run, device: torch.device, steps: int = SYNC_CHECK_STEPS) -> Check:
    """Host syncs inside the timed steps of a short run of ``run``'s case on ``device``, per source line.

    A line that synced more often than the epochs the run began is a per-step sync (``warn``): the host then waits for
    the device at every step, and a short step reads slow (DESIGN.md: no per-step host syncs). Syncs once per epoch
    (an epoch's permutation crossing to the device) are listed but pass.

    Returns:
        ``step_syncs[<case id>]``: ``ok``, ``warn`` (per-step syncs, with their lines), ``skipped`` (a CPU and a
        precision with autocast, or a loader other than preloaded), ``fail`` (the run raised).
    """
    name = f"step_syncs[{run.case.case_id}]"
    config = run.case.config
    why = precision.unsupported_reason(config.techniques.precision, device)
    if device.type != "cuda":
        why = why or _meta_unsupported(config)
    if why:
        return Check(name, "skipped", why)
    try:
        found, steps_run, epochs = (_cuda_syncs if device.type == "cuda" else _meta_syncs)(run, device, steps)
    except Exception as exc:  # the check reports what broke; the doctor goes on
        return Check(name, "fail", f"the short run raised {first_line(exc)}")
    return _judged(name, found, steps_run, epochs, device)


def _meta_unsupported(config) -> str | None:
    if precision.uses_autocast(config.techniques.precision):
        return f"precision {config.techniques.precision}: autocast has no meta device, so it is checked on CUDA only"
    if not isinstance(config.train.loader, PreloadedLoader):
        return f"loader {config.train.loader.name}: checked on CUDA only (a CPU run has no device to copy to)"
    return None


def _cuda_syncs(run: Run, device: torch.device, steps: int) -> tuple[Counter, int, int]:
    """The case's loop on CUDA (data, model and optimizer as its runs build them, after one untimed warm-up step),
    watched by the dispatcher and by CUDA's sync warnings."""
    from benchsuite.training.run import warm_up

    config = run.case.config
    data = load_dataset(config.workload.dataset, device)
    with precision.matmul_mode(config.techniques.precision, device):
        warm_up(config, data, device, 1)
        return _watched_loop(run, data, device, steps, cuda=torch.cuda)


def _meta_syncs(run: Run, device: torch.device, steps: int) -> tuple[Counter, int, int]:
    """The case's loop on the ``meta`` device: every op dispatched as on an accelerator, nothing computed."""
    cpu = load_dataset(run.case.config.workload.dataset, torch.device("cpu"))
    return _watched_loop(run, cpu.to(META), META, steps, cuda=None)


def _watched_loop(run: Run, data: Dataset, device: torch.device, steps: int, cuda: Any) -> tuple[Counter, int, int]:
    """Syncs per ``file:line (op)`` while the loop's training stopwatch runs, the steps trained and epochs begun;
    ``cuda``: the ``torch.cuda`` module whose sync warnings are the second witness (None: the dispatcher alone)."""
    config = run.case.config
    budget = Budget.of(config.train, len(data.train_y), steps)
    torch.manual_seed(run.seed)
    trainer = build_trainer(config, data, device, budget.total_steps, budget.steps_per_epoch)
    training = TrainingLoop(config, data, budget, device)
    active = lambda: training.train_watch.running  # noqa: E731
    warned = cuda_sync_warnings(active, cuda) if cuda is not None else contextlib.nullcontext(Counter())
    with HostSyncWatch(active) as watch, warned as cuda_found:
        status, steps_run = training.run(trainer, torch.Generator().manual_seed(run.seed))
    if status != "ok":
        raise RuntimeError(f"status {status}: {training.fault_error or 'no error recorded'}")
    found = Counter({f"{where} ({op})": n for (where, op), n in watch.found.items()})
    found.update({f"{where} (CUDA sync warning)": n for where, n in cuda_found.items()})
    return found, steps_run, _epochs(steps_run, budget.steps_per_epoch)


def _epochs(steps: int, per_epoch: int) -> int:
    """Epochs begun in ``steps`` steps."""
    return -(-steps // max(per_epoch, 1))


def _judged(name: str, found: Counter, steps: int, epochs: int, device: torch.device) -> Check:
    per_step = {where: n for where, n in found.items() if n > epochs}
    per_epoch = {where: n for where, n in found.items() if n <= epochs}
    how = "dispatcher and CUDA sync warnings" if device.type == "cuda" else "dispatcher, on the meta device"
    details: dict[str, Any] = {
        "steps": steps,
        "epochs": epochs,
        "per_step": [{"where": w, "syncs": n, "per_step": round(n / max(steps, 1), 3)} for w, n in per_step.items()],
        "per_epoch": [{"where": w, "syncs": n} for w, n in per_epoch.items()],
        "witness": how,
    }
    if per_step:
        lines = "; ".join(f"{w} {n / max(steps, 1):.2g}/step" for w, n in sorted(per_step.items(), key=lambda x: -x[1]))
        return Check(name, "warn", f"host syncs in the timed steps ({steps} steps, {how}): {lines}", details)
    extra = f"; {sum(per_epoch.values())} once per epoch" if per_epoch else ""
    return Check(name, "ok", f"no per-step host sync in {steps} timed steps ({how}){extra}", details)


def compile_check(device: torch.device, precision_name: str | None = None, backend: str = "inductor") -> Check:
    """``torch.compile`` (``backend``: TorchInductor by default) of a small MLP, trained 3 steps inside
    ``precision_name``'s matmul mode (TF32 on CUDA, fp32 on a CPU), against the same steps in eager mode: ``ok``
    when it compiles, its losses match eager (relative 1e-2: TF32 rounds its matmuls) and TF32's legacy getters still
    read (pytorch/pytorch#166387); ``fail`` with the error's first line otherwise. Details: compile seconds (the
    first compiled step) and losses."""
    name_ = precision_name or ("tf32" if device.type == "cuda" else "fp32")
    name = f"compile[{name_}]"
    if precision.unsupported_reason(name_, device):
        return Check(name, "skipped", precision.unsupported_reason(name_, device))
    try:
        with precision.matmul_mode(name_, device):
            eager, _ = _three_steps(device, None)
            losses, compile_s = _three_steps(device, backend)
            readable = precision.legacy_readable()
    except Exception as exc:
        return Check(name, "fail", f"torch.compile raised {first_line(exc)}"[:300])
    details = {"backend": backend, "compile_s": round(compile_s, 3), "eager_losses": eager, "compiled_losses": losses}
    close = all(abs(a - b) <= 1e-2 * max(abs(a), 1e-6) for a, b in zip(eager, losses, strict=True))
    if not readable:
        return Check(name, "fail", "TF32's legacy getters raise after the switch (pytorch/pytorch#166387)", details)
    if not close:
        return Check(name, "fail", f"compiled losses {losses} differ from eager {eager} (relative 1e-2)", details)
    text = f"compiled ({backend}) in {compile_s:.1f} s ({precision.in_effect(name_, device)}); 3 steps match eager"
    return Check(name, "ok", text, details)


def _three_steps(device: torch.device, backend: str | None) -> tuple[list[float], float]:
    """Losses of 3 SGD steps of a fixed MLP on fixed data (compiled with ``backend``; None: eager), and the seconds
    of the first step (the compile)."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(40, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)).to(device)
    step_model = torch.compile(model, backend=backend) if backend else model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(512, 40, generator=torch.Generator().manual_seed(1)).to(device)
    y = torch.randint(0, 10, (512,), generator=torch.Generator().manual_seed(2)).to(device)
    losses, first_s = [], 0.0
    for step in range(3):
        start = now()
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(step_model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))  # a sync, outside any timed region: this is a check, not a benchmark
        if step == 0:
            first_s = now() - start
    return losses, first_s
