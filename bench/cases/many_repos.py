"""One controller, many repositories: SLUICE_BENCH_REPOS repositories (default 1,000) served
by `git daemon` on 127.0.0.1, each with a two-stage no-op pipeline, watched by one
`sluice watch` polling every SLUICE_BENCH_INTERVAL seconds (default 20). After the first run
of every repository, one new commit lands on SLUICE_BENCH_CHANGED of them (default: all) at
the same moment; measured: the time until every changed repository's verdict for it is in the
run store, the slowest repository, the controller's peak resident memory and its CPU. The peer
in the same run is what only noticing the commits costs a script: `git ls-remote` of each
changed repository, one at a time.

`bench/cases/ten_thousand_repos.py` runs the large installation's shape through `run` below:
10,000 repositories, a poll every 10 minutes, pushes announced by signed webhooks, idle CPU
and `/metrics` measured. For scale, Flux's published mean-time-to-production benchmark
reconciles 1,000 Kustomizations in 4 m 13 s with 223 MiB on 16 cores."""
import concurrent.futures
import hashlib
import hmac
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import GIT_ENV, SLUICE, PostgresServer, cpu_seconds, free_port, git  # noqa: E402

FINAL = "('succeeded', 'failed', 'cancelled', 'interrupted')"
SECRET = "bench-webhook-secret"


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


def folder_mb(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total / 1e6


def deliver(base, name):
    """A signed GitHub push delivery for repository `name`; retried after a 429."""
    body = b'{"ref": "refs/heads/main"}'
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    for _ in range(50):
        request = urllib.request.Request(f"{base}/webhooks/{name}", data=body, method="POST",
                                         headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": signature,
                                                  "Content-Type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=30).read()
            return
        except urllib.error.HTTPError as e:
            if e.code != 429:
                raise
            time.sleep(0.2)
    raise SystemExit(f"many_repos: the webhook of {name} was refused 50 times")


class RunStoreReader:
    """Counts in the controller's run store: its SQLite file read-only, or its PostgreSQL
    database through `psql` (the arguments here are commit ids and numbers, quoted inline)."""

    def __init__(self, state, postgres):
        self.db, self.postgres = os.path.join(state, "sluice.sqlite"), postgres

    def value(self, sql, *args):
        if self.postgres:
            for a in args:
                sql = sql.replace("?", f"'{a}'" if isinstance(a, str) else repr(a), 1)
            out = self.postgres.scalar(sql)
            return float(out) if out not in (None, "") else 0
        if not os.path.exists(self.db):
            return 0
        try:
            c = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
            try:
                return c.execute(sql, args).fetchone()[0] or 0
            finally:
                c.close()  # `with` commits, it does not close
        except sqlite3.OperationalError:  # the store is being created
            return 0


def run(repos, interval, changed, webhooks, idle_seconds, database="sqlite"):
    """Returns a dict of figures (see the row printers). `database`: where the run store is,
    `sqlite` (the state folder) or `postgres` (a server started for the case)."""
    with tempfile.TemporaryDirectory() as folder:
        postgres = PostgresServer() if database == "postgres" else None
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
        for i in range(repos):
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
        figures = {}
        try:
            deadline = time.time() + 10
            while subprocess.run(["git", "ls-remote", f"git://127.0.0.1:{port}/r0.git"], capture_output=True).returncode != 0:
                if time.time() > deadline:
                    raise SystemExit("many_repos: git daemon did not start")
                time.sleep(0.1)
            state = os.path.join(folder, "state")
            config = os.path.join(folder, "controller.yaml")
            listen = free_port()
            with open(config, "w") as f:
                # Deliveries per second the server takes before answering 429: an installation of
                # this size announces pushes in bursts.
                f.write(f"listen: 127.0.0.1:{listen}\ninterval: {interval}s\nqueue-limit: {max(100, changed)}\nrepositories:\n")
                for i in range(repos):
                    f.write(f"  - {{ name: r{i}, url: 'git://127.0.0.1:{port}/r{i}.git', merge-requests: false"
                            + (", webhook-secret-env: BENCH_WEBHOOK_SECRET" if webhooks else "") + " }\n")
            store = RunStoreReader(state, postgres)
            count = store.value
            env = dict(GIT_ENV, BENCH_WEBHOOK_SECRET=SECRET)
            if postgres:
                env["SLUICE_DATABASE_URL"] = postgres.url

            started = time.time()
            watch = subprocess.Popen([SLUICE, "watch", "--config", config, "--state", state], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=env)
            wait_for("the first runs", lambda: count(f"SELECT count(*) FROM runs WHERE \"commit\" = ? AND status IN {FINAL}", first) == repos,
                     1800, watch)
            wait_for("every repository Ready", lambda: count(
                "SELECT count(*) FROM conditions WHERE environment = '' AND type = 'Ready' AND status = 'True'") == repos, 600, watch)
            figures["startup"] = time.time() - started
            figures["startup_peak"] = status_mb(watch.pid, "VmHWM")

            if idle_seconds:
                cpu0 = cpu_seconds(watch.pid)
                time.sleep(idle_seconds)
                figures["idle_cpu"] = (cpu_seconds(watch.pid) - cpu0) / idle_seconds
                figures["idle_rss"] = status_mb(watch.pid, "VmRSS")
            base = f"http://127.0.0.1:{listen}"
            start = time.perf_counter()
            scraped = urllib.request.urlopen(base + "/metrics", timeout=60).read()
            figures["metrics_s"], figures["metrics_mb"] = time.perf_counter() - start, len(scraped) / 1e6
            figures["mirrors_mb"] = folder_mb(state) / repos

            # One new commit on `changed` repositories at once.
            cpu0 = cpu_seconds(watch.pid)
            for i in range(changed):
                repo = os.path.join(served, f"r{i}.git")
                for name in objects:
                    target = os.path.join(repo, "objects", name)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    shutil.copyfile(os.path.join(work, ".git", "objects", name), target)
                with open(os.path.join(repo, "refs", "heads", "main"), "w") as ref:
                    ref.write(second + "\n")
            landed = time.time()
            if webhooks:
                with concurrent.futures.ThreadPoolExecutor(16) as pool:
                    list(pool.map(lambda i: deliver(base, f"r{i}"), range(changed)))
            wait_for("the verdicts on the new commits",
                     lambda: count(f"SELECT count(*) FROM runs WHERE \"commit\" = ? AND status IN {FINAL}", second) == changed, 900, watch)
            figures["elapsed"] = time.time() - landed
            figures["cpu"] = cpu_seconds(watch.pid) - cpu0
            figures["peak"] = status_mb(watch.pid, "VmHWM")
            succeeded = count("SELECT count(*) FROM runs WHERE \"commit\" = ? AND status = 'succeeded'", second)
            figures["slowest"] = count("SELECT max(finishedAt) - ? FROM runs WHERE \"commit\" = ?", landed, second)
            figures["median"] = count("SELECT finishedAt - ? FROM runs WHERE \"commit\" = ? ORDER BY finishedAt LIMIT 1 OFFSET ?",
                                      landed, second, changed // 2)
        finally:
            if watch is not None:
                watch.terminate()
                watch.wait()
            if postgres:
                postgres.stop()

        # The peer: only noticing the new commits, one `git ls-remote` per changed repository.
        start = time.perf_counter()
        for i in range(changed):
            subprocess.run(["git", "ls-remote", f"git://127.0.0.1:{port}/r{i}.git", "refs/heads/main"], check=True,
                           capture_output=True)
        figures["peer"] = time.perf_counter() - start
        daemon.terminate()
        daemon.wait()
    if succeeded != changed:
        raise SystemExit(f"many_repos: only {succeeded} of {changed} runs succeeded")
    return figures


if __name__ == "__main__":
    repos = int(os.environ.get("SLUICE_BENCH_REPOS", "1000"))
    interval = int(os.environ.get("SLUICE_BENCH_INTERVAL", "20"))
    for database in ["sqlite", "postgres"]:
        f = run(repos, interval, repos, webhooks=False, idle_seconds=0, database=database)
        where = "" if database == "sqlite" else ", the run store in PostgreSQL (same machine)"
        print(f"| {repos} repositories{where}, a poll every {interval} s: one new commit on each to all {repos} verdicts stored "
              f"(target < 2 min; median repository {f['median']:.0f} s, slowest {f['slowest']:.0f} s; Sluice's CPU {f['cpu']:.0f} s; "
              f"peak RSS {f['peak']:.0f} MB, target < 150 MB; first runs of all {repos}: {f['startup']:.0f} s, peak {f['startup_peak']:.0f} MB) "
              f"| {f['elapsed']:.1f} s | {f['peer']:.1f} s | git ls-remote of each, one at a time (only noticing) | {f['peer'] / f['elapsed']:.2f}x |")
