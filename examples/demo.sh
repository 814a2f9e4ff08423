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

echo "== sluice validate"
"$SLUICE" validate
echo
echo "== sluice plan (first commit)"
"$SLUICE" plan --state "$WORK/state"
echo
echo "== commit 2: the data changes (one row edited)"
sed -i '2s/^4\.9/5.9/' data/iris.csv
git -c user.name=demo -c user.email=demo@example.com commit -q -am "iris: data change"
"$SLUICE" plan --state "$WORK/state"
echo
echo "== commit 3: documentation only"
echo "# iris" > README.md
git -c user.name=demo -c user.email=demo@example.com add README.md
git -c user.name=demo -c user.email=demo@example.com commit -q -m "docs"
"$SLUICE" plan --state "$WORK/state"
echo
echo "Demo repository: $WORK/repo"
echo "Running stages, the gate, promotion and deploy are not built yet (issues 4-6)."
