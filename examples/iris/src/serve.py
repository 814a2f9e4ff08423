"""A small model server: loads the trained model and answers predictions over HTTP.

GET  /healthz              -> 200 "ok" once the model is loaded
GET  /metrics              -> Prometheus counters: iris_requests_total and iris_errors_total,
                              labelled with the model version (what an environment's analysis reads)
POST /predict {"rows": [[sepal_length, sepal_width, petal_length, petal_width], ...]}
                           -> {"species": [...], "model_version": "..."}
The model file comes from MODEL_PATH (default model/model.pkl); MODEL_VERSION is echoed back.

When MODEL_SIGNATURE is set (the manifest's {{model.signature}}: sha256 of the model's signature
bundle, which Sluice makes with gate.signing), the server refuses to start unless the bundle at
MODEL_SIGNATURE_PATH (default: <model folder>.sig, where Sluice puts it in MLflow) has that
digest and every file of the model folder has the SHA-256 the bundle lists. The digest comes
from the manifest Sluice rendered, so the server needs no key; `model_signing verify key` checks
the bundle's signature itself.
"""
import base64
import hashlib
import json
import os
import pickle
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_PATH = os.environ.get("MODEL_PATH", "model/model.pkl")
MODEL_VERSION = os.environ.get("MODEL_VERSION", "unknown")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_signature(folder, bundle_path, expected):
    """Raises SystemExit saying what does not match; returns the number of files checked."""
    if not os.path.isfile(bundle_path):
        raise SystemExit(f"MODEL_SIGNATURE is set but there is no signature bundle at {bundle_path} (set MODEL_SIGNATURE_PATH)")
    if "sha256:" + sha256(bundle_path) != expected:
        raise SystemExit(f"{bundle_path} is not the bundle the manifest names ({expected}): refusing to serve")
    with open(bundle_path, "rb") as handle:
        statement = json.loads(base64.b64decode(json.load(handle)["dsseEnvelope"]["payload"]))
    signed = {r["name"]: r["digest"] for r in statement["predicate"]["resources"]}
    present = {os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
               for root, _, names in os.walk(folder) for name in names}
    for name in sorted(present | set(signed)):
        if name not in signed:
            raise SystemExit(f"{folder}/{name} is not in the signed model: refusing to serve")
        if name not in present:
            raise SystemExit(f"{folder}/{name} was signed but is missing: refusing to serve")
        if sha256(os.path.join(folder, name)) != signed[name]:
            raise SystemExit(f"{folder}/{name} differs from what was signed: refusing to serve")
    return len(signed)


if os.environ.get("MODEL_SIGNATURE"):
    FOLDER = os.path.dirname(os.path.abspath(MODEL_PATH))
    check_signature(FOLDER, os.environ.get("MODEL_SIGNATURE_PATH", FOLDER + ".sig"), os.environ["MODEL_SIGNATURE"])

with open(MODEL_PATH, "rb") as handle:
    MODEL = pickle.load(handle)

COUNTS = {"requests": 0, "errors": 0}
COUNTS_LOCK = threading.Lock()


def count(error):
    with COUNTS_LOCK:
        COUNTS["requests"] += 1
        COUNTS["errors"] += 1 if error else 0


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, "ok")
        if self.path == "/metrics":
            with COUNTS_LOCK:
                text = "".join(f'# TYPE iris_{name}_total counter\niris_{name}_total{{version="{MODEL_VERSION}"}} {value}\n'
                               for name, value in COUNTS.items())
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return None
        return self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/predict":
            return self.reply(404, {"error": "not found"})
        try:
            length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
            rows = json.loads(self.rfile.read(length))["rows"]
            species = [str(s) for s in MODEL.predict(rows)]
        except (ValueError, KeyError, TypeError) as error:
            count(error=True)
            return self.reply(400, {"error": f"expected {{\"rows\": [[4 numbers], ...]}}: {error}"})
        count(error=False)
        return self.reply(200, {"species": species, "model_version": MODEL_VERSION})


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
