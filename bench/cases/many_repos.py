"""One controller, many repositories: SLUICE_BENCH_REPOS (default 1,000) repositories served
by `git daemon` on 127.0.0.1, each with a two-stage no-op pipeline, watched by one
`sluice watch` polling every SLUICE_BENCH_INTERVAL seconds (default 20). After the first run
of every repository, one new commit lands on each at the same moment; measured: the time
until every repository's verdict for it is in the run store, the slowest repository, the
controller's peak resident memory and its CPU. The peer in the same run is what only
noticing the commits costs a script: `git ls-remote` of each repository, one at a time.
For scale, Flux's published mean-time-to-production benchmark reconciles 1,000
Kustomizations in 4 m 13 s with 223 MiB on 16 cores (targets here: < 2 min on 2 cores,
< 150 MB)."""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import GIT_ENV, SLUICE, cpu_seconds, free_port, git  # noqa: E402

REPOS = int(os.environ.get("SLUICE_BENCH_REPOS", "1000"))
INTERVAL = int(os.environ.get("SLUICE_BENCH_INTERVAL", "20"))
FINAL = "('succeeded', 'failed', 'cancelled', 'interrupted')"


def status_mb(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_for(what, condition, timeout, watch):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if watch.poll() is not None:
            raise SystemExit(f"many_repos: sluice watch exited {watch.returncode} while waiting for {what}")
        if condition():
            return
        time.sleep(0.5)
    raise SystemExit(f"many_repos: timed out waiting for {what}")


def loose_objects(repo, commit, parent):
    """Paths (relative to objects/) of the objects `commit` adds on top of `parent`."""
    names = git("rev-list", "--objects", commit, f"^{parent}", cwd=repo).split("\n")
    return [f"{n[:2]}/{n[2:40]}" for n in (line.split()[0] for line in names if line)]


with tempfile.TemporaryDirectory() as folder:
    served, work = os.path.join(folder, "served"), os.path.join(folder, "work")
    os.makedirs(served)
    git("init", "-q", "-b", "main", work)
    open(os.path.join(work, "sluice.yaml"), "w").write(
        "version: 1\nstages:\n  lint: { run: [\"true\"] }\n  test: { run: [\"true\"], needs: [lint] }\n")
    open(os.path.join(work, "README.md"), "w").write("first\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "pipeline", cwd=work)
    first = git("rev-parse", "HEAD", cwd=work)
    template = os.path.join(folder, "template.git")
    git("clone", "-q", "--bare", work, template)
    for i in range(REPOS):
        shutil.copytree(template, os.path.join(served, f"r{i}.git"))
    # The second commit, made once; landing it is copying its objects and moving the branch.
    open(os.path.join(work, "README.md"), "w").write("second\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "change", cwd=work)
    second = git("rev-parse", "HEAD", cwd=work)
    objects = loose_objects(work, second, first)

    port = free_port()
    daemon = subprocess.Popen(["git", "daemon", "--export-all", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}",
                               "--max-connections=0", f"--base-path={served}", served],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watch = None
    try:
        deadline = time.time() + 10
        while subprocess.run(["git", "ls-remote", f"git://127.0.0.1:{port}/r0.git"], capture_output=True).returncode != 0:
            if time.time() > deadline:
                raise SystemExit("many_repos: git daemon did not start")
            time.sleep(0.1)
        state = os.path.join(folder, "state")
        config = os.path.join(folder, "controller.yaml")
        with open(config, "w") as f:
            f.write(f"listen: 127.0.0.1:0\ninterval: {INTERVAL}s\nrepositories:\n")
            for i in range(REPOS):
                f.write(f"  - {{ name: r{i}, url: 'git://127.0.0.1:{port}/r{i}.git', merge-requests: false }}\n")
        db = os.path.join(state, "sluice.sqlite")

        def count(sql, *args):
            if not os.path.exists(db):
                return 0
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as c:
                    return c.execute(sql, args).fetchone()[0]
            except sqlite3.OperationalError:  # the store is being created
                return 0

        started = time.time()
        watch = subprocess.Popen([SLUICE, "watch", "--config", config, "--state", state], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=GIT_ENV)
        wait_for("the first runs", lambda: count(f"SELECT count(*) FROM runs WHERE \"commit\" = ? AND status IN {FINAL}", first) == REPOS,
                 600, watch)
        first_round = time.time() - started
        first_peak = status_mb(watch.pid, "VmHWM")

        # One new commit on every repository at once.
        cpu0 = cpu_seconds(watch.pid)
        for i in range(REPOS):
            repo = os.path.join(served, f"r{i}.git")
            for name in objects:
                target = os.path.join(repo, "objects", name)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(os.path.join(work, ".git", "objects", name), target)
            with open(os.path.join(repo, "refs", "heads", "main"), "w") as ref:
                ref.write(second + "\n")
        landed = time.time()
        wait_for("the verdicts on the new commits",
                 lambda: count(f"SELECT count(*) FROM runs WHERE \"commit\" = ? AND status IN {FINAL}", second) == REPOS, 900, watch)
        elapsed = time.time() - landed
        cpu = cpu_seconds(watch.pid) - cpu0
        peak = status_mb(watch.pid, "VmHWM")
        rss = status_mb(watch.pid, "VmRSS")
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            succeeded = c.execute("SELECT count(*) FROM runs WHERE \"commit\" = ? AND status = 'succeeded'", (second,)).fetchone()[0]
            slowest, name = c.execute("SELECT max(finishedAt) - ?, repository FROM runs WHERE \"commit\" = ?", (landed, second)).fetchone()
            median = c.execute("SELECT finishedAt - ? FROM runs WHERE \"commit\" = ? ORDER BY finishedAt LIMIT 1 OFFSET ?",
                               (landed, second, REPOS // 2)).fetchone()[0]
    finally:
        if watch is not None:
            watch.terminate()
            watch.wait()

    # The peer: only noticing the new commits, one `git ls-remote` per repository.
    start = time.perf_counter()
    for i in range(REPOS):
        subprocess.run(["git", "ls-remote", f"git://127.0.0.1:{port}/r{i}.git", "refs/heads/main"], check=True,
                       capture_output=True)
    peer = time.perf_counter() - start
    daemon.terminate()
    daemon.wait()

if succeeded != REPOS:
    raise SystemExit(f"many_repos: only {succeeded} of {REPOS} runs succeeded")
print(f"| {REPOS} repositories, a poll every {INTERVAL} s: one new commit on each to all {REPOS} verdicts stored "
      f"(target < 2 min; median repository {median:.0f} s, slowest {slowest:.0f} s; Sluice's CPU {cpu:.0f} s; "
      f"peak RSS {peak:.0f} MB, target < 150 MB; first runs of all {REPOS}: {first_round:.0f} s, peak {first_peak:.0f} MB) "
      f"| {elapsed:.1f} s | {peer:.1f} s | git ls-remote of each, one at a time (only noticing) | {peer / elapsed:.2f}x |")
