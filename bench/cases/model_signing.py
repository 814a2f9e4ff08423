"""What `gate.signing` adds to a run: the same pipeline (a stage writing a 10 MB model in two
files, its metrics, the gate) run with and without signing; the difference of the medians is
signing the model files (OpenSSF model signing) and the provenance and gate statements. The
peer signs the same folder with the OpenSSF tool itself (`model_signing sign key`), which
hashes the files again; Sluice signs the digests its artifact store computed when it stored them.

SLUICE_BENCH_MODEL_MB sets the model's size (default 10)."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import SLUICE, git  # noqa: E402

MB = int(os.environ.get("SLUICE_BENCH_MODEL_MB", "10"))
RUNS = 7


def repository(folder, name, signing):
    src = os.path.join(folder, name)
    os.makedirs(os.path.join(src, "data"))
    with open(os.path.join(src, "data", "weights.bin"), "wb") as f:
        f.write(os.urandom(MB << 20))
    open(os.path.join(src, "data", "config.json"), "w").write('{"layers": 12}\n')
    gate = "gate: { policy: policy.yaml, model: bench" + (f", signing: {{ key: {signing} }}" if signing else "") + " }\n"
    open(os.path.join(src, "sluice.yaml"), "w").write(
        "version: 1\nstages:\n  train:\n    run: [sh, -c, \"mkdir -p model && cp data/* model/ && echo \\\"{\\\\\\\"accuracy\\\\\\\": 0.9}\\\" > m.json\"]\n"
        "    outputs: [model/]\n    metrics: m.json\n    cache: false\n" + gate)
    open(os.path.join(src, "policy.yaml"), "w").write("rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n")
    git("init", "-q", "-b", "main", cwd=src)
    git("add", "-A", cwd=src)
    git("commit", "-q", "-m", "model", cwd=src)
    return src


def median_run(src, folder):
    times = []
    for n in range(RUNS + 1):
        state = os.path.join(folder, f"state-{os.path.basename(src)}-{n}")
        start = time.perf_counter()
        done = subprocess.run([SLUICE, "run", "--repo", src, "--state", state], capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"model_signing: sluice run failed: {done.stdout[-400:]} {done.stderr[-400:]}")
        if n:
            times.append(elapsed)
    return statistics.median(times)


with tempfile.TemporaryDirectory() as folder:
    key = os.path.join(folder, "signing.pem")
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key], check=True)
    subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", key, "-out", key + ".p8"], check=True)
    plain = median_run(repository(folder, "plain", None), folder)
    signed = median_run(repository(folder, "signed", key), folder)
    model = os.path.join(folder, "signed", "data")
    peer = []
    for n in range(RUNS):
        start = time.perf_counter()
        subprocess.run(["model_signing", "sign", "key", "--private_key", key + ".p8", "--signature", os.path.join(folder, f"peer{n}.sig"), model],
                       check=True, capture_output=True)
        peer.append(time.perf_counter() - start)
    added = (signed - plain) * 1000
    print(f"| gate.signing on a run with a {MB} MB model: model signature + provenance + gate statement added to the run (target < 50 ms; "
          f"run {plain * 1000:.0f} ms unsigned, {signed * 1000:.0f} ms signed, medians of {RUNS}) | {added:.0f} ms | {statistics.median(peer) * 1000:.0f} ms "
          f"| model_signing sign key (hashes the files itself) | {statistics.median(peer) * 1000 / max(added, 1):.1f}x |")
