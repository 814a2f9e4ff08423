#!/usr/bin/env bash
# The README's first command: from a fresh clone, install what is missing, build Sluice,
# make a throwaway git repository from examples/iris and drive it through Sluice.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
bash .ci/setup
swift build --product sluice
SLUICE="$ROOT/.build/debug/sluice"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")"
cp -R examples/iris/. "$WORK/repo"
cd "$WORK/repo"
git init -q -b main
git -c user.name=demo -c user.email=demo@example.com add -A
git -c user.name=demo -c user.email=demo@example.com commit -q -m "iris: first model"

STATE="$WORK/state"
echo "== sluice validate"
"$SLUICE" validate
echo
echo "== commit 1: sluice run (every stage runs: lint, test, validate, train, evaluate)"
"$SLUICE" run --state "$STATE"
echo
echo "== commit 2: the data changes (one row edited): validate, train and evaluate run again"
sed -i '2s/^4\.9/5.9/' data/iris.csv
git -c user.name=demo -c user.email=demo@example.com commit -q -am "iris: data change"
"$SLUICE" plan --state "$STATE"
"$SLUICE" run --state "$STATE"
echo
echo "== commit 3: documentation only: training is skipped, its outputs are reused"
echo "# iris" > README.md
git -c user.name=demo -c user.email=demo@example.com add README.md
git -c user.name=demo -c user.email=demo@example.com commit -q -m "docs"
"$SLUICE" run --state "$STATE"
echo
echo "== history, and the evaluate stage's log of the last run"
"$SLUICE" runs --state "$STATE"
"$SLUICE" logs last evaluate --state "$STATE"
echo
echo "Demo repository: $WORK/repo (state: $STATE)"
echo "== the gate report of the last gated run, and the promotion log"
"$SLUICE" report last --state "$STATE" | head -40 || true
"$SLUICE" rollback --list --state "$STATE"
echo "== what is deployed: the environment branch written by the branch target"
"$SLUICE" status --state "$STATE"
git log --oneline sluice/env/production
echo "git notes: git -C $WORK/repo log --notes=sluice"
