"""What a bucket behind the artifact store costs a run: a stage writes a new SIZE_MB model, and
`sluice run` stores it in the state folder and copies it to an S3 bucket (moto on 127.0.0.1,
checking signatures; parts of 16 MiB, each with its SHA-256). Sluice's figure is the run with
the bucket minus the same run without one (fresh state folders both times, alternating, the median of REPEAT differences).
The peer puts the same file in the same emulator with boto3's `upload_file` (multipart, 8 MiB
parts, ten threads), what `aws s3 cp` does."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import GIT_ENV, SLUICE, git  # noqa: E402

SIZE_MB = int(os.environ.get("SLUICE_BENCH_ARTIFACT_MB", "256"))
REPEAT = 5

EMULATOR = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SluiceTestSupport", "s3_emulator.py")


def timed(argv, cwd, env):
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"artifact_bucket: {argv} failed: {done.stdout[-400:]}{done.stderr[-400:]}")
    return time.perf_counter() - start


with tempfile.TemporaryDirectory() as folder:
    key_file = os.path.join(folder, "key")
    moto = subprocess.Popen([sys.executable, EMULATOR, "bench-artifacts", "1", key_file], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = moto.stdout.readline().split()[1]
        key, secret = open(key_file).read().split()
        url = f"http://127.0.0.1:{port}"
        repo = os.path.join(folder, "repo")
        os.makedirs(repo)
        model = os.path.join(folder, "model.bin")
        with open(model, "wb") as f:
            f.write(os.urandom(SIZE_MB << 20))
        with open(os.path.join(repo, "sluice.yaml"), "w") as f:
            # New bytes every run: the bucket is content-addressed, and a blob already there is not sent again.
            f.write(f"version: 1\nstages:\n  train: {{ run: \"head -c {SIZE_MB << 20} /dev/urandom > model.bin\", outputs: [model.bin], timeout: 10m }}\n")
        git("init", "-q", "-b", "main", cwd=repo)
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", "train", cwd=repo)
        base = dict(GIT_ENV, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1")
        bucket = dict(base, SLUICE_ARTIFACTS_URL="s3://bench-artifacts/sluice", SLUICE_S3_ENDPOINT_URL=url)

        def run(env, i):
            state = os.path.join(folder, f"state-{i}")
            seconds = timed([SLUICE, "run", "--repo", repo, "--state", state], repo, env)
            shutil.rmtree(state)
            return seconds

        # Alternating, so that drift of a shared machine weighs on both.
        plain, with_bucket = [], []
        for i in range(REPEAT):
            plain.append(run(base, f"plain-{i}"))
            with_bucket.append(run(bucket, f"bucket-{i}"))
        extra = statistics.median(b - a for a, b in zip(plain, with_bucket))
        upload = ("import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1')"
                  ".upload_file(sys.argv[2], 'bench-artifacts', 'peer/' + sys.argv[3])")
        peer = statistics.median(timed([sys.executable, "-c", upload, url, model, str(i)], folder, base) for i in range(REPEAT))
        name = (f"a {SIZE_MB} MB stage output copied to an S3 bucket (moto, signatures checked): `sluice run` with the bucket "
                f"less without ({statistics.median(with_bucket):.2f} s vs {statistics.median(plain):.2f} s)")
        print(f"| {name} | {extra * 1000:.0f} ms | {peer * 1000:.0f} ms | boto3 upload_file (8 MiB parts, 10 threads) | {peer / extra:.2f}x |")
    finally:
        moto.kill()
