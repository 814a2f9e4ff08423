import importlib
import json
import os
import pickle
import threading
import urllib.request

from sklearn.linear_model import LogisticRegression

from features import FEATURES, load

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "iris.csv")


def test_server_predicts_species(tmp_path, monkeypatch):
    xs, ys = load(DATA)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(LogisticRegression(max_iter=300).fit(xs, ys)))
    monkeypatch.setenv("MODEL_PATH", str(path))
    monkeypatch.setenv("MODEL_VERSION", "7")
    import serve
    importlib.reload(serve)
    server = serve.ThreadingHTTPServer(("127.0.0.1", 0), serve.Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        body = json.dumps({"rows": [xs[0], xs[-1]]}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_address[1]}/predict", data=body, method="POST")
        answer = json.load(urllib.request.urlopen(request))
        assert answer["model_version"] == "7"
        assert answer["species"] == [ys[0], ys[-1]]
        assert len(FEATURES) == 4
    finally:
        server.shutdown()
