"""Command line: `python -m site_agent --config FILE (run | jwks | diff | connect ID USERNAME)`."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from site_agent.backends import BackendNotFound
from site_agent.backends.base import BackendError
from site_agent.config import Config, ConfigError, load_config

log = logging.getLogger("site_agent")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="site_agent", description="The reference provider of the federation.")
    parser.add_argument("--config", required=True, help="the agent's TOML configuration file")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="serve the provider API and run orders, deliveries and usage sampling")
    commands.add_parser("jwks", help="print the agent's public keys (JWKS), to register it at the orchestrator")
    commands.add_parser("diff", help="compare what the backend has with what the state store believes")
    connect = commands.add_parser("connect", help="complete a user connection without a browser")
    connect.add_argument("connection_id")
    connect.add_argument("username")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        config = load_config(args.config)
        return COMMANDS[args.command](config, args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except (BackendNotFound, BackendError) as exc:
        print(f"backend error: {exc}", file=sys.stderr)
        return 2


def cmd_run(config: Config, args) -> int:
    from site_agent.agent import Agent

    agent = Agent(config)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    agent.start()
    while not stopping.wait(1.0):
        pass
    log.info("stopping")
    agent.stop()
    return 0


def cmd_jwks(config: Config, args) -> int:
    from protocol.keys import jwks, public_jwk
    from site_agent.agent import load_or_create_key

    key = load_or_create_key(config.agent.private_key_path)
    print(json.dumps(jwks(public_jwk(key, config.agent.key_id)), indent=2))
    return 0


def cmd_diff(config: Config, args) -> int:
    """Print what differs as JSON; exit 0 when nothing does, 1 when something does (like diff(1))."""
    from site_agent.agent import build_backend
    from site_agent.allocations import to_allocation
    from site_agent.store import Store

    backend = build_backend(config)
    if not callable(getattr(backend, "diff", None)):
        print(f"the {backend.name} backend cannot compare", file=sys.stderr)
        return 2
    store = Store(config.agent.state_path)
    believed = [to_allocation(a, store.members(a["project_uuid"])) for a in store.allocations(live=True)]
    result = backend.diff(believed)
    print(json.dumps(result.as_dict(), indent=2, default=list))
    return 0 if result.clean else 1


def cmd_connect(config: Config, args) -> int:
    from site_agent.agent import load_or_create_key
    from site_agent.connections import ConnectionFailed, connection_complete
    from site_agent.orchestrator import OrchestratorClient
    from site_agent.store import Store

    a, o = config.agent, config.orchestrator
    client = OrchestratorClient(
        url=o.url,
        audience=o.issuer,
        provider_id=a.provider_id,
        private_key=load_or_create_key(a.private_key_path),
        kid=a.key_id,
        timeout=o.timeout,
    )
    try:
        connection_complete(
            store=Store(a.state_path), client=client, connection_id=args.connection_id, username=args.username
        )
    except ConnectionFailed as exc:
        print(f"cannot connect: {exc}", file=sys.stderr)
        return 1
    print(f"connection {args.connection_id} completed as {args.username}")
    return 0


COMMANDS = {"run": cmd_run, "jwks": cmd_jwks, "diff": cmd_diff, "connect": cmd_connect}
