"""The agent's TOML configuration: parsed, checked and given defaults in one place.

Every error names the offending key (`orchestrator.url`), so a broken file is fixed in one go.
Relative paths are taken relative to the directory of the configuration file.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ConfigError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class AgentSection:
    provider_id: str
    host: str
    port: int
    public_url: str | None  # how browsers reach this agent, for connection links; None: the listen address
    state_path: Path
    private_key_path: Path
    key_id: str


@dataclasses.dataclass(frozen=True)
class OrchestratorSection:
    url: str
    issuer: str
    jwks_url: str
    timeout: float
    jwks_cache_ttl: float
    jwks_refetch_interval: float
    retry_base: float
    retry_max: float


@dataclasses.dataclass(frozen=True)
class BackendSection:
    name: str
    options: dict


@dataclasses.dataclass(frozen=True)
class UsageSection:
    sample_interval: float
    push: bool


@dataclasses.dataclass(frozen=True)
class Config:
    agent: AgentSection
    orchestrator: OrchestratorSection
    backend: BackendSection
    usage: UsageSection


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, base_dir=path.resolve().parent)


def parse_config(data: dict, base_dir: Path | None = None) -> Config:
    base_dir = base_dir or Path.cwd()
    _only(data, "", {"agent", "orchestrator", "backend", "usage"})
    return Config(
        agent=_agent(_table(data, "agent"), base_dir),
        orchestrator=_orchestrator(_table(data, "orchestrator")),
        backend=_backend(_table(data, "backend")),
        usage=_usage(_table(data, "usage", required=False)),
    )


def _agent(t: dict, base_dir: Path) -> AgentSection:
    _only(t, "agent", {"provider_id", "listen", "public_url", "state_path", "private_key_path", "key_id"})
    provider_id = _get(t, "agent.provider_id", str)
    if not _PROVIDER_ID.match(provider_id):
        raise ConfigError("agent.provider_id: lower-case letters, digits, '-' and '_', at most 64")
    listen = _get(t, "agent.listen", str, "127.0.0.1:8001")
    host, _, port_text = listen.rpartition(":")
    if not host or not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(f"agent.listen: expected HOST:PORT, got {listen!r}")
    public_url = _get(t, "agent.public_url", str, None)
    if public_url is not None:
        public_url = public_url.rstrip("/")
        _check_url(public_url, "agent.public_url")
    return AgentSection(
        provider_id=provider_id,
        host=host.strip("[]"),
        port=int(port_text),
        public_url=public_url,
        state_path=base_dir / _get(t, "agent.state_path", str, "site-agent.sqlite3"),
        private_key_path=base_dir / _get(t, "agent.private_key_path", str, "site-agent.key"),
        key_id=_get(t, "agent.key_id", str, f"{provider_id}-1"),
    )


def _orchestrator(t: dict) -> OrchestratorSection:
    keys = {"url", "issuer", "jwks_url", "timeout", "jwks_cache_ttl", "jwks_refetch_interval"}
    _only(t, "orchestrator", keys | {"retry_base", "retry_max"})
    url = _get(t, "orchestrator.url", str).rstrip("/")
    _check_url(url, "orchestrator.url")
    jwks_url = _get(t, "orchestrator.jwks_url", str, f"{url}/.well-known/jwks.json")
    _check_url(jwks_url, "orchestrator.jwks_url")
    return OrchestratorSection(
        url=url,
        issuer=_get(t, "orchestrator.issuer", str, "federation"),
        jwks_url=jwks_url,
        timeout=_number(t, "orchestrator.timeout", 10.0, minimum=0.1),
        jwks_cache_ttl=_number(t, "orchestrator.jwks_cache_ttl", 300.0),
        jwks_refetch_interval=_number(t, "orchestrator.jwks_refetch_interval", 1.0),
        retry_base=_number(t, "orchestrator.retry_base", 0.5, minimum=0.01),
        retry_max=_number(t, "orchestrator.retry_max", 60.0, minimum=0.01),
    )


def _backend(t: dict) -> BackendSection:
    name = _get(t, "backend.name", str)
    extra = set(t) - {"name"}
    for key in extra:
        if not isinstance(t[key], dict):
            raise ConfigError(f"backend.{key}: expected a table [backend.{key}]")
    options = t.get(name, {})
    return BackendSection(name=name, options=dict(options))


def _usage(t: dict) -> UsageSection:
    _only(t, "usage", {"sample_interval", "push"})
    return UsageSection(
        sample_interval=_number(t, "usage.sample_interval", 300.0, minimum=0.05),
        push=_get(t, "usage.push", bool, False),
    )


def _table(data: dict, key: str, required: bool = True) -> dict:
    if key not in data:
        if required:
            raise ConfigError(f"[{key}]: missing table")
        return {}
    if not isinstance(data[key], dict):
        raise ConfigError(f"{key}: expected a table [{key}]")
    return data[key]


def _only(table: dict, prefix: str, allowed: set[str]) -> None:
    for key in sorted(set(table) - allowed):
        name = f"{prefix}.{key}" if prefix else key
        raise ConfigError(f"{name}: unknown key (allowed: {', '.join(sorted(allowed))})")


_REQUIRED = object()


def _get(table: dict, name: str, kind: type, default: Any = _REQUIRED) -> Any:
    key = name.rpartition(".")[2]
    if key not in table:
        if default is _REQUIRED:
            raise ConfigError(f"{name}: required")
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
    if kind is str and not value.strip():
        raise ConfigError(f"{name}: must not be empty")
    return value


def _number(table: dict, name: str, default: float, minimum: float = 0.0) -> float:
    key = name.rpartition(".")[2]
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name}: expected a number, got {type(value).__name__}")
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}")
    return float(value)


def _check_url(url: str, name: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name}: expected an http(s) URL, got {url!r}")
