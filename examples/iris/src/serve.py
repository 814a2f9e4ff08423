"""A small model server: loads the trained model and answers predictions over HTTP.

GET  /healthz              -> 200 "ok" once the model is loaded
GET  /metrics              -> Prometheus counters: iris_requests_total and iris_errors_total,
                              labelled with the model version (what an environment's analysis reads)
POST /predict {"rows": [[sepal_length, sepal_width, petal_length, petal_width], ...]}
                           -> {"species": [...], "model_version": "..."}
The model file comes from MODEL_PATH (default model/model.pkl); MODEL_VERSION is echoed back.
"""
import json
import os
import pickle
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_PATH = os.environ.get("MODEL_PATH", "model/model.pkl")
MODEL_VERSION = os.environ.get("MODEL_VERSION", "unknown")

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
