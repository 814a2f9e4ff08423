"""The controller's footprint and overhead. 20 repositories served by `git daemon` on
127.0.0.1 are watched by `sluice watch` (a libgit2 fetch of each every INTERVAL seconds);
after the first runs, its resident memory and CPU are measured for WINDOW seconds. The peer
polls the same 20 repositories the way a shell script would: `git fetch` + `git rev-parse`
processes in 20 clones, on the same interval, for the same window.
Then, in one repository with a gate: a commit is pushed and a signed webhook sent; the time
until the gate report is in the run store, minus the stage's own run time, is Sluice's
overhead (fetch, plan, checkout, store, gate). The peer figure is only noticing the push:
`git fetch` + `git rev-parse` in a clone."""
import hashlib
import hmac
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import GIT_ENV, SLUICE, cpu_seconds, free_port, git  # noqa: E402

REPOS = 20
INTERVAL = int(os.environ.get("SLUICE_BENCH_INTERVAL", "10"))
WINDOW = int(os.environ.get("SLUICE_BENCH_IDLE_SECONDS", "60"))
PUSHES = 10
SECRET = "bench-secret"


def memory_mb(pid):
    """Resident memory, and the part of it that is the process's own (anonymous: heap,
    stacks) rather than clean pages of the binary and shared libraries."""
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(("VmRSS:", "RssAnon:")):
            fields[line.split(":")[0]] = int(line.split()[1]) / 1024
    return fields["VmRSS"], fields["RssAnon"]


def wait_for(what, condition, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise SystemExit(f"watch_idle: timed out waiting for {what}")


with tempfile.TemporaryDirectory() as folder:
    served, work = os.path.join(folder, "served"), os.path.join(folder, "work")
    os.makedirs(served)
    os.makedirs(work)
    for i in range(REPOS):
        src = os.path.join(work, f"r{i}")
        os.makedirs(src)
        spec = "version: 1\nstages:\n  check: { run: [\"true\"] }\n"
        if i == 0:
            spec = ("version: 1\nstages:\n  evaluate:\n    run: \"echo '{\\\"accuracy\\\": 0.9}' > m.json\"\n    metrics: m.json\n"
                    "gate: { policy: p.yaml, model: bench }\n")
            open(os.path.join(src, "p.yaml"), "w").write("rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n")
        open(os.path.join(src, "sluice.yaml"), "w").write(spec)
        git("init", "-q", "-b", "main", cwd=src)
        git("add", "-A", cwd=src)
        git("commit", "-q", "-m", "pipeline", cwd=src)
        git("clone", "-q", "--bare", src, os.path.join(served, f"r{i}.git"))
        git("remote", "add", "origin", os.path.join(served, f"r{i}.git"), cwd=src)
    port = free_port()
    daemon = subprocess.Popen(["git", "daemon", "--export-all", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}",
                               f"--base-path={served}", served], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for("git daemon", lambda: subprocess.run(["git", "ls-remote", f"git://127.0.0.1:{port}/r0.git"],
                                                       capture_output=True).returncode == 0, timeout=10)
        state = os.path.join(folder, "state")
        config = os.path.join(folder, "controller.yaml")
        with open(config, "w") as f:
            f.write(f"listen: 127.0.0.1:0\ninterval: {INTERVAL}s\nrepositories:\n")
            for i in range(REPOS):
                f.write(f"  - {{ name: r{i}, url: 'git://127.0.0.1:{port}/r{i}.git', merge-requests: false"
                        + (", webhook-secret-env: BENCH_WEBHOOK_SECRET" if i == 0 else "") + " }\n")
        watch = subprocess.Popen([SLUICE, "watch", "--config", config, "--state", state], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, env=dict(GIT_ENV, BENCH_WEBHOOK_SECRET=SECRET), text=True)
        try:
            ready = watch.stdout.readline()
            base = "http://127.0.0.1:" + ready.split("127.0.0.1:")[1].split(",")[0]
            db = os.path.join(state, "sluice.sqlite")

            def count(sql):
                if not os.path.exists(db):
                    return 0
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                    return c.execute(sql).fetchone()[0]

            wait_for("the first runs", lambda: count("SELECT count(*) FROM runs WHERE status = 'succeeded'") == REPOS)
            wait_for("the first gate report", lambda: count("SELECT count(*) FROM reports WHERE kind = 'gate'") == 1)
            time.sleep(INTERVAL)  # one idle round of polls first

            # Idle: every repository polled, nothing new.
            cpu0, samples = cpu_seconds(watch.pid), []
            end = time.time() + WINDOW
            while time.time() < end:
                samples.append(memory_mb(watch.pid))
                time.sleep(1)
            sluice_cpu = (cpu_seconds(watch.pid) - cpu0) * 60 / WINDOW
            sluice_rss, sluice_anon = max(r for r, _ in samples), max(a for _, a in samples)
            growth = samples[-1][0] - samples[0][0]

            # Webhook to gate report, PUSHES times.
            overheads = []
            src = os.path.join(work, "r0")
            for n in range(PUSHES):
                open(os.path.join(src, "README.md"), "w").write(f"change {n}\n")
                git("add", "-A", cwd=src)
                git("commit", "-q", "-m", f"change {n}", cwd=src)
                git("push", "-q", "origin", "main", cwd=src)
                body = b'{"ref": "refs/heads/main"}'
                signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                request = urllib.request.Request(base + "/webhooks/r0", data=body, method="POST",
                                                 headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": signature})
                before = count("SELECT count(*) FROM reports WHERE kind = 'gate'")
                start = time.perf_counter()
                urllib.request.urlopen(request).read()
                while count("SELECT count(*) FROM reports WHERE kind = 'gate'") == before:
                    time.sleep(0.001)
                elapsed = time.perf_counter() - start
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                    stage = c.execute("SELECT finishedAt - startedAt FROM stage_results WHERE runId = (SELECT max(runId) FROM reports "
                                      "WHERE kind = 'gate')").fetchone()[0]
                overheads.append(elapsed - stage)
        finally:
            watch.terminate()
            watch.wait()

        # The peer: git fetch + git rev-parse for each repository, every INTERVAL seconds.
        clones = []
        for i in range(REPOS):
            clone = os.path.join(folder, f"clone{i}")
            git("clone", "-q", f"git://127.0.0.1:{port}/r{i}.git", clone)
            clones.append(clone)
        script = (f"while true; do for c in {' '.join(clones)}; do git -C $c fetch -q origin && git -C $c rev-parse origin/main >/dev/null; done; "
                  f"sleep {INTERVAL}; done")
        start = time.time()
        poller = subprocess.Popen(["bash", "-c", script], env=GIT_ENV)
        time.sleep(WINDOW)
        poller.terminate()
        _, status, usage = os.wait4(poller.pid, 0)
        peer_cpu = (usage.ru_utime + usage.ru_stime) * 60 / (time.time() - start)
        peer_rss = usage.ru_maxrss / 1024  # the largest single process (a git fetch)

        detect = []
        for n in range(PUSHES):
            src = os.path.join(work, "r1")
            open(os.path.join(src, "README.md"), "w").write(f"change {n}\n")
            git("add", "-A", cwd=src)
            git("commit", "-q", "-m", f"change {n}", cwd=src)
            git("push", "-q", "origin", "main", cwd=src)
            t = time.perf_counter()
            git("-C", clones[1], "fetch", "-q", "origin")
            git("-C", clones[1], "rev-parse", "origin/main")
            detect.append(time.perf_counter() - t)
    finally:
        daemon.terminate()
        daemon.wait()

overheads.sort()
detect.sort()
overhead, noticed = overheads[len(overheads) // 2], detect[len(detect) // 2]
print(f"| watch {REPOS} repositories idle, a poll every {INTERVAL} s: CPU per minute | {sluice_cpu * 1000:.0f} ms | {peer_cpu * 1000:.0f} ms "
      f"| git fetch + git rev-parse loop | {peer_cpu / sluice_cpu:.2f}x |")
print(f"| watch {REPOS} repositories idle: resident memory (target < 30 MB), growth over {WINDOW} s | {sluice_rss:.1f} MB RSS, of which "
      f"{sluice_anon:.1f} MB private; {growth:+.1f} MB | {peer_rss:.1f} MB peak RSS of one git fetch | git fetch + git rev-parse loop | – |")
print(f"| push + webhook to gate report stored, Sluice's overhead without the stage (target < 200 ms; median of {PUSHES}) "
      f"| {overhead * 1000:.0f} ms | {noticed * 1000:.0f} ms only to notice the push | git fetch + git rev-parse | "
      f"{noticed / overhead:.2f}x |")
