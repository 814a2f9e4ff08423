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
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
# Staging's analysis asks Prometheus for the error ratio of the version its smoke test served
# (port 18080): a real `prometheus` (Debian's package) scrapes that port every second.
if command -v prometheus > /dev/null; then
  PROM_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  mkdir -p "$WORK/prometheus"
  printf 'global: { scrape_interval: 1s }\nscrape_configs: [ { job_name: iris-staging, static_configs: [ { targets: ["127.0.0.1:18080"] } ] } ]\n' \
    > "$WORK/prometheus/prometheus.yml"
  prometheus --config.file="$WORK/prometheus/prometheus.yml" --storage.tsdb.path="$WORK/prometheus/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" > "$WORK/prometheus/server.log" 2>&1 &
  PIDS+=($!)
  export PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT"
  until curl -sf "$PROMETHEUS_URL/-/ready" > /dev/null; do sleep 0.5; done
  echo "== Prometheus at $PROMETHEUS_URL (staging's analysis reads it)"
else
  echo "== no prometheus on PATH: staging's analysis will be inconclusive and versions stay in staging"
fi
# SLUICE_DEMO_MLFLOW=1: the same three commits with the MLflow registry, against a real
# `mlflow server` started here (SQLite store, artifacts behind its proxy in $WORK/mlflow).
if [ "${SLUICE_DEMO_MLFLOW:-}" = 1 ]; then
  PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  mkdir -p "$WORK/mlflow"
  mlflow server --host 127.0.0.1 --port "$PORT" --workers 1 --backend-store-uri "sqlite:///$WORK/mlflow/mlflow.db" \
    --artifacts-destination "$WORK/mlflow/artifacts" > "$WORK/mlflow/server.log" 2>&1 &
  MLFLOW_PID=$!
  PIDS+=("$MLFLOW_PID")
  export MLFLOW_TRACKING_URI="http://127.0.0.1:$PORT"
  until curl -sf "$MLFLOW_TRACKING_URI/health" > /dev/null; do
    kill -0 "$MLFLOW_PID" 2>/dev/null || { cat "$WORK/mlflow/server.log"; exit 1; }
    sleep 0.5
  done
  sed -i 's/^  model: iris$/  model: iris\n  registry: mlflow/' sluice.yaml
  git -c user.name=demo -c user.email=demo@example.com commit -q -am "gate: the MLflow registry"
  echo "== MLflow tracking server at $MLFLOW_TRACKING_URI (registry: mlflow)"
fi
commit() { git -c user.name=demo -c user.email=demo@example.com commit -q -am "$1"; }

echo "== sluice validate"
"$SLUICE" validate
echo
echo "== commit 1: the first model: trained, gated with no baseline, deployed to staging, smoke-tested and analysed there, promoted to production (branch targets)"
"$SLUICE" run --state "$STATE"
echo
echo "== commit 2: an annotation batch mislabels 24 flowers: retrained, and the gate rejects the worse model"
python3 "$ROOT/examples/demo_data.py" mislabel data/iris.csv
commit "data: import annotation batch 2"
"$SLUICE" run --state "$STATE" || echo "(sluice run exited $?: the gate rejected the candidate, as it should)"
echo
echo "== commit 3: the labels are fixed and 30 newly measured flowers added: retrained, through staging, promoted to production"
python3 "$ROOT/examples/demo_data.py" fix data/iris.csv "$ROOT/examples/iris/data/iris.csv"
commit "data: relabel batch 2, add 30 flowers"
"$SLUICE" run --state "$STATE"
echo
echo "== the rejected candidate's gate report (run 2)"
"$SLUICE" report 2 --state "$STATE" | sed -n '1,16p' || true
echo "   ... (full report: $SLUICE report 2 --state $STATE --repo $WORK/repo)"
echo
echo "== each version's way through the environments, the promotion log, what is deployed, the environment branches, and the verdicts as git notes"
"$SLUICE" environments --state "$STATE"
"$SLUICE" rollback --list --state "$STATE"
"$SLUICE" status --state "$STATE"
git log --oneline sluice/env/staging
git log --oneline sluice/env/production
git log --notes=sluice --format='%h %s%n%N' -3 | sed '/^$/d' | grep -v '^  ' || true
if [ -n "${MLFLOW_TRACKING_URI:-}" ]; then
  echo
  echo "== MLflow: the champion, loaded the way MLflow clients and model servers load it"
  MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR=false python3 - <<'PY'
import warnings
warnings.filterwarnings("ignore")
import mlflow.pyfunc
from mlflow import MlflowClient
version = MlflowClient().get_model_version_by_alias("iris", "champion")
model = mlflow.pyfunc.load_model("models:/iris@champion")
print(f"models:/iris@champion is version {version.version} ({version.source})")
print("predict([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]) ->", [str(label) for label in model.predict([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])])
PY
fi
echo
echo "Demo repository: $WORK/repo   state: $STATE"
echo "Try: $SLUICE runs --state $STATE    $SLUICE logs 3 evaluate --state $STATE    git -C $WORK/repo log --notes=sluice"
echo "     $SLUICE report 3 --charts $WORK/charts --state $STATE   (the confusion matrix and ROC curve over production's, each metric over the candidates)"
