"""Moving a run store: `sluice store export` and `sluice store import` of a store of
SLUICE_BENCH_RUNS runs (default 10,000; each with two stages, an artifact and a metrics report,
as a real pipeline leaves them) on SQLite and on PostgreSQL (a server on this machine, a new
database each time), against the databases' own tools in the same run: `sqlite3 .dump` and
`sqlite3 < dump.sql`, `pg_dump` and `psql -f`. The store is made by importing a dump built from
one real run's rows, copied with new ids; every export is checked to give the same lines."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import SLUICE, GIT_ENV, PostgresServer, git  # noqa: E402

RUNS = int(os.environ.get("SLUICE_BENCH_RUNS", "10000"))


def timed(argv, env=None, stdin=None, stdout=None):
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdin=stdin, stdout=stdout or subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise SystemExit(f"{argv[:3]} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return time.perf_counter() - start


def one_run_dump(folder):
    """The export of a store holding one real run of a two-stage pipeline."""
    repo = os.path.join(folder, "repo")
    os.makedirs(repo)
    git("init", "-q", "-b", "main", cwd=repo)
    with open(os.path.join(repo, "sluice.yaml"), "w") as f:
        f.write("version: 1\nstages:\n  train: { run: \"echo weights > model.bin\", outputs: [model.bin] }\n"
                "  evaluate: { run: \"echo '{\\\"accuracy\\\": 0.91, \\\"loss\\\": 0.23}' > m.json\", needs: [train], metrics: m.json }\n")
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "one", cwd=repo)
    state = os.path.join(folder, "one")
    subprocess.run([SLUICE, "run", "--repo", repo, "--state", state], env=GIT_ENV, check=True, capture_output=True)
    out = subprocess.run([SLUICE, "store", "export", "--state", state], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def many_runs_dump(lines, path):
    """`RUNS` copies of the run's rows (ids 1…RUNS), as an export would write them."""
    header, rows = lines[0], lines[1:]
    by_table = {}
    for r in rows:
        by_table.setdefault(r["table"], []).append(r["row"])
    with open(path, "w") as out:
        out.write(json.dumps(header) + "\n")
        for table in [r["table"] for r in rows if r["table"] != "sqlite_sequence"]:
            if table in by_table:
                template = by_table.pop(table)
                for i in range(1, RUNS + 1):
                    for row in template:
                        copy = dict(row)
                        for key in ("id", "runId"):
                            if key in copy and table != "processed_refs":
                                copy[key] = i
                        if "commit" in copy:
                            copy["commit"] = f"{i:040x}"
                        if table not in ("runs", "stage_results", "artifacts", "reports") and i > 1:
                            break  # one row of the others (processed refs, conditions): keys would collide
                        out.write(json.dumps({"row": copy, "table": table}, sort_keys=True, separators=(",", ":")) + "\n")
        out.write(json.dumps({"row": {"name": "runs", "seq": RUNS}, "table": "sqlite_sequence"}) + "\n")


def main():
    folder = tempfile.mkdtemp(prefix="sluice-bench-transfer-")
    server = PostgresServer()
    try:
        dump = os.path.join(folder, "dump.jsonl")
        many_runs_dump(one_run_dump(folder), dump)
        size = os.path.getsize(dump) / 1e6

        # SQLite: import, export; sqlite3's own dump and load of the same file.
        state = os.path.join(folder, "sqlite")
        with open(dump) as f:
            imp_sqlite = timed([SLUICE, "store", "import", "--state", state], stdin=f)
        exported = os.path.join(folder, "sqlite.jsonl")
        with open(exported, "w") as f:
            exp_sqlite = timed([SLUICE, "store", "export", "--state", state], stdout=f)
        sql = os.path.join(folder, "sqlite.sql")
        with open(sql, "w") as f:
            exp_peer = timed(["sqlite3", os.path.join(state, "sluice.sqlite"), ".dump"], stdout=f)
        with open(sql) as f:
            imp_peer = timed(["sqlite3", os.path.join(folder, "copy.sqlite")], stdin=f)

        # PostgreSQL: import, export; pg_dump and psql of the same database.
        server.scalar("CREATE DATABASE sluice_import")
        server.scalar("CREATE DATABASE peer_import")
        url = server.url.replace("/postgres?", "/sluice_import?")
        env = dict(os.environ, SLUICE_DATABASE_URL=url)
        with open(dump) as f:
            imp_pg = timed([SLUICE, "store", "import", "--state", os.path.join(folder, "pg")], env=env, stdin=f)
        pg_exported = os.path.join(folder, "pg.jsonl")
        with open(pg_exported, "w") as f:
            exp_pg = timed([SLUICE, "store", "export", "--state", os.path.join(folder, "pg")], env=env, stdout=f)
        plain = os.path.join(folder, "pg.sql")
        connect = ["-h", "127.0.0.1", "-p", str(server.port), "-U", "sluice"]
        with open(plain, "w") as f:
            exp_pg_peer = timed([f"{server.bin}/pg_dump", *connect, "-d", "sluice_import"], stdout=f)
        imp_pg_peer = timed([f"{server.bin}/psql", *connect, "-d", "peer_import", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", plain])

        # The same rows from either database, and as the dump went in (log paths name each store's folder).
        def rows(path, state):
            text = open(path).read().replace(os.path.join(folder, state) + "/", "STATE/")
            return [json.loads(line) for line in text.splitlines()[1:]]
        a, b, c = rows(exported, "sqlite"), rows(pg_exported, "pg"), rows(dump, "one")
        if a != b:
            raise SystemExit("the exports of SQLite and PostgreSQL differ")
        if sorted(map(json.dumps, a)) != sorted(map(json.dumps, c)):
            raise SystemExit("the export differs from the dump imported")

        label = f"{RUNS} runs, {size:.0f} MB of JSON lines"
        for name, ours, peer, tool in [
            (f"sluice store export, SQLite ({label})", exp_sqlite, exp_peer, "sqlite3 .dump"),
            (f"sluice store import, SQLite ({label})", imp_sqlite, imp_peer, "sqlite3 < .dump's SQL"),
            (f"sluice store export, PostgreSQL ({label})", exp_pg, exp_pg_peer, "pg_dump (plain SQL)"),
            (f"sluice store import, PostgreSQL ({label})", imp_pg, imp_pg_peer, "psql -f pg_dump's SQL"),
        ]:
            print(f"| {name} | {ours:.2f} s | {peer:.2f} s | {tool} | {peer / ours:.2f}x |")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
