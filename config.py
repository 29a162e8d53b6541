"""Settings for the bot: read once, from the environment and an optional `.env` file.

This is the only module that reads `os.environ` (DESIGN.md section 2). Everything else receives a frozen
`Settings`, so tests build one from a plain mapping and never touch the process environment. That includes the
OpenTelemetry variables that decide whether and where telemetry goes (`OTEL_EXPORTER_OTLP_*`, `OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES`, the export intervals, `APPLICATIONINSIGHTS_CONNECTION_STRING`): read here and handed to
the SDK as arguments (bot/telemetry/setup.py), so an SDK default never picks up something this file did not check.
The one exception is the aiohttp instrumentations' own opt-in knobs (`OTEL_PYTHON_AIOHTTP_*_EXCLUDED_URLS`,
`OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*`), which they read themselves and which only apply while telemetry is on.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlsplit

from dotenv import dotenv_values

# Environment name -> the attribute the Bot Framework SDK's configuration object reads (getattr(config, NAME)).
# Passed through unchanged; an unset one must stay absent, because any truthy endpoint switches the SDK to its
# parameterized authentication.
SDK_PASSTHROUGH: dict[str, str] = {
    "OAuthUrl": "OAUTH_URL",
    "ToBotFromChannelOpenIdMetadataUrl": "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL",
    "ToBotFromChannelTokenIssuer": "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER",
    "ToBotFromEmulatorOpenIdMetadataUrl": "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL",
    "ToChannelFromBotLoginUrl": "TO_CHANNEL_FROM_BOT_LOGIN_URL",
    "ToChannelFromBotOAuthScope": "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE",
    "CallerId": "CALLER_ID",
    "ChannelService": "CHANNEL_SERVICE",
    "ValidateAuthority": "VALIDATE_AUTHORITY",
}

def is_allowed_graph_endpoint(url: str) -> bool:
    """https, or http to this machine only (127.0.0.0/8, ::1, exactly `localhost`): tokens travel there (users' Graph
    tokens to `GraphEndpoint`, the bot's own to `TrustedServiceUrls`).
    The host is parsed, not prefix-matched, so `http://localhost.evil.example` or `http://127.0.0.1@evil` fail."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    if not host or parts.username is not None or parts.password is not None:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


APP_TYPES = {"singletenant": "SingleTenant", "multitenant": "MultiTenant", "userassignedmsi": "UserAssignedMSI"}
STORAGES = ("memory", "blob")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com"
DEFAULT_SERVICE_NAME = "va-link-bot"
OTLP_PROTOCOL = "http/protobuf"  # the only one exported (grpc would add grpcio, ~30 MiB, for no gain here)


class ConfigError(ValueError):
    """A wrong or incomplete configuration; the message is one line that names the setting."""


@dataclass(frozen=True)
class TelemetrySettings:
    """OpenTelemetry: off unless an OTLP endpoint or an Application Insights connection string is set."""

    otlp_endpoint: str = ""  # base URL; /v1/traces and /v1/metrics are appended, as the OTLP spec says
    otlp_headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # often an API key
    otlp_timeout_s: float = 10.0
    azure_connection_string: str = field(default="", repr=False)
    service_name: str = DEFAULT_SERVICE_NAME
    resource_attributes: Mapping[str, str] = field(default_factory=dict)
    traces_export_ms: int = 5000  # OTEL_BSP_SCHEDULE_DELAY
    metrics_export_ms: int = 60000  # OTEL_METRIC_EXPORT_INTERVAL

    @property
    def enabled(self) -> bool:
        return bool(self.otlp_endpoint or self.azure_connection_string)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values no log line may show."""
        return (self.azure_connection_string, *self.otlp_headers.values())

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> TelemetrySettings:
        """The OpenTelemetry variables of the spec that this bot honours; ConfigError names a bad one."""

        def get(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        if get("OTEL_SDK_DISABLED").lower() == "true":
            return cls()
        protocol = get("OTEL_EXPORTER_OTLP_PROTOCOL") or OTLP_PROTOCOL
        if protocol != OTLP_PROTOCOL:
            raise ConfigError(f"OTEL_EXPORTER_OTLP_PROTOCOL must be {OTLP_PROTOCOL} (the only one exported), "
                              f"not {protocol!r}")
        endpoint = get("OTEL_EXPORTER_OTLP_ENDPOINT").rstrip("/")
        if endpoint:
            try:
                parts = urlsplit(endpoint)
                parts.port  # noqa: B018 - raises ValueError for a port that is not a number
            except ValueError:
                parts = None
            if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
                raise ConfigError("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://127.0.0.1:4318")
        connection = get("APPLICATIONINSIGHTS_CONNECTION_STRING")
        if connection and not _has_key(connection, ("InstrumentationKey", "IngestionEndpoint")):
            raise ConfigError("APPLICATIONINSIGHTS_CONNECTION_STRING must be an Application Insights connection "
                              "string (InstrumentationKey=...;IngestionEndpoint=...)")
        headers = _key_values(get("OTEL_EXPORTER_OTLP_HEADERS"), "OTEL_EXPORTER_OTLP_HEADERS")
        attributes = _key_values(get("OTEL_RESOURCE_ATTRIBUTES"), "OTEL_RESOURCE_ATTRIBUTES")
        service = get("OTEL_SERVICE_NAME") or attributes.pop("service.name", "") or DEFAULT_SERVICE_NAME
        attributes.pop("service.name", None)
        return cls(
            otlp_endpoint=endpoint,
            otlp_headers=headers,
            otlp_timeout_s=_positive_ms(env, "OTEL_EXPORTER_OTLP_TIMEOUT", 10000) / 1000,
            azure_connection_string=connection,
            service_name=service,
            resource_attributes=attributes,
            traces_export_ms=_positive_ms(env, "OTEL_BSP_SCHEDULE_DELAY", 5000),
            metrics_export_ms=_positive_ms(env, "OTEL_METRIC_EXPORT_INTERVAL", 60000),
        )


def _has_key(connection_string: str, names: tuple[str, ...]) -> bool:
    keys = {part.split("=", 1)[0].strip().lower() for part in connection_string.split(";") if "=" in part}
    return any(name.lower() in keys for name in names)


def _key_values(raw: str, name: str) -> dict[str, str]:
    """`key1=value1,key2=value2` (W3C Baggage-like, values percent-encoded), as the OTel spec writes these lists."""
    pairs: dict[str, str] = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{name} must be a comma-separated list of key=value pairs")
        pairs[key.strip()] = unquote(value.strip())
    return pairs


def _positive_ms(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 0 < int(raw) <= 3_600_000:
        raise ConfigError(f"{name} must be a number of milliseconds from 1 to 3600000, not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    """Everything the bot is configured with. Build it with `Settings.from_env`."""

    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "SingleTenant"
    app_tenant_id: str = ""
    connection_name: str = "GraphConnection"
    sdk_overrides: Mapping[str, str] = field(default_factory=dict)
    graph_endpoint: str = DEFAULT_GRAPH_ENDPOINT
    bot_domain: str = ""
    allowed_tenant_ids: tuple[str, ...] = ()
    bot_storage: str = "memory"
    blob_connection_string: str = field(default="", repr=False)
    blob_container: str = ""
    host: str = "0.0.0.0"
    port: int = 3978
    log_level: str = "INFO"
    trusted_service_urls: tuple[str, ...] = ()
    telemetry: TelemetrySettings = field(default_factory=lambda: TelemetrySettings())

    @property
    def local_mode(self) -> bool:
        """No app id: local mode (DESIGN.md section 6), unauthenticated and bound to loopback only."""
        return not self.app_id

    @property
    def listen_host(self) -> str:
        """Local mode never listens beyond this machine, whatever HOST says."""
        return "127.0.0.1" if self.local_mode else self.host

    def sdk_config(self) -> SimpleNamespace:
        """The attribute object botbuilder's ConfigurationBotFrameworkAuthentication reads.

        Only the passthrough settings that were given are set, so an unset endpoint stays absent.
        """
        config = SimpleNamespace(
            APP_ID=self.app_id,
            APP_PASSWORD=self.app_password,
            # The SDK's unauthenticated path (local mode) exists only for its MultiTenant factory.
            APP_TYPE="MultiTenant" if self.local_mode else self.app_type,
            APP_TENANTID=self.app_tenant_id,
            PORT=self.port,
        )
        for name, value in self.sdk_overrides.items():
            setattr(config, name, _sdk_value(name, value))
        return config

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env") -> Settings:
        """Read the settings; `environ` wins over the `.env` file. Raises ConfigError naming the bad setting."""
        values: dict[str, str] = {}
        if dotenv_path is not None and Path(dotenv_path).is_file():
            values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Settings:
        """Validate and build from a plain name -> value mapping."""

        def get(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        app_id = get("MicrosoftAppId")
        app_password = get("MicrosoftAppPassword")
        tenant_id = get("MicrosoftAppTenantId")
        # SingleTenant by default: Azure no longer creates multi-tenant bot registrations.
        raw_type = get("MicrosoftAppType") or "SingleTenant"
        app_type = APP_TYPES.get(raw_type.lower())
        if app_type is None:
            allowed = "SingleTenant, MultiTenant or UserAssignedMSI"
            raise ConfigError(f"MicrosoftAppType must be {allowed}, not {raw_type!r}")
        if not app_id:
            partly = [n for n in ("MicrosoftAppPassword", "MicrosoftAppTenantId") if get(n)]
            if partly:
                raise ConfigError(
                    f"{partly[0]} is set but MicrosoftAppId is empty: set both for Azure, or neither for local mode"
                )
        else:
            if app_type in ("SingleTenant", "UserAssignedMSI") and not tenant_id:
                if not get("MicrosoftAppType"):
                    raise ConfigError(
                        "MicrosoftAppTenantId is required: MicrosoftAppType defaults to SingleTenant (set "
                        "MicrosoftAppType=MultiTenant only for a registration made before multi-tenant bots were "
                        "deprecated)"
                    )
                raise ConfigError(f"MicrosoftAppTenantId is required when MicrosoftAppType is {app_type}")
            if app_type != "UserAssignedMSI" and not app_password:
                raise ConfigError(f"MicrosoftAppPassword is required when MicrosoftAppType is {app_type}")

        connection_name = get("ConnectionName", "GraphConnection") or "GraphConnection"
        overrides = {sdk: get(env_name) for env_name, sdk in SDK_PASSTHROUGH.items() if get(env_name)}
        if "VALIDATE_AUTHORITY" in overrides and overrides["VALIDATE_AUTHORITY"].lower() not in ("true", "false"):
            raise ConfigError("ValidateAuthority must be true or false")
        graph_endpoint = (get("GraphEndpoint") or DEFAULT_GRAPH_ENDPOINT).rstrip("/")
        if not is_allowed_graph_endpoint(graph_endpoint):
            raise ConfigError("GraphEndpoint must be an https URL (http only for loopback: 127.x, ::1, localhost)")

        storage = (get("BotStorage", "memory") or "memory").lower()
        if storage not in STORAGES:
            raise ConfigError(f"BotStorage must be memory or blob, not {storage!r}")
        blob_cs, blob_container = get("BlobConnectionString"), get("BlobContainer")
        if storage == "blob" and not blob_cs:
            raise ConfigError("BlobConnectionString is required when BotStorage is blob")
        if storage == "blob" and not blob_container:
            raise ConfigError("BlobContainer is required when BotStorage is blob")

        raw_port = get("PORT", "3978") or "3978"
        if not raw_port.isdigit() or not 0 <= int(raw_port) <= 65535:
            raise ConfigError(f"PORT must be a number from 0 to 65535, not {raw_port!r}")
        log_level = (get("LOG_LEVEL", "INFO") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")

        tenants = tuple(t.strip().lower() for t in get("AllowedTenantIds").split(",") if t.strip())
        trusted = tuple(u.strip() for u in get("TrustedServiceUrls").split(",") if u.strip())
        for url in trusted:
            if not is_allowed_graph_endpoint(url):  # the bot's token goes there: https, or http to loopback only
                raise ConfigError("TrustedServiceUrls must be https URLs (http only for loopback: 127.x, ::1, "
                                  "localhost)")
        return cls(
            telemetry=TelemetrySettings.from_mapping(env),
            app_id=app_id,
            app_password=app_password,
            app_type=app_type,
            app_tenant_id=tenant_id,
            connection_name=connection_name,
            sdk_overrides=overrides,
            graph_endpoint=graph_endpoint,
            bot_domain=get("BotDomain"),
            allowed_tenant_ids=tenants,
            bot_storage=storage,
            blob_connection_string=blob_cs,
            blob_container=blob_container,
            host=get("HOST", "0.0.0.0") or "0.0.0.0",
            port=int(raw_port),
            log_level=log_level,
            trusted_service_urls=trusted,
        )


def _sdk_value(name: str, value: str) -> Any:
    """The SDK expects a bool for VALIDATE_AUTHORITY and strings for everything else."""
    if name == "VALIDATE_AUTHORITY":
        return value.lower() == "true"
    return value
