"""From "a new commit is present" to "plan printed", for a commit that changes 10 files
in a large repository: `sluice plan` versus the git processes a shell-script controller
would run for the same facts (`git diff --name-only` + `git rev-parse HEAD:data`).

Scale with SLUICE_BENCH_FILES (default 100000), SLUICE_BENCH_COMMITS (default 5000)
and SLUICE_BENCH_DATA_MB (default 1024)."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import SLUICE, instruction_row, median_seconds, row  # noqa: E402

FILES = int(os.environ.get("SLUICE_BENCH_FILES", "100000"))
COMMITS = int(os.environ.get("SLUICE_BENCH_COMMITS", "5000"))
DATA_MB = int(os.environ.get("SLUICE_BENCH_DATA_MB", "1024"))

SPEC = b"""version: 1
datasets:
  big: { path: data }
stages:
  lint: { run: ruff check src, when: { paths: ["src/**"] } }
  test: { run: pytest -q, needs: [lint] }
  train:
    run: [python, src/train.py]
    needs: [test]
    when: { datasets: [big], paths: ["src/**", "params.yaml"] }
    outputs: [model/]
  evaluate: { run: python src/evaluate.py, needs: [train], metrics: metrics.json }
"""


def blob(out, data):
    out.write(b"data %d\n" % len(data))
    out.write(data)
    out.write(b"\n")


def generate(repo):
    """Writes the history with `git fast-import`: one big first commit, then small ones."""
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
    fi = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=repo, stdin=subprocess.PIPE)
    out = fi.stdin
    chunk = os.urandom(1 << 20)
    when = 1700000000
    for c in range(COMMITS):
        out.write(b"commit refs/heads/main\n")
        out.write(b"committer Bench <bench@example.com> %d +0000\n" % (when + c))
        blob(out, b"commit %d" % c)
        if c == 0:
            out.write(b"M 100644 inline sluice.yaml\n")
            blob(out, SPEC)
            for i in range(FILES):
                out.write(b"M 100644 inline src/pkg%d/mod%d.py\n" % (i % 1000, i))
                blob(out, b"# module %d\nVALUE = %d\n" % (i, i))
            for i in range(DATA_MB):
                out.write(b"M 100644 inline data/part-%05d.bin\n" % i)
                blob(out, chunk[i % 64:] + chunk[: i % 64])
        else:
            # 10 files per commit; every 10th commit also touches the dataset.
            for k in range(10):
                i = (c * 10 + k) % FILES
                path = b"data/part-%05d.bin" % (c % max(DATA_MB, 1)) if (k == 0 and c % 10 == 0 and DATA_MB) else b"src/pkg%d/mod%d.py" % (i % 1000, i)
                out.write(b"M 100644 inline " + path + b"\n")
                blob(out, b"# changed in %d\nVALUE = %d\n" % (c, i))
    out.close()
    if fi.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)


DVC_YAML = """stages:
  lint:
    cmd: ruff check src
    deps: [src]
  train:
    cmd: python src/train.py
    deps: [src, data, params.yaml]
    outs: [model]
"""


def dvc_status_seconds(repo):
    """The same pipeline declared for DVC: `dvc status` after the last commit."""
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    with open(os.path.join(repo, "params.yaml"), "w") as handle:
        handle.write("lr: 0.1\n")
    with open(os.path.join(repo, "dvc.yaml"), "w") as handle:
        handle.write(DVC_YAML)
    os.makedirs(os.path.join(repo, "model"), exist_ok=True)
    with open(os.path.join(repo, "model", "weights.bin"), "wb") as handle:
        handle.write(b"w")
    subprocess.run(["dvc", "init", "-q"], cwd=repo, check=True, env=env)
    subprocess.run(["dvc", "commit", "-q", "-f"], cwd=repo, check=True, env=env)
    return median_seconds(["dvc", "status", "-q"], cwd=repo, repeat=3, expect=(0, 1))


with tempfile.TemporaryDirectory() as folder:
    repo = os.path.join(folder, "repo")
    generate(repo)
    ours = median_seconds([SLUICE, "plan", "--repo", repo, "--state", os.path.join(folder, "state")], repeat=9)
    script = "git diff --name-only HEAD~1 HEAD >/dev/null && git rev-parse HEAD:data >/dev/null"
    peer = median_seconds(["sh", "-c", script], cwd=repo, repeat=9)
    name = f"plan a 10-file commit ({FILES} files, {COMMITS} commits, {DATA_MB} MB data)"
    row(name, ours, peer, "git diff --name-only + git rev-parse")
    instruction_row(name, [SLUICE, "plan", "--repo", repo, "--state", os.path.join(folder, "state")])
    if shutil.which("dvc"):
        row(name, ours, dvc_status_seconds(repo), "dvc status (same pipeline in dvc.yaml)")
    else:
        print("| dvc status | SKIPPED: dvc not installed | | | |")
