"""`sluice validate-data` on the shapes of data users have, not one: each shape is a data file
and a reference file of SLUICE_BENCH_SHAPE_MB megabytes each (default 200), checked against its
schema (types, nulls, bounds, allowed values, uniqueness) with drift against the reference
(PSI and KS for numbers, PSI and chi-squared for categories), by Sluice and by pandas + scipy
doing the same checks in the same run. One row per shape (MB/s per core and CPU ratio), then
the worst and the median shape. SLUICE_BENCH_SHAPES=name,name picks shapes.
"""
import json
import os
import statistics
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import SLUICE, measure  # noqa: E402

SIZE_MB = int(os.environ.get("SLUICE_BENCH_SHAPE_MB", "200"))
BLOCK_ROWS = 100_000
LEVELS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
WORDS = ["red", "large", "blue", "small", "returned", "gift", "express", "fragile", "late", "new"]


def fmt(values, spec):
    return [format(v, spec) for v in values]


def skewed(rng, levels, shift, rows):
    p = np.arange(len(levels), 0, -1, dtype=float) + shift * np.arange(len(levels))
    return rng.choice(levels, size=rows, p=p / p.sum())


def texts(rng, rows, quote_inside=False):
    """Free text of two to four words with a comma (and, if asked, a quoted word), CSV-quoted."""
    a, b, c = (rng.choice(WORDS, size=rows) for _ in range(3))
    n = rng.integers(0, 1000, size=rows)
    if quote_inside:
        return [f'"{x}, {y} and ""{z}"" no. {k}"' for x, y, z, k in zip(a, b, c, n)]
    return [f'"{x}, {y}, {z} #{k}"' for x, y, z, k in zip(a, b, c, n)]


def columns_to_lines(cols):
    return [",".join(row) for row in zip(*cols)]


# Each shape: schema columns (name -> schema entry), whether the first column is a unique id
# (renumbered in every repeated block), the format, and a block of rows (lines without the id).
def benchmark_shape(rng, shift, rows):
    cols = [fmt(rng.normal(shift * i / 10, 10 + i, rows).round(4), "") for i in range(10)]
    cols += [list(skewed(rng, LEVELS, shift * i, rows)) for i in range(5)]
    return columns_to_lines(cols)


def hard_shape(rng, shift, rows):
    cols = [fmt(rng.exponential(1 + i + shift, rows), ".6f") for i in range(3)]
    cols.append([str(v) for v in rng.integers(0, 1000, rows)])
    cols.append(texts(rng, rows))
    return columns_to_lines(cols)


def scientific_shape(rng, shift, rows):
    cols = [fmt(rng.standard_normal(rows) * 10.0 ** rng.uniform(-8 + shift, 8, rows), ".6e") for _ in range(6)]
    cols += [[repr(float(v)) for v in rng.normal(-shift, 1, rows)] for _ in range(4)]
    return columns_to_lines(cols)


def wide_shape(rng, shift, rows):
    cols = []
    for i in range(100):
        if i % 2:
            cols.append([str(v) for v in rng.integers(-50, 50 + int(10 * shift), rows)])
        else:
            cols.append(fmt(rng.normal(shift, 1, rows).round(2), ""))
    return columns_to_lines(cols)


def quoted_shape(rng, shift, rows):
    cols = [texts(rng, rows, quote_inside=True) for _ in range(3)]
    cols += [[f'"{v}"' for v in skewed(rng, LEVELS, shift * i, rows)] for i in range(3)]
    cols += [fmt(rng.normal(shift, 5, rows).round(3), "") for _ in range(3)]
    return columns_to_lines(cols)


def nulls_shape(rng, shift, rows):
    """A fifth of the values missing: a third of those written NA, the rest empty."""
    cols = []
    for i in range(15):
        values = fmt(rng.normal(shift * i / 10, 10, rows).round(4), "") if i < 10 else skewed(rng, LEVELS, shift * i, rows)
        holes = rng.random(rows)
        cols.append([("NA" if h < 0.066 else "") if h < 0.2 else v for h, v in zip(holes, values)])
    return columns_to_lines(cols)


def many_categories_shape(rng, shift, rows):
    cols = []
    for i, n in enumerate((2_000, 5_000, 10_000, 20_000, 50_000)):
        k = np.minimum((rng.zipf(1.3 + shift / 10, rows) - 1) % n, n - 1)
        cols.append([f"item_{i}_{v}" for v in k])
    cols += [fmt(rng.normal(shift, 3, rows).round(3), "") for _ in range(3)]
    return columns_to_lines(cols)


def jsonl_shape(rng, shift, rows):
    x = [rng.normal(shift, 10 + i, rows).round(4) for i in range(4)]
    c = [skewed(rng, LEVELS, shift * i, rows) for i in range(2)]
    flag = rng.random(rows) < 0.5
    score = rng.random(rows)
    lines = []
    for r in range(rows):
        s = "null" if score[r] < 0.1 else f"{score[r]:.5f}"
        lines.append(f'"x0": {x[0][r]}, "x1": {x[1][r]}, "x2": {x[2][r]}, "x3": {x[3][r]}, '
                     f'"c0": "{c[0][r]}", "c1": "{c[1][r]}", "flag": {"true" if flag[r] else "false"}, "score": {s}}}')
    return lines


def num(lo=None, hi=None, kind="number", nullable=False):
    entry = {"type": kind}
    if lo is not None:
        entry["min"], entry["max"] = lo, hi
    if nullable:
        entry["nullable"] = True
    return entry


SHAPES = {
    "benchmark": ("10 numbers (4 decimals), 5 short categories (the first benchmark's shape)", "csv", False,
                  {**{f"n{i}": num(-1000, 1000) for i in range(10)},
                   **{f"c{i}": {"type": "string", "allowed": LEVELS} for i in range(5)}}, benchmark_shape),
    "hard": ("a unique integer id, 6-decimal exponential numbers, a bounded integer, quoted text with commas", "csv", True,
             {"id": {"type": "integer", "unique": True}, **{f"x{i}": num(0, 1e6) for i in range(3)},
              "count": num(0, 999, "integer"), "note": {"type": "string", "drift": False}}, hard_shape),
    "scientific": ("scientific notation and negative numbers, 6 columns of %.6e and 4 of 17 digits", "csv", False,
                   {**{f"e{i}": num() for i in range(6)}, **{f"r{i}": num(-100, 100) for i in range(4)}}, scientific_shape),
    "wide": ("100 columns: small integers and 2-decimal numbers", "csv", False,
             {f"w{i}": (num(-100, 100, "integer") if i % 2 else num(-10, 10)) for i in range(100)}, wide_shape),
    "quoted": ("every text quoted, with delimiters and escaped quotes inside; quoted categories", "csv", False,
               {**{f"t{i}": {"type": "string", "drift": False} for i in range(3)},
                **{f"c{i}": {"type": "string", "allowed": LEVELS} for i in range(3)},
                **{f"n{i}": num(-100, 100) for i in range(3)}}, quoted_shape),
    "nulls": ("20 % missing values (empty and NA) in 10 numbers and 5 categories", "csv", False,
              {**{f"n{i}": num(-1000, 1000, nullable=True) for i in range(10)},
               **{f"c{i}": {"type": "string", "allowed": LEVELS, "nullable": True} for i in range(5)}}, nulls_shape),
    "categories": ("5 category columns of 2,000 to 50,000 levels (Zipf), 3 numbers", "csv", False,
                   {**{f"k{i}": {"type": "string"} for i in range(5)}, **{f"n{i}": num() for i in range(3)}},
                   many_categories_shape),
    "jsonl": ("JSON lines: a unique id, 4 numbers, 2 categories, a boolean, a nullable number", "jsonl", True,
              {"id": {"type": "integer", "unique": True}, **{f"x{i}": num(-1000, 1000) for i in range(4)},
               **{f"c{i}": {"type": "string", "allowed": LEVELS} for i in range(2)},
               "flag": {"type": "boolean"}, "score": num(0, 1, nullable=True)}, jsonl_shape),
}


def schema_yaml(fmt_name, columns):
    return json.dumps({"format": fmt_name, "columns": columns})  # JSON is YAML


def write(path, shape, seed, shift):
    """Repeats one generated block to the size (distinct blocks cost minutes in Python); a
    unique id is renumbered in every block, so it stays unique."""
    _, fmt_name, has_id, columns, block = SHAPES[shape]
    lines = block(np.random.default_rng(seed), shift, BLOCK_ROWS)
    names = list(columns)
    next_id = 0
    with open(path, "w") as out:
        if fmt_name == "csv":
            out.write(",".join(names) + "\n")
        body = "\n".join(lines) + "\n"
        written = 0
        while written < SIZE_MB * 1e6:
            if has_id:
                if fmt_name == "csv":
                    text = "".join(f"{next_id + k},{line}\n" for k, line in enumerate(lines))
                else:
                    text = "".join(f'{{"id": {next_id + k}, {line}\n' for k, line in enumerate(lines))
                next_id += len(lines)
            elif fmt_name == "jsonl":
                text = "".join("{" + line + "\n" for line in lines)
            else:
                text = body
            out.write(text)
            written += len(text)


PEER = r"""
import sys, json
import numpy as np, pandas as pd
from scipy import stats
fmt, columns, data, ref = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(path):
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_csv(path, keep_default_na=False, na_values=["", "NA", "null"], low_memory=False)
r, d = load(ref), load(data)
failures, drift = {}, {}
floor = 1e-4
def psi(a, b):
    a = np.maximum(a / a.sum(), floor); b = np.maximum(b / b.sum(), floor)
    return float(np.sum((b - a) * np.log(b / a)))
for name, c in columns.items():
    col = d[name]
    nulls = col.isna()
    f = 0 if c.get("nullable") else int(nulls.sum())
    if c["type"] in ("number", "integer"):
        v = pd.to_numeric(col, errors="coerce")
        f += int((v.isna() & ~nulls).sum())
        if c["type"] == "integer":
            f += int(((v % 1) != 0).sum())
        if "min" in c:
            f += int(((v < c["min"]) | (v > c["max"])).sum())
    elif c["type"] == "string" and "allowed" in c:
        f += int((~col.isin(c["allowed"]) & ~nulls).sum())
    elif c["type"] == "boolean":
        f += int((~col.isin([True, False]) & ~nulls).sum())
    if c.get("unique"):
        f += int(col[~nulls].duplicated().sum())
    failures[name] = f
    if c.get("unique") or not c.get("drift", True) or c["type"] == "boolean":
        continue
    if c["type"] in ("number", "integer"):
        x = pd.to_numeric(r[name], errors="coerce").dropna().to_numpy(); y = pd.to_numeric(col, errors="coerce").dropna().to_numpy()
        edges = np.unique(np.quantile(x, np.arange(1, 10) / 10))
        bins = lambda z: np.bincount(np.searchsorted(edges, z, side="left"), minlength=len(edges) + 1)
        drift[name] = (psi(bins(x), bins(y)), float(stats.ks_2samp(x, y).statistic))
    else:
        rc, dc = r[name].value_counts(), col.value_counts()
        names = list(rc.index) + [n for n in dc.index if n not in rc.index]
        a = np.array([rc.get(n, 0) for n in names], float); b = np.array([dc.get(n, 0) for n in names], float)
        p = np.maximum(a / a.sum(), floor); exp = p / p.sum() * b.sum()
        drift[name] = (psi(a, b), float(stats.chisquare(b, exp).statistic))
print(json.dumps({"rows": len(d), "failures": failures, "drift": drift}))
"""


def run_shape(folder, shape):
    title, fmt_name, _, columns, _ = SHAPES[shape]
    ext = "jsonl" if fmt_name == "jsonl" else "csv"
    ref, cur, schema = (os.path.join(folder, f"{shape}-{n}") for n in (f"ref.{ext}", f"cur.{ext}", "schema.yaml"))
    write(ref, shape, 1, 0.0)
    write(cur, shape, 2, 0.3)
    with open(schema, "w") as f:
        f.write(schema_yaml(fmt_name, columns))
    megabytes = (os.path.getsize(ref) + os.path.getsize(cur)) / 1e6
    wall, cpu, rss = measure([SLUICE, "validate-data", cur, "--schema", schema, "--reference", ref, "--format", "json"])
    peer_wall, peer_cpu, _ = measure([sys.executable, "-c", PEER, fmt_name, json.dumps(columns), cur, ref], expect=(0,))
    os.remove(ref)
    os.remove(cur)
    rate = megabytes / cpu
    print(f"| validate-data, shape '{shape}': {title}; {megabytes / 2:.0f} MB + {megabytes / 2:.0f} MB reference "
          f"(peak RSS {rss:.0f} MB) | {wall:.2f} s wall, {rate:.0f} MB/s per core | {peer_wall:.2f} s wall, "
          f"{megabytes / peer_cpu:.0f} MB/s per core | pandas + scipy | {peer_cpu / cpu:.2f}x CPU |", flush=True)
    return shape, rate, peer_cpu / cpu


chosen = [s for s in os.environ.get("SLUICE_BENCH_SHAPES", ",".join(SHAPES)).split(",") if s]
with tempfile.TemporaryDirectory() as folder:
    results = [run_shape(folder, s) for s in chosen]
rates = sorted(results, key=lambda r: r[1])
ratios = sorted(results, key=lambda r: r[2])
print(f"| validate-data over {len(results)} shapes: worst and median per core (targets >= 300 and >= 500 MB/s) | "
      f"worst {rates[0][1]:.0f} MB/s ('{rates[0][0]}'), median {statistics.median(r[1] for r in results):.0f} MB/s | – | "
      f"pandas + scipy | worst {ratios[0][2]:.2f}x ('{ratios[0][0]}'), median {statistics.median(r[2] for r in results):.2f}x CPU |")
