"""Stages as Kubernetes Jobs, on the API emulator (whose kubelet runs pods as local processes):

1. 10 chained no-op stages: `sluice run --runner kubernetes` versus `kubectl apply -f` of the
   same 10 Jobs one after the other, each followed by `kubectl wait --for=condition=complete`
   and `kubectl logs` (what running a step as a Job costs with kubectl); Sluice's per-stage
   overhead over its own local runner is printed too. Sluice's pods carry two more containers
   (workspace in, outputs out) than kubectl's.
2. 50 independent stages of one run at once (`--jobs 50`): the controller's peak resident
   memory and its CPU time (user + sys, from wait4), against kubectl applying the same 50
   Jobs and waiting for them.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import benchlib  # noqa: E402
from benchlib import SLUICE  # noqa: E402

ENV = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@e", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@e")
SLUICE_IMAGE = "sluice-bench"


def emulator(folder, name):
    bin_dir = os.path.dirname(os.path.abspath(SLUICE))
    process, port, config = benchlib.emulator(folder, name, "33", ["--image=busybox=", f"--image={SLUICE_IMAGE}={bin_dir}"])
    return process, port, config


def job_seconds(port):
    """The emulator's own time in Jobs so far: from each Job's creation to its completion."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/stats") as answer:
        return json.load(answer)["job_seconds"]


def repository(folder, name, stages, chained):
    repo = os.path.join(folder, name)
    os.makedirs(repo)
    lines = ["version: 1", "runner: { kind: kubernetes, image: busybox }", "stages:"]
    for i in range(stages):
        needs = f", needs: [s{i - 1}]" if chained and i else ""
        lines.append(f"  s{i}: {{ run: [echo, stage-{i}]{needs} }}")
    with open(repo + "/sluice.yaml", "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "bench"], cwd=repo, check=True, env=ENV)
    return repo


def sluice(repo, state, config, extra=()):
    """Wall seconds, CPU seconds and peak RSS (MB) of one `sluice run`."""
    start = time.perf_counter()
    env = dict(ENV, KUBECONFIG=config, SLUICE_IMAGE=SLUICE_IMAGE)
    process = subprocess.Popen([SLUICE, "run", "--repo", repo, "--state", state, *extra], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sluice run failed: {process.stderr.read().decode()[-800:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def job(name):
    return f"""apiVersion: batch/v1
kind: Job
metadata: {{ name: {name} }}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [ {{ name: stage, image: busybox, command: [echo, {name}] }} ]
"""


def kubectl(config, folder, args):
    return subprocess.run(["kubectl", "--kubeconfig", config, "--cache-dir", folder + "/kcache", *args],
                          check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kubectl_jobs(config, folder, names, at_once):
    """kubectl: apply the Jobs, wait for each to complete, read each log. Wall and CPU seconds."""
    start = time.perf_counter()
    before = os.times()
    for i, batch in enumerate([names] if at_once else [[n] for n in names]):
        path = os.path.join(folder, f"jobs-{i}.yaml")
        with open(path, "w") as f:
            f.write("---\n".join(job(n) for n in batch))
        kubectl(config, folder, ["apply", "--server-side", "-f", path])
        kubectl(config, folder, ["wait", "--for=condition=complete", "--timeout=120s", *[f"job/{n}" for n in batch]])
        for n in batch:
            kubectl(config, folder, ["logs", f"job/{n}"])
    after = os.times()
    return time.perf_counter() - start, (after.children_user - before.children_user) + (after.children_system - before.children_system)


with tempfile.TemporaryDirectory() as folder:
    chained = repository(folder, "chained", 10, chained=True)
    wide = repository(folder, "wide", 50, chained=False)

    runs = []
    for attempt in range(3):
        process, port, config = emulator(folder, f"chain{attempt}")
        k8s = sluice(chained, os.path.join(folder, f"state-k{attempt}"), config)
        in_jobs = job_seconds(port)
        local = sluice(chained, os.path.join(folder, f"state-l{attempt}"), config, ["--runner", "local"])
        peer = kubectl_jobs(config, folder, [f"peer-{attempt}-{i}" for i in range(10)], at_once=False)
        process.kill()
        runs.append((k8s[0], local[0], peer[0], in_jobs))
    k8s_s, local_s, peer_s, in_jobs = sorted(runs)[1]
    overhead = (k8s_s - local_s) / 10
    # Sluice's share outside the Jobs: the run less the time the emulator spent from each Job's
    # creation to its completion (inside that time Sluice serves the workspace and takes the outputs).
    outside = (k8s_s - in_jobs) / 10
    print(f"| run 10 chained no-op stages as Kubernetes Jobs on the API emulator (local runner {local_s * 1000:.0f} ms: "
          f"{overhead * 1000:.0f} ms per stage for pod, workspace in, log, outputs out; of it, outside the Jobs' lifetimes "
          f"{outside * 1000:.0f} ms per stage) | {k8s_s * 1000:.0f} ms | {peer_s * 1000:.0f} ms | "
          f"kubectl apply + wait + logs, Job by Job | {peer_s / k8s_s:.2f}x |")

    process, _, config = emulator(folder, "wide")
    wall, cpu, rss = sluice(wide, os.path.join(folder, "state-wide"), config, ["--jobs", "50"])
    peer_wall, peer_cpu = kubectl_jobs(config, folder, [f"wide-{i}" for i in range(50)], at_once=True)
    process.kill()
    print(f"| 50 independent stages as Jobs at once: Sluice's CPU {cpu:.2f} s, peak RSS {rss:.0f} MB "
          f"(kubectl's CPU {peer_cpu:.2f} s) | {wall * 1000:.0f} ms | {peer_wall * 1000:.0f} ms | kubectl apply + wait + logs, 50 Jobs | "
          f"{peer_wall / wall:.2f}x |")
