"""Ranks of a data-parallel run agree on whether to lengthen the telemetry window (``train.min_timed_s``): each rank's
clock says something different, and ranks that decide apart enter different collectives and hang."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.multiprocessing as mp
from conftest import tiny_spec

from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.training import run as training_run
from benchsuite.training.faults import Stage
from benchsuite.training.ranks import Solo

CPU = torch.device("cpu")


class ThreadTeam(Solo):
    """Rank ``rank`` of a team of threads: ``gather`` is a real rendezvous (a barrier), as all_gather is."""

    def __init__(self, rank: int, world_size: int, barrier: threading.Barrier, box: list) -> None:
        self.rank, self.world_size, self.is_leader = rank, world_size, rank == 0
        self.barrier_, self.box = barrier, box

    def gather(self, obj):
        self.box[self.rank] = obj
        self.barrier_.wait()
        values = list(self.box)
        self.barrier_.wait()
        return values


class FakeLoop:
    """A training loop whose run took ``elapsed[rank]`` seconds on its rank's clock; records the extension asked."""

    elapsed = {0: 0.2, 1: 0.9}
    extended: dict[int, float | None] = {}

    def __init__(self, config, data, budget, device, team) -> None:
        self.team = team
        self.train_watch = SimpleNamespace(elapsed_s=self.elapsed[team.rank])
        FakeLoop.extended[team.rank] = None

    def run(self, trainer, generator):
        return "ok", 10

    def extend(self, trainer, seconds, generator):
        FakeLoop.extended[self.team.rank] = seconds
        return []


@pytest.mark.parametrize("elapsed", [{0: 0.2, 1: 0.9}, {0: 0.9, 1: 0.2}, {0: 0.5, 1: 1.5}])
def test_ranks_with_different_clocks_take_the_same_extension_decision(monkeypatch, elapsed):
    monkeypatch.setattr(training_run, "TrainingLoop", FakeLoop)
    monkeypatch.setattr(training_run, "Sampler", lambda *args, **kwargs: contextlib.nullcontext())
    monkeypatch.setattr(FakeLoop, "elapsed", elapsed)
    monkeypatch.setattr(FakeLoop, "extended", {})
    spec = ScenarioSpec.model_validate(tiny_spec(train={**tiny_spec()["train"], "min_timed_s": 1.0}))
    run = next(iter(expand_runs(spec)))
    prepared = SimpleNamespace(data=None, budget=None, trainer=None)
    barrier, box, errors = threading.Barrier(2, timeout=10), [None, None], []

    def rank(r: int) -> None:
        try:
            team = ThreadTeam(r, 2, barrier, box)
            training_run._train_and_sample(run, run.case.config, CPU, prepared, 0.01, team, Stage())
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=rank, args=(r,)) for r in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors and not any(thread.is_alive() for thread in threads)
    decisions = FakeLoop.extended
    assert decisions[0] == decisions[1], f"ranks decided apart: {decisions}"
    assert decisions[0] == pytest.approx(1.0 - min(elapsed.values()))  # the rank furthest from the minimum


def test_one_process_decides_alone_as_before():
    config = ScenarioSpec.model_validate(tiny_spec(train={**tiny_spec()["train"], "min_timed_s": 1.0}))
    case_config = next(iter(expand_runs(config))).case.config
    assert training_run.extension_s(case_config, 0.25, True, Solo()) == pytest.approx(0.75)
    assert training_run.extension_s(case_config, 1.5, True, Solo()) == 0.0
    assert training_run.extension_s(case_config, 0.25, False, Solo()) == 0.0


def _rank_maximum(rank: int, world_size: int, init: str, out: str) -> None:
    import torch.distributed as dist

    from benchsuite.training.ranks import Ranks

    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world_size)
    try:
        value = Ranks().maximum([0.3, 0.8][rank])
        Path(f"{out}.{rank}").write_text(repr(value), encoding="utf-8")
    finally:
        dist.destroy_process_group()


def test_a_real_gloo_group_agrees_on_the_maximum(tmp_path):
    init = f"file://{tmp_path / 'rendezvous'}"
    mp.start_processes(_rank_maximum, args=(2, init, str(tmp_path / "max")), nprocs=2, join=True, start_method="spawn")
    assert [float((tmp_path / f"max.{r}").read_text()) for r in (0, 1)] == [0.8, 0.8]
