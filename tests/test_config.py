"""Configuration: precedence, files, the environment, secrets and every kind of bad value."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conformance._config import (
    FORMATS,
    SETTINGS,
    Config,
    load_config,
)
from conformance._exceptions import ConfigError
from conformance._hosts import is_production_host
from conformance._http import BearerToken, ClientCredentials
from conformance._redact import REDACTED
from conformance._resources import schema_path

SECRET = "very-Secret-token-value-123"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(**kwargs: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(**kwargs)  # type: ignore[arg-type]
    return str(caught.value)


# -- precedence --------------------------------------------------------------------------------


def test_defaults() -> None:
    config = load_config(env={})
    assert config.is_reference and config.base_url is None
    assert config.zuora_version == "2024-05-20"
    assert config.error_style == "auto" and config.progress == "auto"
    assert config.timeout_s == 30.0
    assert config.max_body_bytes == config.max_decompressed_bytes == 10 * 2**20
    assert config.formats == ("json", "junit", "html", "markdown")
    assert (config.max_examples, config.seed, config.max_time_s) == (10, 0, None)
    assert config.verify_tls and not config.read_only and not config.allow_production
    assert config.reports_dir == Path("reports")
    assert config.auth() is None
    assert config.warnings == ()


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "jr.toml",
        'base_url = "https://file.example/api"\nzuora_version = "211.0"\n'
        'timeout_s = 12\nformats = ["json"]\nseed = 7\n',
    )
    env = {
        "JR_CONFIG": str(path),
        "JR_BASE_URL": "https://env.example/",
        "JR_ZUORA_VERSION": "2025-08-12",
    }
    config = load_config({"timeout_s": 3.5, "seed": None}, env=env)
    assert config.base_url == "https://env.example"  # environment beats the file
    assert config.zuora_version == "2025-08-12"
    assert config.timeout_s == 3.5  # flags beat the file
    assert config.seed == 7  # a None flag is "not given"
    assert config.formats == ("json",)
    assert config.config_file == path

    flagged = load_config({"base_url": "http://flag.example:8080"}, env=env)
    assert flagged.base_url == "http://flag.example:8080"  # flags beat the environment


def test_config_flag_beats_environment_variable(tmp_path: Path) -> None:
    from_env = write(tmp_path, "env.yaml", "max_examples: 3\n")
    from_flag = write(tmp_path, "flag.yml", "max_examples: 9\n")
    config = load_config({"config": str(from_flag)}, env={"JR_CONFIG": str(from_env)})
    assert config.max_examples == 9


def test_yaml_file_and_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "xfail.yaml").write_text("version: 1\n", encoding="utf-8")
    path = write(
        tmp_path,
        "jr.yaml",
        "capabilities: [journal-entries, multi-tenant]\n"
        "tenants: 3\nselect: [JR-CANCEL-001, cancel]\nreports_dir: out\n"
        "expected_failures: xfail.yaml\nrate_limit_per_min: 600\nprogress: jsonl\n",
    )
    config = load_config({"config": str(path)}, env={})
    assert config.capabilities == ("journal-entries", "multi-tenant")
    assert config.tenants == 3
    assert config.select == ("JR-CANCEL-001", "cancel")
    assert config.reports_dir == tmp_path / "out"  # relative to the file
    assert config.expected_failures == tmp_path / "xfail.yaml"
    assert config.rate_limit_per_min == 600.0
    assert config.progress == "jsonl"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JR_BASE_URL", "https://rest.apisandbox.zuora.com")
    monkeypatch.setenv("JR_CLIENT_ID", "client-1")
    monkeypatch.setenv("JR_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("JR_TOKEN_URL", "https://rest.apisandbox.zuora.com/oauth/token")
    monkeypatch.delenv("JR_TOKEN", raising=False)
    monkeypatch.delenv("JR_CONFIG", raising=False)
    config = load_config()
    auth = config.auth()
    assert isinstance(auth, ClientCredentials)
    assert auth.client_id == "client-1" and auth.client_secret == SECRET
    assert auth.token_url == "https://rest.apisandbox.zuora.com/oauth/token"
    assert SECRET not in repr(config) and SECRET not in repr(auth)


def test_empty_environment_variables_are_unset() -> None:
    config = load_config(env={"JR_BASE_URL": "", "JR_TOKEN": "", "JR_CONFIG": ""})
    assert config.base_url is None and config.auth() is None


def test_strings_from_flags_are_converted() -> None:
    flags = {
        "timeout_s": "2.5",
        "max_examples": "10",
        "verify_tls": "false",
        "formats": "json, markdown",
        "select": "cancel,JR-1",
    }
    config = load_config(flags, env={})
    assert config.timeout_s == 2.5 and config.max_examples == 10 and not config.verify_tls
    assert config.formats == ("json", "markdown") and config.select == ("cancel", "JR-1")


# -- secrets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "variable"), [("token", "JR_TOKEN"), ("client_secret", "JR_CLIENT_SECRET")]
)
def test_secret_in_a_file_is_an_error(tmp_path: Path, key: str, variable: str) -> None:
    path = write(tmp_path, "jr.toml", f'{key} = "{SECRET}"\n')
    message = config_error(flags={"config": str(path)}, env={})
    assert f"config file {path}: '{key}' is a secret" in message
    assert f"set the {variable} environment variable instead" in message
    assert SECRET not in message


def test_secret_as_a_flag_is_an_error() -> None:
    message = config_error(flags={"token": SECRET}, env={})
    assert "set the JR_TOKEN environment variable" in message and SECRET not in message


def test_redacted_shows_only_whether_secrets_were_set() -> None:
    config = load_config(env={"JR_TOKEN": SECRET, "JR_BASE_URL": "http://127.0.0.1:9"})
    data = config.redacted()
    assert data["token"] == REDACTED and data["client_secret"] is None
    assert SECRET not in json.dumps(data)
    assert data["base_url"] == "http://127.0.0.1:9" and data["formats"] == list(FORMATS)
    assert isinstance(config.auth(), BearerToken)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"JR_TOKEN": "t", "JR_CLIENT_ID": "c", "JR_CLIENT_SECRET": "s"}, "not both"),
        ({"JR_CLIENT_ID": "c"}, "client_id is set but JR_CLIENT_SECRET is not"),
        ({"JR_CLIENT_SECRET": SECRET}, "JR_CLIENT_SECRET is set but client_id"),
        ({"JR_TOKEN": "has space"}, "token (from JR_TOKEN): must be printable ASCII"),
    ],
)
def test_incomplete_or_conflicting_credentials(env: dict[str, str], expected: str) -> None:
    message = config_error(env=env)
    assert expected in message and SECRET not in message and "has space" not in message


# -- files -------------------------------------------------------------------------------------


def test_unknown_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "jr.yaml", "timeout: 5\nbase-url: http://x\n")
    message = config_error(flags={"config": str(path)}, env={})
    assert f"config file {path}: unknown key 'timeout' (did you mean 'timeout_s'?)" in message
    assert f"config file {path}: unknown key 'base-url' (did you mean 'base_url'?)" in message


def test_schema_errors_name_the_file_and_the_setting(tmp_path: Path) -> None:
    path = write(tmp_path, "jr.toml", 'timeout_s = -1\nformats = ["pdf"]\nverify_tls = "no"\n')
    message = config_error(flags={"config": str(path)}, env={})
    lines = message.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"config file {path}: ") for line in lines)
    assert any("timeout_s: -1 is less than or equal to the minimum of 0" in line for line in lines)
    assert any(line.startswith(f"config file {path}: formats.0: 'pdf'") for line in lines)
    assert any("verify_tls: 'no' is not of type 'boolean'" in line for line in lines)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("jr.json", "{}", "use a .toml, .yaml or .yml file"),
        ("jr.toml", "timeout_s = = 1", "invalid TOML"),
        ("jr.yaml", "a: [1,\n", "invalid YAML"),
        ("jr.yaml", "- 1\n- 2\n", "must be a table of settings at the top level"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, text: str, expected: str) -> None:
    path = write(tmp_path, name, text)
    message = config_error(flags={"config": str(path)}, env={})
    assert message.startswith(f"config file {path}: ") and expected in message
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert config_error(env={"JR_CONFIG": str(missing)}) == f"config file {missing}: not found"


def test_empty_yaml_file_means_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "jr.yaml", "# nothing yet\n")
    assert load_config({"config": str(path)}, env={}).timeout_s == 30.0


def test_every_setting_is_in_the_schema() -> None:
    schema = json.loads(schema_path("config").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    tenant = set(schema["properties"]["tenant"]["properties"])
    assert set(schema["properties"]) - {"tenant"} == set(SETTINGS) - tenant


# -- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"base_url": "ftp://example.com"}, "must be an http:// or https:// URL with a host"),
        ({"base_url": "https://"}, "must be an http:// or https:// URL with a host"),
        ({"base_url": "https://u:p@example.com"}, "must not carry a user name or password"),
        ({"base_url": "https://example.com/?a=1"}, "must not have a query or a fragment"),
        ({"token_url": "example.com/oauth"}, "token_url (from command line): must be an http"),
        ({"timeout_s": -1}, "timeout_s (from command line): must be greater than 0, got -1"),
        ({"timeout_s": "soon"}, "timeout_s (from command line): must be a number, got 'soon'"),
        ({"max_body_bytes": 0}, "max_body_bytes (from command line): must be at least 1"),
        ({"max_examples": 2.5}, "must be a whole number, got 2.5"),
        ({"tenants": 0}, "tenants (from command line): must be at least 1, got 0"),
        ({"formats": ["json", "pdf"]}, "unknown format 'pdf' (choose from json, junit"),
        ({"formats": []}, "must name at least one of json"),
        ({"error_style": "new"}, "must be one of auto, legacy, modern, got 'new'"),
        ({"progress": "loud"}, "must be one of auto, quiet, jsonl, got 'loud'"),
        ({"capabilities": ["Journal Entries"]}, "must be lower-case names"),
        ({"verify_tls": "maybe"}, "must be true or false, got 'maybe'"),
        ({"max_retry_wait_s": -0.5}, "must not be negative"),
        ({"expected_failures": "/nonexistent/xfail.yaml"}, "no such file: /nonexistent/"),
        ({"colour": True}, "unknown setting 'colour'"),
    ],
)
def test_bad_values(flags: dict[str, object], expected: str) -> None:
    message = config_error(flags=flags, env={})
    assert expected in message


def test_several_problems_are_reported_together() -> None:
    message = config_error(flags={"timeout_s": 0, "seed": -1}, env={"JR_BASE_URL": "nope"})
    assert len(message.splitlines()) == 3
    assert message.splitlines()[0].startswith("base_url (from JR_BASE_URL): ")


def test_config_built_directly_is_validated_too() -> None:
    with pytest.raises(ConfigError, match=r"^timeout_s: must be greater than 0"):
        Config(timeout_s=0)
    assert Config(base_url="http://h/x/").base_url == "http://h/x"


# -- production hosts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "rest.zuora.com",
        "rest.na.zuora.com",
        "rest.eu.zuora.com",
        "rest.ap.zuora.com",
        "REST.ZUORA.COM.",
    ],
)
def test_production_hosts(host: str) -> None:
    assert is_production_host(f"https://{host}/v1")
    assert is_production_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "rest.apisandbox.zuora.com",
        "rest.sandbox.na.zuora.com",
        "rest.sandbox.eu.zuora.com",
        "rest.test.zuora.com",
        "rest.test.eu.zuora.com",
        "rest.test.ap.zuora.com",
        "127.0.0.1:8123",
        "zuora.com.example.org",
    ],
)
def test_non_production_hosts(host: str) -> None:
    assert not is_production_host(f"https://{host}")


def test_unknown_zuora_hosts_count_as_production() -> None:
    assert is_production_host("https://rest.xx.zuora.com")


def test_production_needs_allow_production() -> None:
    env = {"JR_BASE_URL": "https://rest.eu.zuora.com", "JR_TOKEN": SECRET}
    assert "is a production host" in config_error(env=env)
    config = load_config({"allow_production": True, "verify_tls": False}, env=env)
    assert "TLS verification is off for the production host https://rest.eu.zuora.com" in (
        config.warnings
    )
    assert any("create and cancel journal runs" in w for w in config.warnings)
    quiet = load_config({"allow_production": True, "read_only": True}, env=env)
    assert quiet.warnings == ()


# -- hand-over to the HTTP session -------------------------------------------------------------


def test_http_settings() -> None:
    config = load_config(
        {"timeout_s": 4, "rate_limit_per_min": 100, "verify_tls": False},
        env={"JR_ZUORA_VERSION": "341.0"},
    )
    settings = config.http_settings("jrc-1", base_url="http://127.0.0.1:8123")
    assert settings.base_url == "http://127.0.0.1:8123" and settings.run_id == "jrc-1"
    assert settings.timeout_s == 4.0 and settings.rate_limit_per_min == 100.0
    assert settings.zuora_version == "341.0" and settings.verify_tls is False
    with pytest.raises(ConfigError, match="no base URL"):
        config.http_settings("jrc-1")


@pytest.mark.parametrize(
    ("url", "flags", "expected"),
    [
        ("https://rest.apisandbox.zuora.com", {}, 2500.0),  # the vendor's sandbox limit
        ("https://rest.test.eu.zuora.com", {}, 2500.0),
        ("https://rest.apisandbox.zuora.com", {"rate_limit_per_min": 600}, 600.0),
        ("https://jr.example.com", {}, None),  # someone else's server: no pace assumed
    ],
)
def test_the_vendor_sandbox_limit_paces_its_hosts_by_default(
    url: str, flags: dict[str, float], expected: float | None
) -> None:
    config = load_config({"base_url": url, **flags}, env={"JR_TOKEN": "t0ken"})
    assert config.effective_rate_limit == expected
    assert config.http_settings("jrc-test").rate_limit_per_min == expected
    assert config.redacted()["rate_limit_per_min"] == expected
