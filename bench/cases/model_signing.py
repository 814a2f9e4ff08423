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
RUNS = 15


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


def timed_run(src, state):
    start = time.perf_counter()
    done = subprocess.run([SLUICE, "run", "--repo", src, "--state", state], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"model_signing: sluice run failed: {done.stdout[-400:]} {done.stderr[-400:]}")
    return elapsed


def paired_runs(plain_src, signed_src, folder):
    """Unsigned and signed runs alternate (after one warm-up each), so that a machine getting
    slower or faster meanwhile weighs on both; returns both medians and the median of the
    differences of each pair."""
    plain, signed = [], []
    for n in range(RUNS + 1):
        p = timed_run(plain_src, os.path.join(folder, f"state-plain-{n}"))
        s = timed_run(signed_src, os.path.join(folder, f"state-signed-{n}"))
        if n:
            plain.append(p)
            signed.append(s)
    differences = [b - a for a, b in zip(plain, signed)]
    return statistics.median(plain), statistics.median(signed), statistics.quantiles(differences, n=4)


with tempfile.TemporaryDirectory() as folder:
    key = os.path.join(folder, "signing.pem")
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key], check=True)
    subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", key, "-out", key + ".p8"], check=True)
    plain, signed, (q1, added, q3) = paired_runs(repository(folder, "plain", None), repository(folder, "signed", key), folder)
    model = os.path.join(folder, "signed", "data")
    peer = []
    for n in range(RUNS):
        start = time.perf_counter()
        subprocess.run(["model_signing", "sign", "key", "--private_key", key + ".p8", "--signature", os.path.join(folder, f"peer{n}.sig"), model],
                       check=True, capture_output=True)
        peer.append(time.perf_counter() - start)
    q1, added, q3 = q1 * 1000, added * 1000, q3 * 1000
    peer_ms = statistics.median(peer) * 1000
    print(f"| gate.signing on a run with a {MB} MB model: model signature + provenance + gate statement added to the run (target < 50 ms; "
          f"run {plain * 1000:.0f} ms unsigned, {signed * 1000:.0f} ms signed, medians of {RUNS} alternating pairs; the ratio is against the upper quartile) "
          f"| {added:.0f} ms (quartiles {q1:.0f} to {q3:.0f}) | {peer_ms:.0f} ms | model_signing sign key (hashes the files itself) | {peer_ms / max(q3, 1):.1f}x |")
