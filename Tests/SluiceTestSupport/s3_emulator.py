"""An S3 API on 127.0.0.1 (moto, in-process) with one bucket, for the tests (S3Emulator.swift)
and the benchmarks (bench/cases/artifact_bucket.py).

    python3 s3_emulator.py BUCKET CHECK KEYFILE

With CHECK=1, moto verifies every request's AWS Signature V4 against an IAM user's key made at
start, as S3 does, and refuses unsigned ones; the key is written to KEYFILE ("id secret").
Prints "PORT <port>" once the bucket exists."""
import json
import os
import sys
import threading
import urllib.request

bucket, checking, key_file = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
if checking:
    # The first four requests (the IAM user, its policy and key, the bucket) are let in
    # unsigned; every later one must be signed with the user's key.
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "4"
    os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "bootstrap"
from moto.server import ThreadedMotoServer  # noqa: E402

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
port = server.get_host_and_port()[1]
url = f"http://127.0.0.1:{port}"
if checking:
    import boto3
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1")
    iam.create_user(UserName="sluice")
    iam.put_user_policy(UserName="sluice", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="sluice")["AccessKey"]
    with open(key_file, "w") as f:
        f.write(key["AccessKeyId"] + " " + key["SecretAccessKey"])
urllib.request.urlopen(urllib.request.Request(f"{url}/{bucket}", method="PUT"))
print("PORT", port, flush=True)
threading.Event().wait()
