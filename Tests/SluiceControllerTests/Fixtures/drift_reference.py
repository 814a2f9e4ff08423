"""Computes the drift numbers with scipy/numpy for DataValidationTests to compare.

usage: drift_reference.py REFERENCE.csv CURRENT.csv NUMERIC_COLUMN CATEGORICAL_COLUMN BINS
prints JSON: ks statistic, kstwobign p-value, psi (numeric, categorical), chisquare stat and p.
"""
import csv, json, sys
import numpy as np
from scipy import stats

FLOOR = 1e-4

def column(path, name):
    with open(path, newline="") as f:
        return [row[name] for row in csv.DictReader(f)]

def psi(ref_counts, cur_counts):
    r = np.maximum(np.asarray(ref_counts, float) / sum(ref_counts), FLOOR)
    c = np.maximum(np.asarray(cur_counts, float) / sum(cur_counts), FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))

ref_path, cur_path, num, cat, bins = sys.argv[1:6]
bins = int(bins)
ref = np.array([float(x) for x in column(ref_path, num)])
cur = np.array([float(x) for x in column(cur_path, num)])
ks = stats.ks_2samp(ref, cur)
en = len(ref) * len(cur) / (len(ref) + len(cur))
edges = []
for k in range(1, bins):
    q = float(np.quantile(np.sort(ref), k / bins))
    if not edges or edges[-1] != q:
        edges.append(q)
bin_of = lambda xs: np.bincount(np.searchsorted(edges, xs, side="left"), minlength=len(edges) + 1)

ref_cat = column(ref_path, cat)
cur_cat = column(cur_path, cat)
names = list(dict.fromkeys(ref_cat)) + [c for c in dict.fromkeys(cur_cat) if c not in set(ref_cat)]
ref_counts = [ref_cat.count(n) for n in names]
cur_counts = [cur_cat.count(n) for n in names]
p = np.maximum(np.asarray(ref_counts, float) / sum(ref_counts), FLOOR)
expected = p / p.sum() * sum(cur_counts)
chi = stats.chisquare(np.asarray(cur_counts, float), expected)

print(json.dumps({
    "ks": float(ks.statistic),
    "ks_p": float(stats.kstwobign.sf(np.sqrt(en) * ks.statistic)),
    "psi_numeric": psi(bin_of(ref), bin_of(cur)),
    "psi_categorical": psi(ref_counts, cur_counts),
    "chi2": float(chi.statistic),
    "chi2_p": float(chi.pvalue),
}))
