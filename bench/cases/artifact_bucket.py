"""What a bucket behind the artifact store costs a run: a stage writes a new SIZE_MB model, and
`sluice run` stores it in the state folder and copies it to an S3 bucket (moto on 127.0.0.1,
checking signatures; parts of 16 MiB, each with its SHA-256). Sluice's figure is the run with
the bucket minus the same run without one (fresh state folders both times, alternating, the median of REPEAT differences).
The peer puts the same file in the same emulator with boto3's `upload_file` (multipart, 8 MiB
parts, ten threads), what `aws s3 cp` does."""
import json
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

MOTO = """
import json, os, sys, threading
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "4"
os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "bootstrap"
from moto.server import ThreadedMotoServer
import boto3
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
port = server.get_host_and_port()[1]
url = f"http://127.0.0.1:{port}"
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1")
iam.create_user(UserName="bench")
iam.put_user_policy(UserName="bench", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="bench")["AccessKey"]
boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket="bench-artifacts")
print(port, key["AccessKeyId"], key["SecretAccessKey"], flush=True)
threading.Event().wait()
"""


def timed(argv, cwd, env):
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"artifact_bucket: {argv} failed: {done.stdout[-400:]}{done.stderr[-400:]}")
    return time.perf_counter() - start


with tempfile.TemporaryDirectory() as folder:
    moto = subprocess.Popen([sys.executable, "-c", MOTO], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port, key, secret = moto.stdout.readline().split()
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
