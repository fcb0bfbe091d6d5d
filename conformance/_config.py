"""One validated :class:`Config` from defaults, a file, the environment and flags.

Precedence, lowest first: defaults < the config file (TOML or YAML, ``--config`` or ``JR_CONFIG``)
< the environment (``JR_*``) < flags. Secrets (the token and the client secret) are read from the
environment only: files get committed and command lines show up in ``ps``, so a secret in either
is an error that names the variable to use instead.

Every problem is reported at once, one line each, naming the setting and where its value came from.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import jsonschema
import yaml

from ._exceptions import ConfigError
from ._hosts import SANDBOX_RATE_LIMIT_PER_MIN, is_production_host, is_vendor_sandbox_host
from ._http import BearerToken, ClientCredentials, HttpSettings
from ._redact import REDACTED
from ._resources import schema_path
from ._tenant_data import PeriodSetting, TenantSettings, parse_period

__all__ = ["Config", "is_production_host", "load_config"]

DEFAULT_ZUORA_VERSION = "2024-05-20"
FORMATS = ("json", "junit", "html", "markdown")
ERROR_STYLES = ("auto", "legacy", "modern")
PROGRESS_MODES = ("auto", "quiet", "jsonl")

#: Environment variables and the settings they carry.
ENVIRONMENT = {
    "JR_BASE_URL": "base_url",
    "JR_TOKEN": "token",
    "JR_CLIENT_ID": "client_id",
    "JR_CLIENT_SECRET": "client_secret",
    "JR_TOKEN_URL": "token_url",
    "JR_ZUORA_VERSION": "zuora_version",
    "JR_PERIOD": "period",
    "JR_SECOND_PERIOD": "second_period",
    "JR_EARLIEST_DATE": "earliest_date",
    "JR_STRICT": "strict",
    "JR_CONCURRENCY": "concurrency",
}
#: The config file's ``tenant`` section and the settings its keys carry.
TENANT_SECTION = {
    "period": "period",
    "second_period": "second_period",
    "earliest_date": "earliest_date",
}
CONFIG_VARIABLE = "JR_CONFIG"
#: Settings that only the environment may carry, and the variable for each.
SECRETS = {"token": "JR_TOKEN", "client_secret": "JR_CLIENT_SECRET"}

ErrorStyle = Literal["auto", "legacy", "modern"]
Progress = Literal["auto", "quiet", "jsonl"]


class _Invalid(Exception):
    """A value is wrong; the message says what is expected (never echoing a secret)."""


# -- converters: one per kind of setting; each accepts strings too (environment, flags) ---------


def _url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("must be an http:// or https:// URL")
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Invalid(f"must be an http:// or https:// URL with a host, got {text!r}")
    if parts.username or parts.password:
        raise _Invalid("must not carry a user name or password (credentials go in JR_* variables)")
    if parts.query or parts.fragment:
        raise _Invalid(f"must not have a query or a fragment, got {text!r}")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise _Invalid(f"has an invalid port, got {text!r}") from None
    return text.rstrip("/")


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("must be a non-empty string")
    if any(ord(c) < 0x21 or ord(c) > 0x7E for c in value):
        raise _Invalid("must be printable ASCII without spaces")  # it goes into a header
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("must be a non-empty string")
    return value.strip()


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if value not in options:
            raise _Invalid(f"must be one of {', '.join(options)}, got {value!r}")
        return str(value)

    return convert


def _items(value: Any) -> list[str]:
    """A list of strings, from a list or a comma-separated string."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value]
    raise _Invalid("must be a list of strings")


def _strings(value: Any) -> tuple[str, ...]:
    items = _items(value)
    if any(not item for item in items):
        raise _Invalid("must not contain empty strings")
    return tuple(dict.fromkeys(items))


_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def _capabilities(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = _strings(value)
    bad = [item for item in items if not _NAME.match(item)]
    if bad:
        raise _Invalid(f"must be lower-case names like journal-entries, got {bad[0]!r}")
    return items


def _formats(value: Any) -> tuple[str, ...]:
    items = _strings(value)
    for item in items:
        if item not in FORMATS:
            raise _Invalid(f"unknown format {item!r} (choose from {', '.join(FORMATS)})")
    if not items:
        raise _Invalid(f"must name at least one of {', '.join(FORMATS)}")
    return items


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise _Invalid(f"must be true or false, got {value!r}")


def _int(minimum: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            number = int(value)
        if number is None:
            raise _Invalid(f"must be a whole number, got {value!r}")
        if number < minimum:
            raise _Invalid(f"must be at least {minimum}, got {number}")
        return number

    return convert


def _optional_int(minimum: int) -> Callable[[Any], int | None]:
    convert = _int(minimum)
    return lambda value: None if value is None else convert(value)


def _float(*, positive: bool) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or number != number or number in (float("inf"), float("-inf")):
            raise _Invalid(f"must be a number, got {value!r}")
        if positive and number <= 0:
            raise _Invalid(f"must be greater than 0, got {value!r}")
        if number < 0:
            raise _Invalid(f"must not be negative, got {value!r}")
        return number

    return convert


def _optional_float(*, positive: bool) -> Callable[[Any], float | None]:
    convert = _float(positive=positive)
    return lambda value: None if value is None else convert(value)


def _period(value: Any) -> PeriodSetting | None:
    if value is None:
        return None
    try:
        return parse_period(value)
    except ConfigError as exc:
        raise _Invalid(str(exc).partition(": ")[2] or str(exc)) from None


def _optional_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise _Invalid(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _path(value: Any) -> Path:
    if isinstance(value, Path):
        return value
    return Path(_text(value))


def _optional_path(value: Any) -> Path | None:
    return None if value is None else _path(value)


# -- the configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """Every setting of a run, validated. Build it with :func:`load_config`.

    ``repr()`` never shows the token or the client secret; :meth:`redacted` is what reports show.
    """

    #: ``None``: the embedded reference server.
    base_url: str | None = None
    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    token_url: str | None = None
    zuora_version: str = DEFAULT_ZUORA_VERSION
    error_style: ErrorStyle = "auto"
    #: Optional features the target implements; ``None``: not declared.
    capabilities: tuple[str, ...] | None = None
    #: Tenants tested in parallel; ``None``: 1 for an external target, the run's choice otherwise.
    tenants: int | None = None
    #: Requests in flight at once on one tenant: checks that create no journal run share the
    #: tenant up to this many at a time (the vendor allows 40 concurrent requests per tenant).
    concurrency: int = 8
    timeout_s: float = 30.0
    max_body_bytes: int = 10 * 2**20
    max_decompressed_bytes: int = 10 * 2**20
    verify_tls: bool = True
    rate_limit_per_min: float | None = None
    max_retries_429: int = 3
    max_retry_wait_s: float = 60.0
    follow_redirects: bool = False
    select: tuple[str, ...] = ()
    reports_dir: Path = Path("reports")
    formats: tuple[str, ...] = FORMATS
    max_examples: int = 10
    seed: int = 0
    max_time_s: float | None = None
    expected_failures: Path | None = None
    #: A SHOULD or MAY failure (a WARN) fails the run too.
    strict: bool = False
    #: The tenant's data (``tenant`` section); what is not set is found on the target.
    period: PeriodSetting | None = None
    second_period: PeriodSetting | None = None
    earliest_date: dt.date | None = None
    read_only: bool = False
    allow_production: bool = False
    progress: Progress = "auto"
    #: The file the settings were read from, if any.
    config_file: Path | None = None
    #: Things that are allowed but probably not meant (derived, not set); the CLI prints them.
    warnings: tuple[str, ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        problems: list[str] = []
        for name, convert in _CONVERTERS.items():
            try:
                object.__setattr__(self, name, convert(getattr(self, name)))
            except _Invalid as exc:
                problems.append(f"{name}: {exc}")
        if not problems:
            problems = self._cross_check()
        if problems:
            raise ConfigError("\n".join(problems))
        object.__setattr__(self, "warnings", tuple(self._notes()))

    def _cross_check(self) -> list[str]:
        problems = []
        if self.token and (self.client_id or self.client_secret):
            problems.append(
                "credentials: set either JR_TOKEN or JR_CLIENT_ID and JR_CLIENT_SECRET, not both"
            )
        elif self.client_id and not self.client_secret:
            problems.append("client_id is set but JR_CLIENT_SECRET is not")
        elif self.client_secret and not self.client_id:
            problems.append("JR_CLIENT_SECRET is set but client_id (JR_CLIENT_ID) is not")
        production = self.base_url and is_production_host(self.base_url)
        if production and not self.allow_production and not self.read_only:
            problems.append(
                f"base_url {self.base_url} is a production host: the suite refuses to write "
                "there. Test a sandbox, set read_only (--read-only) to run only what reads, or "
                "set allow_production if you really mean to create and cancel journal runs there"
            )
        return problems

    def _notes(self) -> list[str]:
        notes = []
        production = self.base_url is not None and is_production_host(self.base_url)
        if production and not self.verify_tls:
            notes.append(f"TLS verification is off for the production host {self.base_url}")
        if production and not self.read_only:
            notes.append("the run will create and cancel journal runs on a production tenant")
        if self.token_url and not self.client_id:
            notes.append("token_url is set but unused: no client credentials")
        return notes

    # -- what the rest of the suite asks for -----------------------------------------------------

    @property
    def is_reference(self) -> bool:
        """Whether the run tests the embedded reference server."""
        return self.base_url is None

    @property
    def effective_rate_limit(self) -> float | None:
        """``rate_limit_per_min``, else the vendor's 2,500 a minute against its sandbox hosts."""
        if self.rate_limit_per_min is not None:
            return self.rate_limit_per_min
        if self.base_url is not None and is_vendor_sandbox_host(self.base_url):
            return SANDBOX_RATE_LIMIT_PER_MIN
        return None

    def http_settings(self, run_id: str, base_url: str | None = None) -> HttpSettings:
        """Settings for the HTTP session; ``base_url`` is needed for the reference server."""
        url = base_url or self.base_url
        if url is None:
            raise ConfigError("no base URL: start the reference server and pass its URL")
        return HttpSettings(
            base_url=url,
            timeout_s=self.timeout_s,
            max_body_bytes=self.max_body_bytes,
            max_decompressed_bytes=self.max_decompressed_bytes,
            verify_tls=self.verify_tls,
            zuora_version=self.zuora_version,
            rate_limit_per_min=self.effective_rate_limit,
            max_retries_429=self.max_retries_429,
            max_retry_wait_s=self.max_retry_wait_s,
            run_id=run_id,
            follow_redirects=self.follow_redirects,
        )

    def auth(self) -> BearerToken | ClientCredentials | None:
        if self.token:
            return BearerToken(self.token)
        if self.client_id and self.client_secret:
            return ClientCredentials(self.client_id, self.client_secret, self.token_url)
        return None

    def tenant_settings(self) -> TenantSettings:
        """What the configuration says about the tenant's data."""
        return TenantSettings(self.period, self.second_period, self.earliest_date)

    def redacted(self) -> dict[str, Any]:
        """The settings for a report: secrets only say whether they were set."""
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in SECRETS:
                value = REDACTED if value else None
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, PeriodSetting):
                value = value.spec()
            elif isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            data[item.name] = value
        # What paced the run: the vendor's sandbox limit applies when none was set.
        data["rate_limit_per_min"] = self.effective_rate_limit
        return data


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "base_url": _url,
    "token": _secret,
    "client_id": _optional_text,
    "client_secret": _secret,
    "token_url": _url,
    "zuora_version": _text,
    "error_style": _choice(ERROR_STYLES),
    "capabilities": _capabilities,
    "tenants": _optional_int(1),
    "concurrency": _int(1),
    "timeout_s": _float(positive=True),
    "max_body_bytes": _int(1),
    "max_decompressed_bytes": _int(1),
    "verify_tls": _bool,
    "rate_limit_per_min": _optional_float(positive=True),
    "max_retries_429": _int(0),
    "max_retry_wait_s": _float(positive=False),
    "follow_redirects": _bool,
    "select": _strings,
    "reports_dir": _path,
    "formats": _formats,
    "max_examples": _int(1),
    "seed": _int(0),
    "max_time_s": _optional_float(positive=True),
    "expected_failures": _optional_path,
    "strict": _bool,
    "period": _period,
    "second_period": _period,
    "earliest_date": _optional_date,
    "read_only": _bool,
    "allow_production": _bool,
    "progress": _choice(PROGRESS_MODES),
}
#: Settings a file or a flag may carry.
SETTINGS = tuple(name for name in _CONVERTERS if name not in SECRETS)
# Paths in a config file are relative to the file.
_PATH_SETTINGS = ("reports_dir", "expected_failures")


# -- loading -----------------------------------------------------------------------------------


def load_config(
    flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """The validated configuration from ``flags`` (non-``None`` CLI values by setting name, plus
    ``config`` for the file), ``env`` (default ``os.environ``) and the config file they name."""
    flags = {key: value for key, value in (flags or {}).items() if value is not None}
    env = os.environ if env is None else env
    values: dict[str, tuple[Any, str]] = {}  # setting -> (value, where it came from)
    problems: list[str] = []

    config_file = flags.pop("config", None) or env.get(CONFIG_VARIABLE) or None
    path = Path(config_file) if config_file is not None else None
    if path is not None:
        for name, value in _read_file(path).items():
            if name in _PATH_SETTINGS and value is not None and not Path(value).is_absolute():
                value = path.parent / value
            values[name] = (value, f"config file {path}")

    for variable, name in ENVIRONMENT.items():
        if env.get(variable):
            values[name] = (env[variable], variable)

    for name, value in flags.items():
        if name in SECRETS:
            problems.append(
                f"{name}: secrets are not taken from the command line; "
                f"set the {SECRETS[name]} environment variable"
            )
        elif name not in SETTINGS:
            problems.append(f"unknown setting {name!r}{_did_you_mean(name, SETTINGS)}")
        else:
            values[name] = (value, "command line")

    settings: dict[str, Any] = {}
    for name, (value, source) in values.items():
        try:
            settings[name] = _CONVERTERS[name](value)
        except _Invalid as exc:
            problems.append(f"{name} (from {source}): {exc}")
    expected = settings.get("expected_failures")
    if isinstance(expected, Path) and not expected.is_file():
        source = values["expected_failures"][1]
        problems.append(f"expected_failures (from {source}): no such file: {expected}")
    if problems:
        raise ConfigError("\n".join(problems))
    return Config(**settings, config_file=path)


def _read_file(path: Path) -> dict[str, Any]:
    """The settings in a config file, checked for secrets, unknown keys and its JSON Schema."""
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise ConfigError(f"config file {path}: use a .toml, .yaml or .yml file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: cannot read it: {exc}") from None
    try:
        data: Any = tomllib.loads(text) if suffix == ".toml" else yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"config file {path}: invalid YAML: {reason}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: must be a table of settings at the top level")

    data = _dates_as_text(data)
    assert isinstance(data, dict)
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda error: list(error.absolute_path))
    problems = []
    for key in data:
        if key in SECRETS:
            problems.append(
                f"config file {path}: {key!r} is a secret and must not be in a file; "
                f"set the {SECRETS[key]} environment variable instead"
            )
        elif key not in SETTINGS and key != "tenant":
            problems.append(
                f"config file {path}: unknown key {key!r}{_did_you_mean(str(key), SETTINGS)}"
            )
    if problems:
        raise ConfigError("\n".join(problems))
    if errors:
        raise ConfigError("\n".join(f"config file {path}: {_describe(error)}" for error in errors))
    settings: dict[str, Any] = dict(data)
    tenant = settings.pop("tenant", None) or {}
    for key, name in TENANT_SECTION.items():
        if key in tenant:
            settings[name] = tenant[key]
    return settings


def _dates_as_text(value: Any) -> Any:
    """TOML and YAML read a bare ``2025-01-01`` as a date; the schema and the settings want text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _dates_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(item) for item in value]
    return value


def _describe(error: jsonschema.ValidationError) -> str:
    location = ".".join(str(part) for part in error.absolute_path) or "top level"
    return f"{location}: {error.message}"


def _did_you_mean(name: str, options: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name.replace("-", "_").lower(), options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


_SCHEMA: dict[str, Any] | None = None


def _schema() -> dict[str, Any]:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = json.loads(schema_path("config").read_text(encoding="utf-8"))
    return _SCHEMA
