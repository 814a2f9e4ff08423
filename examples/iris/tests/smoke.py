"""Smoke test of a model version in an environment, run by Sluice's `verify` (not by pytest).

Serves the version's own model files (Sluice restores them into the checkout) with
src/serve.py on SLUICE_ENV_PORT, replays every flower of data/iris.csv through /predict, and
fails unless the server answers with the version it was given and predicts at least 90 % right.
It keeps serving SLUICE_ENV_LINGER seconds more, so that a Prometheus scraping the port records
the version's request and error counters for the analysis that follows.
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, "src")
from features import load

PORT = os.environ.get("SLUICE_ENV_PORT", "18080")
VERSION = os.environ.get("SLUICE_MODEL_VERSION", "unknown")
BASE = f"http://127.0.0.1:{PORT}"

# The server's access log would bury the smoke test's own lines in the check's report.
server = subprocess.Popen([sys.executable, "src/serve.py"], stderr=subprocess.DEVNULL,
                          env=dict(os.environ, MODEL_PATH="model/model.pkl", MODEL_VERSION=VERSION, PORT=PORT))
try:
    deadline = time.time() + 20
    while True:
        try:
            urllib.request.urlopen(BASE + "/healthz", timeout=1)
            break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                sys.exit(f"smoke: the model server did not start on port {PORT}")
            time.sleep(0.1)
    xs, ys = load("data/iris.csv")
    right, answered = 0, set()
    for start in range(0, len(xs), 10):
        body = json.dumps({"rows": xs[start:start + 10]}).encode()
        request = urllib.request.Request(BASE + "/predict", data=body, method="POST", headers={"Content-Type": "application/json"})
        answer = json.load(urllib.request.urlopen(request, timeout=10))
        answered.add(answer["model_version"])
        right += sum(1 for p, y in zip(answer["species"], ys[start:start + 10]) if p == y)
    accuracy = right / len(xs)
    print(f"smoke: version {VERSION} in {os.environ.get('SLUICE_ENVIRONMENT', '?')} answered {len(xs)} flowers, {accuracy:.1%} right")
    time.sleep(float(os.environ.get("SLUICE_ENV_LINGER", "0")))
    if answered != {VERSION}:
        sys.exit(f"smoke: the server answered as version {sorted(answered)}, not {VERSION}")
    if accuracy < 0.9:
        sys.exit(f"smoke: {accuracy:.1%} right is below 90 %")
finally:
    server.terminate()
    server.wait()
