from pathlib import Path

import pytest

from site_agent.backends import BackendNotFound, backend_class, create_backend
from site_agent.backends.local import LocalBackend
from site_agent.config import ConfigError, load_config, parse_config

MINIMAL = {
    "agent": {"provider_id": "demo"},
    "orchestrator": {"url": "http://127.0.0.1:8000/"},
    "backend": {"name": "local"},
}


def _with(section, **values):
    data = {k: dict(v) for k, v in MINIMAL.items()}
    data.setdefault(section, {}).update(values)
    return data


def test_defaults(tmp_path):
    config = parse_config(MINIMAL, base_dir=tmp_path)
    assert (config.agent.host, config.agent.port) == ("127.0.0.1", 8001)
    assert config.agent.state_path == tmp_path / "site-agent.sqlite3"
    assert config.agent.private_key_path == tmp_path / "site-agent.key"
    assert config.agent.key_id == "demo-1"
    assert config.agent.public_url is None
    assert config.orchestrator.url == "http://127.0.0.1:8000"
    assert config.orchestrator.issuer == "federation"
    assert config.orchestrator.jwks_url == "http://127.0.0.1:8000/.well-known/jwks.json"
    assert config.orchestrator.timeout == 10.0
    assert config.backend.options == {}
    assert (config.usage.sample_interval, config.usage.push) == (300.0, False)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({k: v for k, v in MINIMAL.items() if k != "agent"}, "[agent]"),
        (_with("agent", provider_id="Not OK"), "agent.provider_id"),
        (_with("agent", listen="8001"), "agent.listen"),
        (_with("agent", stat_path="x"), "agent.stat_path"),
        (_with("orchestrator", url="ftp://x"), "orchestrator.url"),
        (_with("orchestrator", timeout="10"), "orchestrator.timeout"),
        (_with("orchestrator", timeout=0), "orchestrator.timeout"),
        (_with("orchestrator", issuer=""), "orchestrator.issuer"),
        (_with("backend", name=3), "backend.name"),
        (_with("backend", local="x"), "backend.local"),
        (_with("usage", push="yes"), "usage.push"),
        (_with("usage", sample_interval=True), "usage.sample_interval"),
        ({**MINIMAL, "extra": {}}, "extra"),
    ],
)
def test_errors_name_the_key(data, key, tmp_path):
    with pytest.raises(ConfigError) as caught:
        parse_config(data, base_dir=tmp_path)
    assert str(caught.value).startswith(key)


def test_toml_file_and_backend_table(tmp_path):
    path = Path(tmp_path / "agent.toml")
    path.write_text(
        '[agent]\nprovider_id = "demo"\nlisten = "0.0.0.0:9000"\nstate_path = "var/state.sqlite3"\n'
        '[orchestrator]\nurl = "https://fed.example.org"\n'
        '[backend]\nname = "local"\n[backend.local]\nusage_fraction = 0.5\n[backend.slurm]\ncluster_name = "x"\n'
        "[usage]\npush = true\n"
    )
    config = load_config(path)
    assert config.agent.state_path == tmp_path / "var" / "state.sqlite3"
    assert config.backend.options == {"usage_fraction": 0.5}
    assert config.usage.push is True
    path.write_text("[agent\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(ConfigError, match="no such"):
        load_config(tmp_path / "missing.toml")


def test_backends_load_by_name(tmp_path):
    assert backend_class("local") is LocalBackend
    assert backend_class("site_agent.backends.local:LocalBackend") is LocalBackend
    with pytest.raises(BackendNotFound):
        backend_class("nosuch")
    with pytest.raises(BackendNotFound):
        backend_class("site_agent.backends.local:Nothing")
    with pytest.raises(BackendNotFound):
        backend_class("no.such.module:Backend")
    backend = create_backend("local", {"state_path": str(tmp_path / "s.sqlite3")})
    assert backend.describe_manifest()["components"] == ["cpu", "gpu", "storage"]


def test_example_configuration_is_valid_and_shows_the_defaults(tmp_path):
    example = load_config(Path(__file__).resolve().parents[2] / "site_agent" / "example.toml")
    defaults = parse_config(MINIMAL, base_dir=example.agent.state_path.parent)
    assert example.agent == defaults.agent
    assert example.usage == defaults.usage
    assert example.orchestrator.timeout == defaults.orchestrator.timeout
    assert example.orchestrator.jwks_cache_ttl == defaults.orchestrator.jwks_cache_ttl
    assert example.orchestrator.retry_base == defaults.orchestrator.retry_base
    assert example.orchestrator.retry_max == defaults.orchestrator.retry_max
    assert example.orchestrator.jwks_refetch_interval == defaults.orchestrator.jwks_refetch_interval
