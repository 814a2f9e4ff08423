"""Data validation of a large CSV (10 numeric + 5 categorical columns) with schema checks
and drift against an equally large reference: `sluice validate-data` versus pandas + scipy
doing the same checks (types, nulls, bounds, allowed values, PSI, KS, chi-squared) in the
same run. Also peak RSS of Sluice at 1/10 of the size and at full size (streaming: flat).

SLUICE_BENCH_DATA_MB sets the size of each file (default 1000); the instruction count
(callgrind) reads files of SLUICE_BENCH_CALLGRIND_MB (default 50).
"""
import os
import sys
import tempfile

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import SLUICE, instruction_row, measure  # noqa: E402

SIZE_MB = int(os.environ.get("SLUICE_BENCH_DATA_MB", "1000"))
# Instruction counts grow with the size; callgrind runs some 50x slower, so it reads smaller files.
COUNT_MB = int(os.environ.get("SLUICE_BENCH_CALLGRIND_MB", "50"))
NUMERIC = [f"n{i}" for i in range(10)]
CATEGORICAL = [f"c{i}" for i in range(5)]
LEVELS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]

SCHEMA = "columns:\n" + "".join(f"  {c}: {{ type: number, min: -1000, max: 1000 }}\n" for c in NUMERIC) + "".join(
    f"  {c}: {{ type: string, allowed: [{', '.join(LEVELS)}] }}\n" for c in CATEGORICAL)


def block(seed, shift, rows=200_000):
    rng = np.random.default_rng(seed)
    frame = {c: rng.normal(loc=shift * i / 10, scale=10 + i, size=rows).round(4) for i, c in enumerate(NUMERIC)}
    for i, c in enumerate(CATEGORICAL):
        p = np.array([6, 5, 4, 3, 2, 1], float) + shift * i
        frame[c] = rng.choice(LEVELS, size=rows, p=p / p.sum())
    return pd.DataFrame(frame).to_csv(index=False)


def write(path, seed, shift, megabytes):
    """Repeats one generated block (distinct blocks cost minutes to format in pandas)."""
    text = block(seed, shift)
    header, body = text.split("\n", 1)
    with open(path, "w") as out:
        out.write(header + "\n")
        written = 0
        while written < megabytes * 1e6:
            out.write(body)
            written += len(body)


PEER = r"""
import sys, json
import numpy as np, pandas as pd
from scipy import stats
data, ref = sys.argv[1], sys.argv[2]
numeric = [f"n{i}" for i in range(10)]; categorical = [f"c{i}" for i in range(5)]
levels = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
r = pd.read_csv(ref); d = pd.read_csv(data)
failures = {}
for c in numeric:
    v = pd.to_numeric(d[c], errors="coerce")
    failures[c] = int(v.isna().sum() + ((v < -1000) | (v > 1000)).sum())
for c in categorical:
    failures[c] = int(d[c].isna().sum() + (~d[c].isin(levels)).sum())
floor = 1e-4
def psi(a, b):
    a = np.maximum(a / a.sum(), floor); b = np.maximum(b / b.sum(), floor)
    return float(np.sum((b - a) * np.log(b / a)))
drift = {}
for c in numeric:
    x, y = r[c].to_numpy(), d[c].to_numpy()
    edges = np.unique(np.quantile(x, np.arange(1, 10) / 10))
    bins = lambda z: np.bincount(np.searchsorted(edges, z, side="left"), minlength=len(edges) + 1)
    drift[c] = (psi(bins(x), bins(y)), float(stats.ks_2samp(x, y).statistic))
for c in categorical:
    rc, dc = r[c].value_counts(), d[c].value_counts()
    names = list(rc.index) + [n for n in dc.index if n not in rc.index]
    a = np.array([rc.get(n, 0) for n in names], float); b = np.array([dc.get(n, 0) for n in names], float)
    p = np.maximum(a / a.sum(), floor); exp = p / p.sum() * b.sum()
    drift[c] = (psi(a, b), float(stats.chisquare(b, exp).statistic))
print(json.dumps({"rows": len(d), "failures": failures, "drift": drift}))
"""


with tempfile.TemporaryDirectory() as folder:
    schema = os.path.join(folder, "schema.yaml")
    with open(schema, "w") as f:
        f.write(SCHEMA)
    results = {}
    for size in (max(1, SIZE_MB // 10), SIZE_MB):
        ref, cur = os.path.join(folder, f"ref{size}.csv"), os.path.join(folder, f"cur{size}.csv")
        write(ref, 1, 0.0, size)
        write(cur, 2, 0.3, size)
        megabytes = (os.path.getsize(ref) + os.path.getsize(cur)) / 1e6
        ours = measure([SLUICE, "validate-data", cur, "--schema", schema, "--reference", ref, "--format", "json"])
        results[size] = (megabytes, ours)
        if size == SIZE_MB:
            peer = measure([sys.executable, "-c", PEER, cur, ref], expect=(0,))
        os.remove(ref)
        os.remove(cur)
    megabytes, (wall, cpu, rss) = results[SIZE_MB]
    peer_wall, peer_cpu, peer_rss = peer
    print(f"| validate-data: {megabytes / 2:.0f} MB CSV + {megabytes / 2:.0f} MB reference, schema checks + PSI/KS/chi2 | "
          f"{wall:.2f} s wall, {megabytes / cpu:.0f} MB/s per core ({megabytes / wall:.0f} MB/s on {os.cpu_count()} cores) | "
          f"{peer_wall:.2f} s wall, {megabytes / peer_cpu:.0f} MB/s per core | pandas + scipy | {peer_wall / wall:.2f}x |")
    small_mb, small = results[max(1, SIZE_MB // 10)]
    print(f"| validate-data peak RSS: {small_mb / 2:.0f} MB vs {megabytes / 2:.0f} MB files | {small[2]:.0f} MB vs {rss:.0f} MB | "
          f"{peer_rss:.0f} MB at {megabytes / 2:.0f} MB | pandas + scipy | {peer_rss / rss:.1f}x less memory |")
    ref, cur = os.path.join(folder, "ref-count.csv"), os.path.join(folder, "cur-count.csv")
    write(ref, 1, 0.0, COUNT_MB)
    write(cur, 2, 0.3, COUNT_MB)
    instruction_row(f"validate-data: {os.path.getsize(cur) / 1e6:.0f} MB CSV + {os.path.getsize(ref) / 1e6:.0f} MB reference",
                    [SLUICE, "validate-data", cur, "--schema", schema, "--reference", ref, "--format", "json"], expect=(0, 1))
