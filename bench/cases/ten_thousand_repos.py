"""A large installation on one replica: 10,000 repositories (SLUICE_BENCH_REPOS) served by
`git daemon`, a poll every 10 minutes (SLUICE_BENCH_INTERVAL, seconds), pushes announced by
signed GitHub webhooks. Measured: start-up until every repository is Ready and its first run
recorded (target < 3 min); the controller idle over SLUICE_BENCH_IDLE_SECONDS (default 300;
target < 2 % of a core); one `/metrics` scrape (target < 1 s, a few MB); the state folder per
repository; then one new commit on SLUICE_BENCH_CHANGED of them (default 1,000) at once, a
webhook each, until all their verdicts are stored (target < 60 s), and the peak RSS (target
< 400 MB). The peer: `git ls-remote` of each changed repository, one at a time (only noticing).
Takes about ten minutes; run it alone with `python3 bench/cases/ten_thousand_repos.py`."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from many_repos import run  # noqa: E402

repos = int(os.environ.get("SLUICE_BENCH_REPOS", "10000"))
interval = int(os.environ.get("SLUICE_BENCH_INTERVAL", "600"))
changed = min(repos, int(os.environ.get("SLUICE_BENCH_CHANGED", "1000")))
idle = max(1, int(os.environ.get("SLUICE_BENCH_IDLE_SECONDS", "300")))
f = run(repos, interval, changed, webhooks=True, idle_seconds=idle)
print(f"| {repos} repositories, a poll every {interval} s, pushes by webhook: one new commit on {changed} at once to all "
      f"their verdicts stored (target < 60 s; median {f['median']:.0f} s, slowest {f['slowest']:.0f} s; Sluice's CPU {f['cpu']:.0f} s; "
      f"peak RSS {f['peak']:.0f} MB, target < 400 MB; start-up to all Ready with first runs {f['startup']:.0f} s, target < 3 min, "
      f"peak {f['startup_peak']:.0f} MB; idle {100 * f['idle_cpu']:.2f} % of a core over {idle} s, target < 2 %, RSS {f['idle_rss']:.0f} MB; "
      f"/metrics {1000 * f['metrics_s']:.0f} ms, {f['metrics_mb']:.1f} MB; state folder {f['mirrors_mb']:.2f} MB per repository) "
      f"| {f['elapsed']:.1f} s | {f['peer']:.1f} s | git ls-remote of each changed repository, one at a time (only noticing) "
      f"| {f['peer'] / f['elapsed']:.2f}x |")
