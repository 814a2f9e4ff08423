"""Apply 500 objects (Deployments, Services, ConfigMaps) to the Kubernetes API emulator:
`sluice deploy --no-wait` versus `kubectl apply --server-side -f` on the same rendered
objects, each against a fresh emulator, in the same run: wall time and requests made."""
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

OBJECTS = 500
ENV = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@e", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@e")


def emulator(folder, name, latency_ms=0):
    return benchlib.emulator(folder, name, flags=[f"--latency={latency_ms}"])


def requests_made(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/stats") as r:
        return json.load(r)["requests"]


def manifests():
    docs = []
    for i in range(OBJECTS):
        kind = ("Deployment", "Service", "ConfigMap")[i % 3]
        if kind == "Deployment":
            docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{ name: app-{i}, labels: {{ app: app-{i} }} }}
spec:
  replicas: 1
  selector: {{ matchLabels: {{ app: app-{i} }} }}
  template:
    metadata: {{ labels: {{ app: app-{i} }}, annotations: {{ version: "{{{{model.version}}}}" }} }}
    spec: {{ containers: [ {{ name: c, image: "registry.example.com/app:{{{{image.tag}}}}" }} ] }}""")
        elif kind == "Service":
            docs.append(f"apiVersion: v1\nkind: Service\nmetadata: {{ name: svc-{i} }}\nspec: {{ selector: {{ app: app-{i - 1} }}, ports: [ {{ port: 80 }} ] }}")
        else:
            docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{ name: cfg-{i} }}\ndata: {{ version: \"{{{{model.version}}}}\" }}")
    return "\n---\n".join(docs) + "\n"


with tempfile.TemporaryDirectory() as folder:
    repo = os.path.join(folder, "repo")
    os.makedirs(repo + "/manifests")
    os.makedirs(repo + "/policies")
    with open(repo + "/sluice.yaml", "w") as f:
        f.write("version: 1\nstages:\n  evaluate: { run: [sh, -c, \"echo '{\\\"accuracy\\\": 1}' > m.json\"], metrics: m.json }\n"
                "gate: { policy: policies/p.yaml, model: bench }\n"
                "deploy: { manifests: manifests/, target: kubernetes, environment: bench, namespace: bench }\n")
    with open(repo + "/policies/p.yaml", "w") as f:
        f.write("rules:\n  - { metric: accuracy, direction: higher, min: 0 }\n")
    with open(repo + "/manifests/objects.yaml", "w") as f:
        f.write(manifests())
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "bench"], cwd=repo, check=True, env=ENV)
    state = os.path.join(folder, "state")

    # Promote once (against a throwaway emulator), so `sluice deploy` has a production model.
    p0, _, c0 = emulator(folder, "setup")
    subprocess.run([SLUICE, "run", "--repo", repo, "--state", state], check=True, stdout=subprocess.DEVNULL,
                   env=dict(ENV, KUBECONFIG=c0))
    p0.kill()
    rendered = os.path.join(folder, "rendered.yaml")
    with open(rendered, "w") as f:
        subprocess.run([SLUICE, "render", "--repo", repo, "--state", state], check=True, stdout=f, env=ENV)

    def timed(tool, config, port, attempt):
        """One apply by `tool`: wall seconds and requests the emulator answered."""
        before = requests_made(port)
        start = time.perf_counter()
        if tool == "sluice":
            argv = [SLUICE, "deploy", "--no-wait", "--repo", repo, "--state", state]
        else:
            argv = ["kubectl", "--kubeconfig", config, "--cache-dir", os.path.join(folder, f"cache{attempt}"),
                    "apply", "--server-side", "-f", rendered]
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(ENV, KUBECONFIG=config))
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{tool} failed: {done.stderr.decode()[-500:]}")
        return wall, requests_made(port) - before - 1

    # Each attempt: a fresh emulator, the first apply (everything new), then the same apply
    # again (nothing changed: what a drift check or a re-deploy of the same version costs);
    # then the same against an emulator that answers 2 ms late, as a remote API server does
    # (where sending requests in parallel pays).
    for latency in (0, 2):
        results = {}
        for tool in ("sluice", "kubectl"):
            fresh, unchanged = [], []
            for attempt in range(3):
                process, port, config = emulator(folder, f"{tool}{attempt}", latency)
                fresh.append(timed(tool, config, port, attempt))
                unchanged.append(timed(tool, config, port, attempt))
                process.kill()
            results[tool] = (sorted(fresh)[1], sorted(unchanged)[1])
        where = "the API emulator" + (f", {latency} ms per request" if latency else "")
        for i, what in enumerate(("fresh each time", "again, nothing changed")):
            (s_wall, s_req), (k_wall, k_req) = results["sluice"][i], results["kubectl"][i]
            print(f"| apply {OBJECTS} objects to {where} ({what}; Sluice {s_req} requests, kubectl {k_req}) | "
                  f"{s_wall * 1000:.0f} ms | {k_wall * 1000:.0f} ms | kubectl apply --server-side | {k_wall / s_wall:.2f}x |")
