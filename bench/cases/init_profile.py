"""`sluice init`'s schema inference (a data schema from the data: types, null rates, ranges,
categories, uniqueness) versus pandas profiling the same rows the same way, on three shapes of
data users have: a numeric table with a few categories, a wide table with missing values, and a
text-heavy table with ids and free text. Sluice reads at most the first 1,000,000 rows of a file;
pandas reads the same rows (`nrows`).

SLUICE_BENCH_INIT_ROWS sets the rows of each file (default 1,000,000).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import SLUICE, git, median_seconds  # noqa: E402

ROWS = int(os.environ.get("SLUICE_BENCH_INIT_ROWS", "1000000"))


def numeric(rows, rng):
    frame = {f"n{i}": rng.normal(10 * i, 1 + i, rows).round(4) for i in range(10)}
    for i in range(5):
        frame[f"c{i}"] = rng.choice(["alpha", "beta", "gamma", "delta"], rows)
    return pd.DataFrame(frame)


def wide(rows, rng):
    frame = {}
    for i in range(100):
        kind = i % 4
        values = (rng.integers(0, 1000, rows) if kind == 0 else rng.normal(0, 1, rows).round(3) if kind == 1
                  else rng.choice(["yes", "no"], rows) if kind == 2 else rng.choice([f"k{j}" for j in range(12)], rows))
        column = pd.Series(values, dtype=object)
        column[rng.random(rows) < 0.05] = None  # 5% missing
        frame[f"f{i}"] = column
    return pd.DataFrame(frame)


def text(rows, rng):
    words = np.array("the model data drift label review sample batch error score".split())
    return pd.DataFrame({
        "id": np.arange(rows),
        "user": [f"u{n:07d}" for n in rng.integers(0, 10_000_000, rows)],
        "day": pd.to_datetime(rng.integers(1_600_000_000, 1_700_000_000, rows), unit="s").strftime("%Y-%m-%d"),
        "comment": [" ".join(rng.choice(words, 8)) for _ in range(rows)],
        "rating": rng.integers(1, 6, rows),
    })


PEER = r"""
import sys
import pandas as pd
path, rows = sys.argv[1], int(sys.argv[2])
frame = pd.read_csv(path, nrows=rows, keep_default_na=False, na_values=["", "NA", "null"], low_memory=False)
schema = {}
for name in frame.columns:
    column = frame[name]
    present = column.dropna()
    entry = {"nulls": float(column.isna().mean())}
    if pd.api.types.is_bool_dtype(present) or set(present.astype(str).str.lower().unique()) <= {"true", "false"}:
        entry["type"] = "boolean"
    elif pd.api.types.is_integer_dtype(present):
        entry.update(type="integer", min=int(present.min()), max=int(present.max()))
    elif pd.api.types.is_float_dtype(present):
        entry.update(type="number", min=float(present.min()), max=float(present.max()))
    else:
        counts = present.value_counts()
        entry["type"] = "string"
        if len(counts) <= 20 and len(present) >= 2 * len(counts):
            entry["allowed"] = sorted(counts.index)
    entry["unique"] = bool(column.notna().all() and column.is_unique)
    schema[name] = entry
print(len(schema), "columns")
"""


def main():
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="sluice-bench-init") as work:
        for label, make, rows in [("10 numeric + 5 categorical columns", numeric, ROWS),
                                  ("100 mixed columns, 5% missing", wide, max(ROWS // 5, 1)),
                                  ("ids, dates and free text", text, max(ROWS // 2, 1))]:
            repo = os.path.join(work, label.split()[0] + "-" + str(rows))
            os.makedirs(os.path.join(repo, "data"))
            data = os.path.join(repo, "data", "table.csv")
            make(rows, rng).to_csv(data, index=False)
            git("init", "-q", repo)
            size = os.path.getsize(data) / 1e6
            ours = median_seconds([SLUICE, "init", repo, "--force"], repeat=3)
            peer = median_seconds([sys.executable, "-c", PEER, data, str(rows)], repeat=3)
            print(f"| sluice init: schema of a {size:.0f} MB CSV, {rows:,} rows, {label} | {ours * 1000:.0f} ms | {peer * 1000:.0f} ms | "
                  f"pandas read_csv + per-column profile | {peer / ours:.2f}x |")


if __name__ == "__main__":
    main()
