#!/usr/bin/env bash
# Runs every test against real PostgreSQL and Redis on 127.0.0.1 (and the local Slurm test
# cluster for the Slurm backend), plus the linters. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
scripts/services.sh
scripts/browser.sh

export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/federation}
export CELERY_BROKER_URL=${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/15}
export SECRET_KEY=test-secret-key-for-the-test-suite-only-0123456789abcdefghijkl
export DEBUG=0 SECURE_SSL_REDIRECT=0 ALLOWED_HOSTS=testserver,localhost,127.0.0.1
export FEDERATION_VAR_DIR=${FEDERATION_VAR_DIR:-$PWD/var/test}
mkdir -p "$FEDERATION_VAR_DIR"

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --check .; exit 1; }

echo "== lint-imports (the layout's import rules, pyproject.toml [tool.importlinter])"
.venv/bin/lint-imports --no-cache >/dev/null || { .venv/bin/lint-imports --no-cache; exit 1; }

echo "== manage.py check --deploy (production settings)"
DEBUG=0 SECURE_SSL_REDIRECT=1 ALLOWED_HOSTS=federation.example.org .venv/bin/python manage.py check --deploy --fail-level WARNING

echo "== pytest"
set +e
.venv/bin/pytest -p no:cacheprovider "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "error: pytest collected no tests." >&2
fi
exit "$code"
