"""Runner overhead: a pipeline of 20 no-op stages (`true`, chained by needs), run by
`sluice run` (fresh state: every stage executes; same state again: every stage is a
cache hit; fresh with `--sandbox`: every stage under Landlock, as a merge request's) versus
`dvc repro` of the same 20 stages (fresh, then unchanged), in the same run; then the same
fresh and cached runs with the run store in PostgreSQL (`SLUICE_DATABASE_URL`, a server on
this machine, a new database each time): the store's share of a run on either backend.
Sluice's own CPU time is reported from wait4 (user + sys, including the 20 `true`s)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import SLUICE, PostgresServer, row  # noqa: E402

STAGES = 20
ENV = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@e", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@e")


def run(argv, cwd, env=None):
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.chdir(cwd)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execvpe(argv[0], argv, env or ENV)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv} failed in {cwd}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


with tempfile.TemporaryDirectory() as folder:
    repo = os.path.join(folder, "repo")
    os.makedirs(repo)
    with open(os.path.join(repo, "sluice.yaml"), "w") as f:
        f.write("version: 1\nstages:\n")
        for i in range(STAGES):
            f.write(f"  s{i}: {{ run: [\"true\"]{f', needs: [s{i - 1}]' if i else ''} }}\n")
    with open(os.path.join(repo, "dvc.yaml"), "w") as f:
        f.write("stages:\n")
        for i in range(STAGES):
            f.write(f"  s{i}:\n    cmd: \"true\"\n")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=repo, check=True, env=ENV)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "pipeline"], cwd=repo, check=True, env=ENV)

    fresh, cached, fresh_cpu, cached_cpu, sandboxed, sandboxed_cpu = [], [], [], [], [], []
    for i in range(7):
        state = os.path.join(folder, f"state{i}")
        wall, cpu = run([SLUICE, "run", "--state", state], repo)
        fresh.append(wall); fresh_cpu.append(cpu)
        wall, cpu = run([SLUICE, "run", "--state", state], repo)
        cached.append(wall); cached_cpu.append(cpu)
        wall, cpu = run([SLUICE, "run", "--sandbox", "--state", os.path.join(folder, f"sandboxed{i}")], repo)
        sandboxed.append(wall); sandboxed_cpu.append(cpu)
    dvc_fresh, dvc_cached = [], []
    for i in range(3):
        shutil.rmtree(os.path.join(repo, ".dvc", "tmp"), ignore_errors=True)
        lock = os.path.join(repo, "dvc.lock")
        if os.path.exists(lock):
            os.remove(lock)
        dvc_fresh.append(run(["dvc", "repro", "-q"], repo)[0])
        dvc_cached.append(run(["dvc", "repro", "-q"], repo)[0])
    row(f"run {STAGES} no-op stages (all execute; Sluice CPU {median(fresh_cpu) * 1000:.0f} ms)", median(fresh), median(dvc_fresh), "dvc repro")
    row(f"run {STAGES} no-op stages again (all cached; Sluice CPU {median(cached_cpu) * 1000:.0f} ms)", median(cached), median(dvc_cached), "dvc repro (unchanged)")
    row(f"run {STAGES} no-op stages sandboxed (Landlock; Sluice CPU {median(sandboxed_cpu) * 1000:.0f} ms)", median(sandboxed), median(dvc_fresh), "dvc repro")

    postgres = PostgresServer()
    try:
        pg_fresh, pg_cached, pg_fresh_cpu, pg_cached_cpu = [], [], [], []
        for i in range(7):
            postgres.scalar(f"CREATE DATABASE run{i}")
            env = dict(ENV, SLUICE_DATABASE_URL=postgres.url.replace("/postgres?", f"/run{i}?"))
            state = os.path.join(folder, f"pg-state{i}")
            wall, cpu = run([SLUICE, "run", "--state", state], repo, env)
            pg_fresh.append(wall); pg_fresh_cpu.append(cpu)
            wall, cpu = run([SLUICE, "run", "--state", state], repo, env)
            pg_cached.append(wall); pg_cached_cpu.append(cpu)
    finally:
        postgres.stop()
    row(f"run {STAGES} no-op stages, run store in PostgreSQL (all execute; Sluice CPU {median(pg_fresh_cpu) * 1000:.0f} ms; "
        f"SQLite above: {median(fresh) * 1000:.0f} ms)", median(pg_fresh), median(dvc_fresh), "dvc repro")
    row(f"run {STAGES} no-op stages again, run store in PostgreSQL (all cached; Sluice CPU {median(pg_cached_cpu) * 1000:.0f} ms; "
        f"SQLite above: {median(cached) * 1000:.0f} ms)", median(pg_cached), median(dvc_cached), "dvc repro (unchanged)")
