"""Computes scipy's one-sided Mann-Whitney U test for ComparisonStatisticsTests to compare.

usage: mann_whitney_reference.py < cases.json
cases.json: [{"x": [...], "y": [...], "alternative": "greater" | "less"}, ...]
prints JSON: [{"u": U of x, "p": one-sided p}, ...], with the asymptotic method and the
continuity correction (ties corrected), as Sluice computes them.
"""
import json, sys
from scipy import stats

out = []
for case in json.load(sys.stdin):
    r = stats.mannwhitneyu(case["x"], case["y"], alternative=case["alternative"], use_continuity=True, method="asymptotic")
    out.append({"u": float(r.statistic), "p": float(r.pvalue)})
print(json.dumps(out))
