"""Shared helpers for the benchmark cases: timing commands and printing table rows."""
import os
import shutil
import statistics
import subprocess
import tempfile
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


def measure(argv, expect=(0, 1)):
    """Wall seconds, CPU seconds (user + sys) and peak RSS (MB) of one run of argv, which must
    exit with one of `expect` (validate-data exits 1 when a check fails); output discarded."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execv(argv[0], argv)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in expect:
        raise SystemExit(f"{argv[:2]} exited {code}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


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


TOOLS = os.path.join(os.path.dirname(__file__), "..", "tools")
_STRIPPED = {}


def _callgrind_ready(binary):
    """A copy of `binary` without DWARF (valgrind 3.19 cannot read Swift 6's DWARF 5 and gives
    up; the symbol table stays, so profiles keep their names) and the sigsuspend shim."""
    import shutil
    import tempfile
    if binary not in _STRIPPED:
        folder = tempfile.mkdtemp(prefix="sluice-callgrind-")
        copy = os.path.join(folder, os.path.basename(binary))
        shutil.copy(binary, copy)
        subprocess.run(["strip", "--strip-debug", copy], check=True)
        shim = os.path.join(folder, "sigsuspend_copy.so")
        compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        subprocess.run([compiler, "-O2", "-shared", "-fPIC", os.path.join(TOOLS, "sigsuspend_copy.c"), "-o", shim], check=True)
        _STRIPPED[binary] = (copy, shim)
    return _STRIPPED[binary]


def instructions(argv, cwd=None, expect=(0,), binary=None):
    """Instructions executed by one run of argv (callgrind's Ir, all threads), or None without
    valgrind. argv[0] must be the sluice binary (`binary`, default SLUICE). Unlike seconds, the
    count is the same on a busy or a quiet machine, so a before/after pair is comparable."""
    import re
    import shutil
    import tempfile
    if not shutil.which("valgrind"):
        return None
    copy, shim = _callgrind_ready(os.path.abspath(binary or SLUICE))
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "callgrind.out")
        done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", copy, *argv[1:]],
                              cwd=cwd, env=dict(os.environ, LD_PRELOAD=shim),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode not in expect:
            raise SystemExit(f"callgrind {argv[1:3]} exited {done.returncode}: {done.stderr[-800:]}")
        found = re.search(r"Collected : (\d+)", done.stderr)
        return int(found.group(1)) if found else None


BASELINE = os.environ.get("SLUICE_BASELINE_BIN")


def instruction_row(name, argv, cwd=None, expect=(0,)):
    """A row with the instruction count of argv, and of the same command with the binary in
    SLUICE_BASELINE_BIN (an earlier build) when that is set: before/after in one run."""
    ours = instructions(argv, cwd=cwd, expect=expect)
    if ours is None:
        print(f"| {name}: instructions | SKIPPED: valgrind not installed | | | |")
        return
    if BASELINE:
        before = instructions(argv, cwd=cwd, expect=expect, binary=BASELINE)
        print(f"| {name}: instructions (callgrind) | {ours / 1e9:.3f} G | {before / 1e9:.3f} G | "
              f"before: the same command with SLUICE_BASELINE_BIN | {before / ours:.2f}x |")
    else:
        print(f"| {name}: instructions (callgrind) | {ours / 1e9:.3f} G | – | set SLUICE_BASELINE_BIN for before/after | – |")


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


class PostgresServer:
    """A real PostgreSQL (Debian's `postgresql`) on 127.0.0.1 and a free port in a folder of its
    own (one the `postgres` user can reach), for the cases that measure the run store in a
    database: `initdb`, `pg_ctl start` (as the `postgres` user when root, which PostgreSQL
    refuses to run as); `stop()` stops it and removes the folder."""

    def __init__(self):
        folder = tempfile.mkdtemp(prefix="sluice-bench-postgres-")
        versions = sorted(int(v) for v in os.listdir("/usr/lib/postgresql") if v.isdigit()) if os.path.isdir("/usr/lib/postgresql") else []
        if not versions:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = f"/usr/lib/postgresql/{versions[-1]}/bin"
        self.folder, self.port = folder, free_port()
        self.prefix = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"] if os.getuid() == 0 else []
        if os.getuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        data = os.path.join(folder, "data")
        subprocess.run(self.prefix + [f"{self.bin}/initdb", "-D", data, "-U", "sluice", "--auth=trust", "--locale=C", "-E", "UTF8"],
                       check=True, capture_output=True)
        subprocess.run(self.prefix + [f"{self.bin}/pg_ctl", "-D", data, "-l", os.path.join(folder, "server.log"), "-w", "-o",
                                      f"-p {self.port} -c listen_addresses=127.0.0.1 -k {folder}", "start"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"postgres://sluice@127.0.0.1:{self.port}/postgres?sslmode=disable"

    def scalar(self, sql):
        out = subprocess.run([f"{self.bin}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "sluice", "-d", "postgres", "-X", "-A", "-t",
                              "-c", sql], capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else None

    def stop(self):
        subprocess.run(self.prefix + [f"{self.bin}/pg_ctl", "-D", os.path.join(self.folder, "data"), "-m", "fast", "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.folder, ignore_errors=True)
