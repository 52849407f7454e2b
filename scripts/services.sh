#!/usr/bin/env bash
# Makes sure the tests' PostgreSQL (TEST_DATABASE_URL, by default 127.0.0.1:5432) and Redis (127.0.0.1)
# answer, starting local ones when installed but stopped.
set -uo pipefail

db_url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/federation}
hostport=${db_url#*://}
hostport=${hostport%%/*}
hostport=${hostport##*@}
PG_HOST=${hostport%%:*}
PG_PORT=5432
[ "$hostport" != "$PG_HOST" ] && PG_PORT=${hostport##*:}

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null || (exec 3<>"/dev/tcp/$PG_HOST/$PG_PORT") 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if [[ $PG_HOST =~ ^(127\.0\.0\.1|localhost)$ && $PG_PORT = 5432 ]] && [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
    echo "Starting PostgreSQL..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  if ! pg_up; then
    echo "error: PostgreSQL is not answering on $PG_HOST:$PG_PORT and could not be started." >&2
    echo "       Install it (apt-get install postgresql) or set TEST_DATABASE_URL to a reachable server." >&2
    exit 1
  fi
fi

if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "Starting Redis..."
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
  fi
  if ! redis_up; then
    echo "error: Redis is not answering on 127.0.0.1:6379 and could not be started." >&2
    echo "       Install it (apt-get install redis-server)." >&2
    exit 1
  fi
fi

# RabbitMQ, for the event mode of Waldur site agents (docs/waldur-site-agent.md): started where it is
# installed, with the management (HTTP API) and Web-STOMP plugins. Only those tests need it: without it
# they are skipped with the reason (and fail under CI).
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
if command -v rabbitmq-plugins >/dev/null; then
  if ! rabbit_up && command -v rabbitmq-server >/dev/null; then
    echo "Starting RabbitMQ..."
    (rabbitmq-server -detached >/dev/null 2>&1 || service rabbitmq-server start >/dev/null 2>&1) || true
    for _ in $(seq 1 60); do rabbit_up && break; sleep 1; done
  fi
  if rabbit_up; then
    rabbitmq-plugins enable --quiet rabbitmq_management rabbitmq_web_stomp >/dev/null 2>&1 \
      || echo "warning: could not enable RabbitMQ's management and Web-STOMP plugins; the event-mode tests will say so." >&2
  else
    echo "warning: RabbitMQ is not answering on 127.0.0.1:5672; the event-mode tests will say so." >&2
  fi
fi
