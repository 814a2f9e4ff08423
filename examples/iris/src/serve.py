"""A small model server: loads the trained model and answers predictions over HTTP.

GET  /healthz              -> 200 "ok" once the model is loaded
POST /predict {"rows": [[sepal_length, sepal_width, petal_length, petal_width], ...]}
                           -> {"species": [...], "model_version": "..."}
The model file comes from MODEL_PATH (default model/model.pkl); MODEL_VERSION is echoed back.
"""
import json
import os
import pickle
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_PATH = os.environ.get("MODEL_PATH", "model/model.pkl")
MODEL_VERSION = os.environ.get("MODEL_VERSION", "unknown")

with open(MODEL_PATH, "rb") as handle:
    MODEL = pickle.load(handle)


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
        return self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/predict":
            return self.reply(404, {"error": "not found"})
        try:
            length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
            rows = json.loads(self.rfile.read(length))["rows"]
            species = [str(s) for s in MODEL.predict(rows)]
        except (ValueError, KeyError, TypeError) as error:
            return self.reply(400, {"error": f"expected {{\"rows\": [[4 numbers], ...]}}: {error}"})
        return self.reply(200, {"species": species, "model_version": MODEL_VERSION})


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
