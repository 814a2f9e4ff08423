"""The notification sender. (1) Throughput: N events recorded in the outbox of a running
`sluice watch`, delivered to a local Slack-shaped receiver; Sluice records every attempt durably
(one SQLite commit each) before the next. The peer posts the same N bodies to the same receiver
with Python's http.client over one keep-alive connection, recording nothing. (2) A pipeline's
verdict is not slowed by a dead-slow receiver: push + webhook to the gate report stored, with
1,000 events waiting for a receiver that takes 2 s per request, against the same controller
with an empty outbox.

SLUICE_BENCH_EVENTS sets N (default 2000)."""
import hashlib
import hmac
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import http.client
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import GIT_ENV, SLUICE, git  # noqa: E402

EVENTS = int(os.environ.get("SLUICE_BENCH_EVENTS", "2000"))
BACKLOG = 1000
PUSHES = 5
SECRET = "bench-secret"


def receiver(delay):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: without it each answer waits for a delayed ACK

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if delay:
                time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(what, condition, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise SystemExit(f"notifications: timed out waiting for {what}")


def event(n):
    return {"id": f"bench{n:028d}", "kind": "gate.rejected", "time": time.time(), "repository": "bench", "repositoryURL": "/bench",
            "model": "bench", "run": n, "commit": "a" * 40, "severity": "warning", "link": f"/runs/{n}",
            "title": f"bench: the candidate of run {n} was rejected: accuracy = 0.81 (production 0.90): below the minimum 0.85",
            "details": ["accuracy = 0.81 (production 0.90): below the minimum 0.85"], "repositoryProviders": []}


def record(db, first, count):
    with sqlite3.connect(db, timeout=30) as c:
        c.executemany("INSERT INTO notification_events (id, kind, repository, body, createdAt) VALUES (?, ?, ?, ?, ?)",
                      [(e["id"], e["kind"], e["repository"], json.dumps(e), e["time"]) for e in map(event, range(first, first + count))])


def count(db, sql):
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return c.execute(sql).fetchone()[0]


def controller(folder, name, url):
    src = os.path.join(folder, name)
    os.makedirs(src)
    open(os.path.join(src, "sluice.yaml"), "w").write(
        "version: 1\nstages:\n  evaluate:\n    run: \"echo '{\\\"accuracy\\\": 0.9}' > m.json\"\n    metrics: m.json\n"
        "gate: { policy: p.yaml, model: bench }\n")
    open(os.path.join(src, "p.yaml"), "w").write("rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n")
    git("init", "-q", "-b", "main", cwd=src)
    git("add", "-A", cwd=src)
    git("commit", "-q", "-m", "pipeline", cwd=src)
    config = os.path.join(folder, name + ".yaml")
    open(config, "w").write(f"listen: 127.0.0.1:0\ninterval: 10m\nrepositories:\n  - {{ name: {name}, url: {src}, webhook-secret-env: BENCH_SECRET }}\n"
                            "notifications:\n  providers:\n    - { name: chat, type: slack, url-env: BENCH_CHAT_URL }\n"
                            "  routes:\n    - { providers: [chat], events: [\"*\"] }\n")
    state = os.path.join(folder, name + "-state")
    watch = subprocess.Popen([SLUICE, "watch", "--config", config, "--state", state], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             env=dict(GIT_ENV, BENCH_SECRET=SECRET, BENCH_CHAT_URL=url), text=True)
    ready = watch.stdout.readline()
    base = "http://127.0.0.1:" + ready.split("127.0.0.1:")[1].split(",")[0]
    db = os.path.join(state, "sluice.sqlite")
    wait_for("the first verdict", lambda: os.path.exists(db) and count(db, "SELECT count(*) FROM reports WHERE kind = 'gate'") == 1)
    return watch, base, db, src


def verdict_latencies(base, db, src, name):
    latencies = []
    for n in range(PUSHES):
        open(os.path.join(src, "README.md"), "w").write(f"change {n}\n")
        git("add", "-A", cwd=src)
        git("commit", "-q", "-m", f"change {n}", cwd=src)
        body = b'{"ref": "refs/heads/main"}'
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(f"{base}/webhooks/{name}", data=body, method="POST",
                                         headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": signature})
        before = count(db, "SELECT count(*) FROM reports WHERE kind = 'gate'")
        start = time.perf_counter()
        urllib.request.urlopen(request).read()
        wait_for("the verdict", lambda: count(db, "SELECT count(*) FROM reports WHERE kind = 'gate'") > before)
        latencies.append(time.perf_counter() - start)
    return statistics.median(latencies)


with tempfile.TemporaryDirectory() as folder:
    # (1) Throughput.
    fast = receiver(0)
    url = f"http://127.0.0.1:{fast.server_address[1]}/slack"
    watch, _, db, _ = controller(folder, "throughput", url)
    try:
        delivered = lambda: count(db, "SELECT count(*) FROM notification_deliveries WHERE state = 'delivered'")
        wait_for("the first verdict's event", lambda: delivered() >= 1)
        already = delivered()
        start = time.perf_counter()
        record(db, 0, EVENTS)
        wait_for(f"{EVENTS} deliveries", lambda: delivered() >= already + EVENTS)
        sluice_rate = EVENTS / (time.perf_counter() - start)
    finally:
        watch.terminate()
        watch.wait()
    bodies = [json.dumps({"text": e["title"], "blocks": [{"type": "header", "text": {"type": "plain_text", "text": e["title"][:150]}}]}).encode()
              for e in map(event, range(EVENTS))]
    connection = http.client.HTTPConnection("127.0.0.1", fast.server_address[1])
    start = time.perf_counter()
    for body in bodies:
        connection.request("POST", "/slack", body=body, headers={"Content-Type": "application/json"})
        connection.getresponse().read()
    peer_rate = EVENTS / (time.perf_counter() - start)
    print(f"| notifications delivered to a local Slack-shaped receiver, {EVENTS} events (each attempt recorded durably before the next) "
          f"| {sluice_rate:.0f} events/s | {peer_rate:.0f} events/s | Python http.client, one keep-alive connection, nothing recorded "
          f"| {peer_rate / sluice_rate:.2f}x |")

    # (2) A slow receiver with a backlog does not slow a verdict.
    slow = receiver(2.0)
    watch, base, db, src = controller(folder, "backlog", f"http://127.0.0.1:{slow.server_address[1]}/slack")
    try:
        record(db, 10_000, BACKLOG)
        wait_for("the backlog routed", lambda: count(db, "SELECT count(*) FROM notification_events WHERE routed = 0") == 0)
        with_backlog = verdict_latencies(base, db, src, "backlog")
        pending = count(db, "SELECT count(*) FROM notification_deliveries WHERE state = 'pending'")
    finally:
        watch.terminate()
        watch.wait()
    watch, base, db, src = controller(folder, "empty", url)
    try:
        without = verdict_latencies(base, db, src, "empty")
    finally:
        watch.terminate()
        watch.wait()
    print(f"| push + webhook to gate report stored with {BACKLOG} events waiting for a receiver taking 2 s each ({pending} still pending after; median of {PUSHES}) "
          f"| {with_backlog * 1000:.0f} ms | {without * 1000:.0f} ms | the same controller, empty outbox, fast receiver | {without / with_backlog:.2f}x |")
