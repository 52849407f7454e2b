#!/usr/bin/env bash
# Runs the whole system on one machine with embedded defaults: SQLite, a file-based Celery
# broker, the web server, two Celery workers (deliveries and the rest; pulls) and beat, and the
# demo site agent.
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

AGENT_PORT=${AGENT_PORT:-8001}
$PY manage.py migrate --noinput -v0
$PY manage.py seed_demo --token-file "$FEDERATION_VAR_DIR/demo-token"

# The demo provider: a site agent with the local backend, registered with its public keys and
# running the demo offering.
mkdir -p "$FEDERATION_VAR_DIR/agent-demo"
cat >"$FEDERATION_VAR_DIR/agent-demo/agent.toml" <<TOML
[agent]
provider_id = "demo"
listen = "127.0.0.1:$AGENT_PORT"
state_path = "state.sqlite3"
private_key_path = "agent.key"
key_id = "demo-1"

[orchestrator]
url = "$FEDERATION_URL"
issuer = "federation"
jwks_url = "$FEDERATION_URL/.well-known/jwks.json"

[backend]
name = "local"

[backend.local]
components = ["cpu_k_hours", "storage_tb"]

[usage]
sample_interval = 10
push = true
TOML
.venv/bin/python -m site_agent --config "$FEDERATION_VAR_DIR/agent-demo/agent.toml" jwks >"$FEDERATION_VAR_DIR/agent-demo/jwks.json"
$PY manage.py register_provider demo --name "Demo site" --domain "127.0.0.1:$AGENT_PORT" --no-https \
  --env development --customer "Demo University" --jwks-file "$FEDERATION_VAR_DIR/agent-demo/jwks.json" \
  --offering "Demo HPC allocation"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The demo agent first: the pulls worker reads its manifest (what it can do, pausing included) as
# soon as it starts, from the pull queued when the provider was registered or updated.
if [ -x scripts/demo-agent.sh ]; then
  scripts/demo-agent.sh >"$FEDERATION_VAR_DIR/log/agent.log" 2>&1 &
  pids+=($!)
  .venv/bin/python - "$AGENT_PORT" <<'PY'
import sys, time, urllib.request
for _ in range(100):  # up to 20 s
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
PY
fi
# Pulls from providers have a worker of their own, so a provider that hangs cannot hold up deliveries.
.venv/bin/celery -A config worker -n deliveries@%h -Q celery --loglevel INFO --concurrency 2 \
  >"$FEDERATION_VAR_DIR/log/worker.log" 2>&1 &
pids+=($!)
.venv/bin/celery -A config worker -n pulls@%h -Q pulls --loglevel INFO --concurrency 2 \
  >"$FEDERATION_VAR_DIR/log/worker-pulls.log" 2>&1 &
pids+=($!)
.venv/bin/celery -A config beat --loglevel INFO >"$FEDERATION_VAR_DIR/log/beat.log" 2>&1 &
pids+=($!)
echo
echo "Portal: $FEDERATION_URL/  (log in as demo-staff / demo-password-change-me; admin $FEDERATION_URL/admin/)"
echo "API:    $FEDERATION_URL/api/docs/  (Swagger UI; the OpenAPI schema at $FEDERATION_URL/api/schema/)"
echo "Token:  $(cat "$FEDERATION_VAR_DIR/demo-token")   (curl -H \"Authorization: Token \$TOKEN\" $FEDERATION_URL/api/projects/)"
echo "Logs:   $FEDERATION_VAR_DIR/log/   Stop with Ctrl-C."
echo
$PY manage.py runserver "127.0.0.1:$PORT" --noreload &
pids+=($!)
wait -n "${pids[@]}"
