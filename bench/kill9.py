"""The kill -9 harness: `python3 bench/kill9.py [--trials N] [--seed S]`.

Each trial commits a new candidate to a repository whose pipeline validates, trains, evaluates,
gates and deploys to an environment branch, starts `sluice run`, and kills it with SIGKILL:
a third of the trials at a random moment of the run, a third in the window after the last
stage (the gate, the promotion and the deploy), found by waiting for the last stage's marker,
and a third right after the promotion reaches the run store, before the deploy.
Then it runs `sluice run` again (which recovers the interrupted run) and checks what must
hold after any crash:

- the run store passes SQLite's integrity check and no run is left `running`;
- the environment branch holds the manifests of the version the registry says is in production;
- no `*.lock` file is left in the repository's .git;
- no commit was promoted twice, and every promotion in the log has its version deployed;
- no stage process of the state folder outlived the runs.

It prints one line per trial and a summary table, and exits 1 when any check failed.
"""
import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases"))
from benchlib import SLUICE  # noqa: E402

SPEC = """version: 1
datasets:
  d: { path: data/d.csv }
stages:
  validate: { uses: validate-data, with: { data: data/d.csv, schema: schemas/d.yaml } }
  train:
    run: [sh, -c, "sleep 0.2; mkdir -p model && cp data/d.csv model/weights.csv"]
    needs: [validate]
    outputs: [model/]
  evaluate:
    run: [sh, -c, "cp quality.json metrics.json; sleep 0.1; touch \\"$MARK\\"; sleep 0.05"]
    needs: [train]
    metrics: metrics.json
    env: { MARK: "%(mark)s" }
gate: { policy: policies/p.yaml, model: harness }
deploy: { manifests: manifests/, target: branch, environment: staging, namespace: ml }
"""
POLICY = "rules:\n  - { metric: accuracy, direction: higher, min: 0.5, vs-production: { tolerance: 1 } }\n"
MANIFEST = """apiVersion: v1
kind: ConfigMap
metadata: { name: model }
data: { version: "{{model.version}}", commit: "{{commit}}" }
"""
SCHEMA = "columns:\n  x: { type: integer }\n"


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="h", GIT_AUTHOR_EMAIL="h@x", GIT_COMMITTER_NAME="h", GIT_COMMITTER_EMAIL="h@x"))


def sluice(*args, repo, state, check=False):
    return subprocess.run([SLUICE, *args, "--repo", repo, "--state", state], capture_output=True, text=True, check=check)


def leftover_processes(state):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            env = open(f"/proc/{pid}/environ", "rb").read()
        except OSError:
            continue
        if f"SLUICE_WORKSPACE={state}/".encode() in env:
            found.append(pid)
    return found


def promotion_count(state):
    path = os.path.join(state, "sluice.sqlite")
    if not os.path.exists(path):
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT count(*) FROM promotions").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0  # not created yet, or busy: asked again a moment later


def check(repo, state):
    problems = []
    db = sqlite3.connect(os.path.join(state, "sluice.sqlite"))
    if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
        problems.append("run store integrity check failed")
    running = db.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0]
    if running:
        problems.append(f"{running} run(s) left running")
    promotions = db.execute("SELECT version, \"commit\", action FROM promotions WHERE model = 'harness' ORDER BY id").fetchall()
    promoted = [c for (_, c, a) in promotions if a == "promote"]
    if len(promoted) != len(set(promoted)):
        problems.append(f"a commit was promoted twice: {promoted}")
    db.close()
    if promotions:
        production = promotions[-1][0]
        shown = subprocess.run(["git", "show", "sluice/env/staging:ml/configmap-model.yaml"], cwd=repo, capture_output=True, text=True)
        if f"version: '{production}'" not in shown.stdout and f'version: "{production}"' not in shown.stdout:
            problems.append(f"production is version {production} but the environment branch holds: {shown.stdout.strip() or shown.stderr.strip()}")
    locks = [os.path.join(d, f) for d, _, files in os.walk(os.path.join(repo, ".git")) for f in files if f.endswith(".lock")]
    if locks:
        problems.append(f"lock files left: {locks}")
    if leftover_processes(state):
        problems.append("stage processes outlived the runs")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true")
    options = parser.parse_args()
    rng = random.Random(options.seed)
    failures, window_kills, random_kills, promoted_kills, missed = 0, 0, 0, 0, 0
    with tempfile.TemporaryDirectory() as folder:
        repo, state, mark = os.path.join(folder, "repo"), os.path.join(folder, "state"), os.path.join(folder, "evaluated")
        os.makedirs(os.path.join(repo, "data"))
        os.makedirs(os.path.join(repo, "schemas"))
        os.makedirs(os.path.join(repo, "policies"))
        os.makedirs(os.path.join(repo, "manifests"))
        files = {"sluice.yaml": SPEC % {"mark": mark}, "policies/p.yaml": POLICY, "manifests/model.yaml": MANIFEST, "schemas/d.yaml": SCHEMA}
        for name, text in files.items():
            open(os.path.join(repo, name), "w").write(text)
        git("init", "-q", "-b", "main", cwd=repo)
        # Calibrate on one run that is not killed: how long a run takes, and how long from the
        # last stage's marker to the end (the window).
        open(os.path.join(repo, "data/d.csv"), "w").write("x\n" + "\n".join(map(str, range(200))) + "\n")
        open(os.path.join(repo, "quality.json"), "w").write(json.dumps({"accuracy": 0.6}))
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", "calibration", cwd=repo)
        started = time.time()
        run = subprocess.Popen([SLUICE, "run", "--repo", repo, "--state", state], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not os.path.exists(mark) and run.poll() is None:
            time.sleep(0.002)
        marked = time.time()
        run.wait()
        whole, window = time.time() - started, time.time() - marked
        print(f"calibration: a run takes {whole:.2f} s, the window after the last stage's marker {window:.2f} s", flush=True)
        for trial in range(1, options.trials + 1):
            # The same values in another order: a new data version (so training runs) without drift.
            values = list(range(200))
            rng.shuffle(values)
            open(os.path.join(repo, "data/d.csv"), "w").write("x\n" + "\n".join(map(str, values)) + "\n")
            open(os.path.join(repo, "quality.json"), "w").write(json.dumps({"accuracy": 0.6 + trial / (options.trials * 3)}))
            git("add", "-A", cwd=repo)
            git("commit", "-q", "-m", f"trial {trial}", cwd=repo)
            if os.path.exists(mark):
                os.remove(mark)
            mode = ("random", "window", "promoted")[trial % 3]
            in_window = mode == "window"
            promotions_before = promotion_count(state)
            run = subprocess.Popen([SLUICE, "run", "--repo", repo, "--state", state], stdout=subprocess.DEVNULL,
                                   stderr=None if options.verbose else subprocess.DEVNULL)
            if mode == "promoted":
                # The narrowest window: right after the promotion is in the log, before the deploy.
                deadline = time.time() + 30
                while promotion_count(state) == promotions_before and time.time() < deadline and run.poll() is None:
                    time.sleep(0.0005)
                promoted_kills += 1
            elif in_window:
                deadline = time.time() + 30
                while not os.path.exists(mark) and time.time() < deadline and run.poll() is None:
                    time.sleep(0.002)
                time.sleep(rng.uniform(0.0, window))  # the stage's last moments, the gate, promotion, deploy
                window_kills += 1
            else:
                time.sleep(rng.uniform(0.0, whole))
                random_kills += 1
            if run.poll() is None:
                run.kill()
            else:
                missed += 1  # the run finished before the kill: still checked
                if options.verbose:
                    print(f"  run exited {run.returncode} before the kill", flush=True)
            run.wait()
            # The next start recovers; run it twice more so a retry and a steady state are both seen.
            sluice("run", repo=repo, state=state)
            sluice("run", repo=repo, state=state)
            problems = check(repo, state)
            print(f"trial {trial:3d} ({mode}): {'ok' if not problems else '; '.join(problems)}", flush=True)
            failures += bool(problems)
    print()
    print("| kill -9 trials | at random moments | after the last stage (gate, promote, deploy) | right after the promotion | finished before the kill | failed checks |")
    print("|---|---|---|---|---|---|")
    print(f"| {options.trials} | {random_kills} | {window_kills} | {promoted_kills} | {missed} | {failures} |")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
