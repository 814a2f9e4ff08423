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


def row(name, sluice_s, peer_s, peer_tool):
    print(f"| {name} | {sluice_s * 1000:.1f} ms | {peer_s * 1000:.1f} ms | {peer_tool} | {peer_s / sluice_s:.2f}x |")
