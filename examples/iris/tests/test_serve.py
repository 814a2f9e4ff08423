import base64
import hashlib
import importlib
import json
import os
import pickle
import threading
import urllib.request

import pytest
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


def signed_model(tmp_path):
    """A model folder and a bundle listing its files as Sluice's gate.signing does (no signature
    needed: the server trusts the bundle by the digest its manifest names)."""
    xs, ys = load(DATA)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps(LogisticRegression(max_iter=300).fit(xs, ys)))
    (folder / "MLmodel").write_text("flavors: {}\n")
    resources = [{"name": p.name, "algorithm": "sha256", "digest": hashlib.sha256(p.read_bytes()).hexdigest()}
                 for p in sorted(folder.iterdir())]
    statement = {"_type": "https://in-toto.io/Statement/v1", "predicate": {"resources": resources}}
    bundle = tmp_path / "model.sig"
    bundle.write_text(json.dumps({"dsseEnvelope": {"payload": base64.b64encode(json.dumps(statement).encode()).decode()}}))
    return folder, "sha256:" + hashlib.sha256(bundle.read_bytes()).hexdigest()


def start(monkeypatch, folder, signature):
    monkeypatch.setenv("MODEL_PATH", str(folder / "model.pkl"))
    monkeypatch.setenv("MODEL_SIGNATURE", signature)
    import serve
    return importlib.reload(serve)


def test_server_starts_when_the_files_are_the_signed_ones(tmp_path, monkeypatch):
    folder, signature = signed_model(tmp_path)
    assert start(monkeypatch, folder, signature).MODEL is not None


def test_server_refuses_a_changed_file_or_another_bundle(tmp_path, monkeypatch):
    folder, signature = signed_model(tmp_path)
    with pytest.raises(SystemExit, match="is not the bundle the manifest names"):
        start(monkeypatch, folder, "sha256:" + "0" * 64)
    data = bytearray((folder / "model.pkl").read_bytes())
    data[-2] ^= 1
    (folder / "model.pkl").write_bytes(bytes(data))
    with pytest.raises(SystemExit, match="model.pkl differs from what was signed"):
        start(monkeypatch, folder, signature)
    (folder / "extra.py").write_text("print('not signed')\n")
    with pytest.raises(SystemExit, match="extra.py is not in the signed model"):
        start(monkeypatch, folder, signature)
