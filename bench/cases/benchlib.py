"""Shared helpers for the benchmark cases: timing commands and printing table rows."""
import os
import statistics
import subprocess
import time

SLUICE = os.environ.get("SLUICE_BIN", ".build/release/sluice")


def median_seconds(argv, repeat=7, cwd=None, expect=(0,)):
    """Median wall time of running argv `repeat` times (after one warm-up run)."""
    times = []
    for i in range(repeat + 1):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        if done.returncode not in expect:
            raise SystemExit(f"{argv[0]} exited {done.returncode}: {done.stderr.decode()[-500:]}")
        if i:
            times.append(elapsed)
    return statistics.median(times)


GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@e", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@e")
TICK = os.sysconf("SC_CLK_TCK")


def git(*args, cwd=None):
    """Runs git with a fixed author; returns its output."""
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True).stdout.strip()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """User + system CPU seconds a running process has used so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def row(name, sluice_s, peer_s, peer_tool):
    print(f"| {name} | {sluice_s * 1000:.1f} ms | {peer_s * 1000:.1f} ms | {peer_tool} | {peer_s / sluice_s:.2f}x |")


EMULATOR = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SluiceTestSupport", "kube_emulator.py")


def emulator(folder, name, minor="32", flags=()):
    """A fresh Kubernetes API emulator and a kubeconfig for it (namespace `bench`): (process, port, kubeconfig)."""
    import sys
    process = subprocess.Popen([sys.executable, "-u", EMULATOR, minor, "--namespaces=bench", *flags],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(process.stdout.readline().split()[1])
    config = os.path.join(folder, f"{name}.kubeconfig")
    with open(config, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters: [ {{ name: e, cluster: {{ server: "http://127.0.0.1:{port}" }} }} ]
users: [ {{ name: u, user: {{ token: t }} }} ]
contexts: [ {{ name: e, context: {{ cluster: e, user: u, namespace: bench }} }} ]
current-context: e
""")
    return process, port, config
