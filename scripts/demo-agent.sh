#!/usr/bin/env bash
# Starts the demo site agent (local backend) that `make run` registers as the provider "demo".
# Its configuration and state live in $FEDERATION_VAR_DIR/agent-demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
VAR=${FEDERATION_VAR_DIR:-$PWD/var}
exec .venv/bin/python -m site_agent --config "$VAR/agent-demo/agent.toml" run
