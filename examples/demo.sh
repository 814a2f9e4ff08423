#!/usr/bin/env bash
# The README's first command: from a fresh clone, install what is missing, build Sluice,
# make a throwaway git repository from examples/iris and drive it through Sluice.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
bash .ci/setup
export PATH="$ROOT/.venv/bin:$PATH"
swift build --product sluice
SLUICE="$ROOT/.build/debug/sluice"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")"
cp -R examples/iris/. "$WORK/repo"
cd "$WORK/repo"
git init -q -b main
git -c user.name=demo -c user.email=demo@example.com add -A
git -c user.name=demo -c user.email=demo@example.com commit -q -m "iris: first model"

STATE="$WORK/state"
commit() { git -c user.name=demo -c user.email=demo@example.com commit -q -am "$1"; }

echo "== sluice validate"
"$SLUICE" validate
echo
echo "== commit 1: the first model: trained, gated with no baseline, promoted, deployed to the branch target"
"$SLUICE" run --state "$STATE"
echo
echo "== commit 2: an annotation batch mislabels 24 flowers: retrained, and the gate rejects the worse model"
python3 "$ROOT/examples/demo_data.py" mislabel data/iris.csv
commit "data: import annotation batch 2"
"$SLUICE" run --state "$STATE" || echo "(sluice run exited $?: the gate rejected the candidate, as it should)"
echo
echo "== commit 3: the labels are fixed and 30 newly measured flowers added: retrained, promoted, deployed"
python3 "$ROOT/examples/demo_data.py" fix data/iris.csv "$ROOT/examples/iris/data/iris.csv"
commit "data: relabel batch 2, add 30 flowers"
"$SLUICE" run --state "$STATE"
echo
echo "== the rejected candidate's gate report (run 2)"
"$SLUICE" report 2 --state "$STATE" | sed -n '1,16p' || true
echo "   ... (full report: $SLUICE report 2 --state $STATE --repo $WORK/repo)"
echo
echo "== the promotion log, what is deployed, the environment branch, and the verdicts as git notes"
"$SLUICE" rollback --list --state "$STATE"
"$SLUICE" status --state "$STATE"
git log --oneline sluice/env/production
git log --notes=sluice --format='%h %s%n%N' -3 | sed '/^$/d' | grep -v '^  ' || true
echo
echo "Demo repository: $WORK/repo   state: $STATE"
echo "Try: $SLUICE runs --state $STATE    $SLUICE logs 3 evaluate --state $STATE    git -C $WORK/repo log --notes=sluice"
