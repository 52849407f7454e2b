#!/usr/bin/env bash
# Runs the whole system on one machine with embedded defaults: SQLite, a file-based Celery
# broker, the web server, a Celery worker and beat, and the demo site agent.
# Set DATABASE_URL / CELERY_BROKER_URL to use PostgreSQL / Redis instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
export DEBUG=${DEBUG:-1}
export FEDERATION_VAR_DIR=${FEDERATION_VAR_DIR:-$PWD/var}
PORT=${PORT:-8000}
export FEDERATION_URL=${FEDERATION_URL:-http://127.0.0.1:$PORT}
mkdir -p "$FEDERATION_VAR_DIR/broker/queue" "$FEDERATION_VAR_DIR/broker/processed" "$FEDERATION_VAR_DIR/log"
PY=.venv/bin/python

$PY manage.py migrate --noinput -v0
$PY manage.py seed_demo --token-file "$FEDERATION_VAR_DIR/demo-token"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

.venv/bin/celery -A federation worker --loglevel INFO --concurrency 2 >"$FEDERATION_VAR_DIR/log/worker.log" 2>&1 &
pids+=($!)
.venv/bin/celery -A federation beat --loglevel INFO >"$FEDERATION_VAR_DIR/log/beat.log" 2>&1 &
pids+=($!)
if [ -x scripts/demo-agent.sh ]; then
  scripts/demo-agent.sh >"$FEDERATION_VAR_DIR/log/agent.log" 2>&1 &
  pids+=($!)
fi
echo
echo "Web:    $FEDERATION_URL/  (API $FEDERATION_URL/api/, docs $FEDERATION_URL/api/docs/, admin $FEDERATION_URL/admin/)"
echo "Token:  $(cat "$FEDERATION_VAR_DIR/demo-token")   (curl -H \"Authorization: Token \$TOKEN\" $FEDERATION_URL/api/projects/)"
echo "Logs:   $FEDERATION_VAR_DIR/log/   Stop with Ctrl-C."
echo
$PY manage.py runserver "127.0.0.1:$PORT" --noreload &
pids+=($!)
wait -n "${pids[@]}"
