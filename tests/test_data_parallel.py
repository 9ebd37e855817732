"""Data-parallel runs through torchrun and DDP (gloo on this CPU): equivalence with one process, faults, two nodes on
loopback, skips."""

from __future__ import annotations

import socket
import sys
import threading

import psutil
import pytest
import torch
from conftest import tiny_spec

from benchsuite.distributed.hosting import threads_per_rank, world_size_unsupported
from benchsuite.distributed.pool import Launcher, RankPool
from benchsuite.scenario.matrix import expand_runs
from benchsuite.specs.scenario import ScenarioSpec
from benchsuite.training.ranks import Ranks, Solo
from benchsuite.training.run import train_run

CPU = torch.device("cpu")
TRAIN = {"optimizer": "sgd", "lr": 0.05, "batch_size": 16, "max_epochs": 2, "warmup_steps": 1, "eval_every_steps": 2}


def _runs(world_sizes=(1, 2), **train):
    spec = ScenarioSpec.model_validate(
        tiny_spec(seeds=[0], matrix={"world_size": list(world_sizes)}, train={**TRAIN, **train})
    )
    return expand_runs(spec)


def _workers(folder) -> list[psutil.Process]:
    """Processes still alive that belong to a pool (torchrun or its ranks serving ``folder``)."""
    alive = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(str(folder) in part for part in proc.info["cmdline"] or []):
            alive.append(proc)
    return alive


def _one_process_and_two_ranks(one_run, two_run) -> tuple[dict, dict]:
    """The extra_info of ``one_run`` trained in this process and of ``two_run`` trained on two ranks."""
    one = train_run(one_run, CPU, telemetry_interval_s=None).extra_info()
    pool = RankPool(2, CPU, Launcher(timeout_s=120))
    try:
        return one, pool.run(two_run, telemetry_interval_s=None)
    finally:
        pool.close()


def test_two_ranks_train_exactly_what_one_process_trains():
    one, two = _one_process_and_two_ranks(*_runs())
    assert two["status"] == "ok" and two["world_size"] == 2 and two["steps"] == one["steps"] == 8
    # rank 0 evaluates the averaged model on the whole validation split: the same parameters give the same curve
    assert [p["val_loss"] for p in two["curve"]] == pytest.approx([p["val_loss"] for p in one["curve"]], rel=1e-5)
    assert [r["rank"] for r in two["ranks"]] == [0, 1] and two["ranks"][1]["torch_threads"] == threads_per_rank(
        2, psutil.cpu_count()
    )
    assert 0.0 <= two["comm_share"] <= 1.0 and one["comm_share"] is None


def test_two_compiled_ranks_train_what_one_process_trains():
    """Compiled after the DDP wrap (TorchDynamo's DDPOptimizer splits the graph at DDP's buckets), each rank still
    averages the gradient over the ranks: the curve is one process's."""
    spec = ScenarioSpec.model_validate(
        tiny_spec(
            seeds=[0],
            matrix={"world_size": [1, 2]},
            train=TRAIN,
            techniques={"compile": True, "compile_backend": "eager"},
        )
    )
    one, two = _one_process_and_two_ranks(*expand_runs(spec))
    assert two["status"] == "ok", two.get("error")
    assert two["compile_s"] > 0 and two["steps"] == one["steps"] == 8
    assert [p["val_loss"] for p in two["curve"]] == pytest.approx([p["val_loss"] for p in one["curve"]], rel=1e-5)


def test_uneven_shards_still_average_to_the_global_gradient():
    # a global batch of 15 over 2 ranks: shards of 8 and 7; each rank's mean loss is scaled by shard · N / B
    one, two = _one_process_and_two_ranks(*_runs(batch_size=15, max_steps=4, max_epochs=None))
    assert [p["val_loss"] for p in two["curve"]] == pytest.approx([p["val_loss"] for p in one["curve"]], rel=1e-5)


@pytest.mark.parametrize(
    ("fault", "status", "message"),
    [
        ("crash:1", "crashed", "rank 1: RuntimeError: injected crash on rank 1"),
        ("hang:1", "timeout", "no result within 8 s (a rank hung); its processes were killed"),
    ],
)
def test_a_failing_rank_fails_its_run_only_and_leaves_no_process(fault, status, message):
    (two_run,) = _runs(world_sizes=(2,))
    pool = RankPool(2, CPU, Launcher(timeout_s=8), env={"BENCHSUITE_INJECT_FAULT": fault})
    try:
        pool._start()
        folder = pool.folder
        info = pool.run(two_run, telemetry_interval_s=None)
        assert info["status"] == status and message in info["error"] and info["curve"] == []
        assert info["precision"] == "fp32" and info["case_id"] == two_run.case.case_id  # the run's identity, whole
        assert _workers(folder) == []  # torchrun and both ranks are gone
        pool.env = {}  # the session goes on: the next run gets a new pool
        assert pool.run(two_run, telemetry_interval_s=None)["status"] == "ok"
    finally:
        pool.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_nodes_on_loopback_train_one_run():
    (two_run,) = _runs(world_sizes=(2,))
    endpoint = f"127.0.0.1:{_free_port()}"
    pools = [RankPool(2, CPU, Launcher(nnodes=2, node_rank=r, rdzv_endpoint=endpoint, timeout_s=120)) for r in (0, 1)]
    results: dict[int, dict | None] = {}

    def node(rank: int) -> None:
        results[rank] = pools[rank].run(two_run, telemetry_interval_s=None)

    threads = [threading.Thread(target=node, args=(r,)) for r in (0, 1)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
    finally:
        for pool in pools:
            pool.close()
    recorded = [info for info in results.values() if info is not None]
    assert len(results) == 2 and len(recorded) == 1  # the node that hosts rank 0 records the run
    assert recorded[0]["status"] == "ok" and recorded[0]["world_size"] == 2 and len(recorded[0]["ranks"]) == 2


def test_launcher_command_lines():
    one_node = Launcher().command(2, "/tmp/f")
    assert "--standalone" in one_node and "--nproc-per-node=2" in one_node and "--max-restarts=0" in one_node
    # torchrun under the launcher's guard, its log folder inside the pool's (removed with it)
    assert one_node[:5] == [sys.executable, "-m", "benchsuite.distributed.launch", "--folder=/tmp/f", "--"]
    assert "--log-dir=/tmp/f/torchelastic" in one_node
    two_nodes = Launcher(nnodes=2, node_rank=1, rdzv_endpoint="10.0.0.1:29500").command(4, "/tmp/f")
    assert {
        "--nnodes=2",
        "--node-rank=1",
        "--rdzv-backend=c10d",
        "--rdzv-endpoint=10.0.0.1:29500",
        "--nproc-per-node=2",
    } <= set(two_nodes)
    assert two_nodes[-3:] == ["-m", "benchsuite.distributed.worker", "--serve=/tmp/f"]
    with pytest.raises(ValueError, match="world size 3 does not split over 2 nodes"):
        Launcher(nnodes=2, rdzv_endpoint="h:1").command(3, "/tmp/f")
    with pytest.raises(ValueError, match="need a rendezvous endpoint"):
        Launcher(nnodes=2).command(2, "/tmp/f")


def test_more_ranks_than_gpus_or_cores_is_a_skip_reason():
    cuda = torch.device("cuda")
    assert world_size_unsupported(2, cuda, gpus=1, cores=64) == (
        "world size 2 needs 2 GPUs on this node, it has 1 (NCCL refuses two ranks on one GPU)"
    )
    assert world_size_unsupported(8, cuda, gpus=8, cores=2) is None
    assert world_size_unsupported(8, cuda, gpus=4, cores=2, nnodes=2) is None  # 4 ranks on each of 2 nodes
    assert "needs 4 cores" in world_size_unsupported(4, CPU, gpus=0, cores=2)
    assert threads_per_rank(2, 2) == 1 and threads_per_rank(1, 2) == 2 and threads_per_rank(8, 2) == 1


def test_one_process_team_is_the_identity():
    x, y = torch.arange(10.0).reshape(5, 2), torch.arange(5)
    assert Solo().shard(x, y)[2] == 1.0 and Solo().gather("a") == ["a"] and Solo().agree([True, False]) == [True, False]

    class Two(Ranks):  # the arithmetic of rank 1 of 2, without a process group
        def __init__(self) -> None:
            self.rank, self.world_size, self.is_leader = 1, 2, False

    xs, ys, scale = Two().shard(x, y)
    assert ys.tolist() == [3, 4] and scale == pytest.approx(2 * 2 / 5)  # shard of 2 of a batch of 5


def test_a_data_parallel_case_is_profiled_on_every_rank(tmp_path):
    from benchsuite.specs.profile import ProfileSpec

    (two_run,) = _runs(world_sizes=(2,))
    pool = RankPool(2, CPU, Launcher(timeout_s=120))
    try:
        info = pool.profile(two_run.case, ProfileSpec(steps=2, wait=0, warmup=1), tmp_path / "dp.json.gz")
    finally:
        pool.close()
    assert info["status"] == "ok" and info["world_size"] == 2
    phases = {row["phase"]: row["ms"] for row in info["phases"]}
    assert phases["communication"] > 0 and phases["backward"] > 0  # DDP's all-reduce call on the training thread
    assert [r["rank"] for r in info["ranks"]] == [0, 1] and all(r["step_ms"] > 0 for r in info["ranks"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dp.rank0.json.gz", "dp.rank1.json.gz"]
