#!/usr/bin/env python3
"""Which processes a test run spends CPU in: samples /proc every 0.1 s until the file STOP
exists, then prints CPU seconds and process counts by command (sluice subcommands, Python
scripts and servers by name). How the MLflow job-execution consumers were found.

    rm -f /tmp/stop; python3 Tests/cpu-by-process.py /tmp/stop > cpu.txt &
    CI=true bash Tests/run; touch /tmp/stop; sleep 1; cat cpu.txt

(Processes that ended between two samples are missed: a rough picture, not an account.)
"""
import collections, os, sys, time

TICK = os.sysconf("SC_CLK_TCK")
PYTHON_KEYS = ["mlflow", "huey", "uvicorn", "kube_emulator", "kube_kubelet", "browse.py", "pytest", "ruff", "train", "evaluate",
               "http.server", "serve.py", "dvc", "moto"]


def category(pid):
    try:
        args = [a.decode(errors="replace") for a in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0") if a]
    except OSError:
        return None
    if not args:
        return None
    program = os.path.basename(args[0])
    if program == "sluice":
        return "sluice " + (args[1] if len(args) > 1 else "")
    if "python" in program:
        rest = " ".join(args[1:3])
        for key in PYTHON_KEYS:
            if key in rest:
                return "python " + key
        return "python " + (os.path.basename(args[1]) if len(args) > 1 else "")
    return program


def main(stop):
    seen = {}  # pid -> [category, cpu seconds at the first sample (0 for a process started since), latest]
    started = set(int(e) for e in os.listdir("/proc") if e.isdigit())
    while not os.path.exists(stop):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = open(f"/proc/{entry}/stat").read()
                fields = stat[stat.rindex(")") + 2:].split()
                cpu = (int(fields[11]) + int(fields[12])) / TICK
            except (OSError, ValueError, IndexError):
                continue
            pid = int(entry)
            if pid in seen:
                seen[pid][2] = cpu
            elif (c := category(pid)) is not None:
                # A process that ran before sampling counts only what it spends from now on.
                seen[pid] = [c, cpu if pid in started else 0.0, cpu]
        time.sleep(0.1)
    total, count = collections.Counter(), collections.Counter()
    for c, first, last in seen.values():
        total[c] += last - first
        count[c] += 1
    for c, cpu in total.most_common(40):
        print(f"{cpu:8.1f} s {count[c]:6d}  {c}")
    print(f"{sum(total.values()):8.1f} s in all")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
