"""Drawing a declared plot of 10,000 rows: `sluice report RUN --charts DIR` (reads the run's
stored plot data and writes every chart of the run as SVG: the 10,000-point loss curve, a
confusion matrix of 10,000 predictions, each gated metric) against `dvc plots show` rendering
the same two files from a DVC project (its HTML with the Vega-Lite specs and the data)."""
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import SLUICE, git, median_seconds  # noqa: E402

ROWS = int(os.environ.get("SLUICE_BENCH_PLOT_ROWS", "10000"))

with tempfile.TemporaryDirectory() as folder:
    src = os.path.join(folder, "repo")
    os.makedirs(os.path.join(src, "data"))
    rng = random.Random(7)
    with open(os.path.join(src, "data", "loss.csv"), "w") as f:
        f.write("step,loss\n" + "".join(f"{i},{2.5 * 0.9995 ** i + rng.random() * 0.05:.5f}\n" for i in range(ROWS)))
    labels = ["setosa", "versicolor", "virginica", "other"]
    with open(os.path.join(src, "data", "confusion.csv"), "w") as f:
        f.write("actual,predicted\n" + "".join(f"{a},{a if rng.random() < 0.9 else rng.choice(labels)}\n"
                                               for a in (rng.choice(labels) for _ in range(ROWS))))
    open(os.path.join(src, "sluice.yaml"), "w").write(
        "version: 1\nstages:\n  train:\n    run: [sh, -c, \"mkdir -p plots && cp data/*.csv plots/ && echo '{\\\"accuracy\\\": 0.9}' > m.json\"]\n"
        "    metrics: m.json\n    plots:\n      - { file: plots/loss.csv, x: step, y: loss, title: Loss }\n"
        "      - { file: plots/confusion.csv, x: actual, y: predicted, template: confusion, title: Confusion }\n"
        "gate: { policy: policy.yaml, model: bench }\n")
    open(os.path.join(src, "policy.yaml"), "w").write("rules:\n  - { metric: accuracy, direction: higher, min: 0.5 }\n")
    git("init", "-q", "-b", "main", cwd=src)
    git("add", "-A", cwd=src)
    git("commit", "-q", "-m", "plots", cwd=src)
    # The peer's project: the same two files, declared in dvc.yaml (a copy, so Sluice draws each plot once).
    project = os.path.join(folder, "dvc-project")
    shutil.copytree(os.path.join(src, "data"), os.path.join(project, "data"))
    open(os.path.join(project, "dvc.yaml"), "w").write(
        "plots:\n  - data/loss.csv:\n      x: step\n      y: loss\n  - data/confusion.csv:\n      template: confusion\n      x: actual\n      y: predicted\n")
    git("init", "-q", "-b", "main", cwd=project)
    subprocess.run(["dvc", "init", "-q"], cwd=project, check=True)
    state = os.path.join(folder, "state")
    subprocess.run([SLUICE, "run", "--repo", src, "--state", state], check=True, capture_output=True)
    sluice = median_seconds([SLUICE, "report", "1", "--charts", os.path.join(folder, "charts"), "--state", state], repeat=11)
    # The same command without --charts: what drawing adds to it (reading and decoding the stored
    # rows, drawing, writing the files), without the process start both share.
    plain = median_seconds([SLUICE, "report", "1", "--state", state], repeat=11)
    dvc = median_seconds(["dvc", "plots", "show", "-o", os.path.join(folder, "dvc_plots")], cwd=project, repeat=5)
    print(f"| a declared plot of {ROWS:,} rows drawn as SVG (a loss curve and a confusion matrix of {ROWS:,} rows each, "
          f"plus the metric chart; the whole command {sluice * 1000:.0f} ms, of which drawing, target < 100 ms) | {(sluice - plain) * 1000:.0f} ms "
          f"| {dvc * 1000:.0f} ms | dvc plots show (Vega-Lite HTML), the whole command | {dvc / sluice:.1f}x (whole commands) |")
