"""The hub's settings, read from ``HUB_*`` environment variables."""

from __future__ import annotations

import os
import re
import secrets
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name
MIN_SECRET_LENGTH = 32
BUS_SCHEMES = ("memory://", "redis://", "rediss://")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104 - names, not a bind


class SettingsError(Exception):
    """A setting is invalid; the message names it and says what is wrong, in one line."""


class Settings(BaseSettings):
    """Everything configurable about one hub process.

    Every field is read from the environment as ``HUB_<FIELD>`` (e.g. ``HUB_PORT``).
    """

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    data_dir: Path = Field(
        Path("./var"),
        description="Folder for the SQLite database, media and the generated secret key.",
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file in the data folder."
    )
    database_busy_timeout: float = Field(
        5.0,
        ge=0,
        le=60,
        description="Seconds a SQLite write waits for another writer's lock before the "
        "request is answered 503 with Retry-After.",
    )
    secret_key: str | None = Field(
        None,
        min_length=32,
        description="Key that encrypts channel and CRM credentials at rest; generated into the data folder when not given.",
    )
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8080, ge=1, le=65535, description="Port to listen on.")
    public_url: str | None = Field(
        None, description="URL the hub is reached at from outside; webhook URLs are built from it."
    )
    bus_url: str = Field(
        "memory://",
        description="Realtime event bus: memory:// (one process) or redis://… (several).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    cookie_secure: bool | None = Field(
        None,
        description="Mark the session cookie Secure; default: when public_url is https, or, "
        "without public_url, when the hub listens on a loopback address only.",
    )
    session_days: int = Field(14, ge=1, le=365, description="How long a login session lasts.")
    login_max_failures: int = Field(
        5, ge=1, description="Failed logins per email or address before throttling."
    )
    login_window_seconds: int = Field(
        900, ge=1, description="Window in which failed logins are counted."
    )
    disable_plugin_autoload: bool = Field(
        False, description="Load no plugin from entry points, except those in plugins_allow."
    )
    plugins_allow: list[str] = Field(
        default_factory=list,
        description="With autoload disabled: entry-point names to load anyway.",
    )
    plugins_blocked: list[str] = Field(
        default_factory=list, description="Entry-point names never to load."
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or CIDR networks of reverse proxies whose "
        "X-Forwarded-For gives the client's address; empty trusts none.",
    )
    plugin_trace: bool = Field(False, description="Log every hook call and its result.")
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest request body accepted (413 beyond)."
    )
    webhook_max_depth: int = Field(
        64,
        ge=2,
        le=100,
        description="Deepest nesting of arrays and objects a webhook's JSON body may have "
        "(400 beyond).",
    )
    rejected_body_bytes: int = Field(
        4096,
        ge=0,
        description="How much of a rejected webhook request's body the inbound log keeps "
        "(with the whole body's size and sha256).",
    )
    webhook_rejected_per_minute: int = Field(
        30,
        ge=1,
        description="Rejected webhook requests one source address may make a minute; past "
        "that, requests it makes that would be rejected get 429 with Retry-After, unlogged.",
    )
    inbound_log_keep_days: int = Field(
        30,
        ge=0,
        description="Days the inbound log keeps requests that were not rejected "
        "(held ones are kept until replayed); 0 keeps them forever.",
    )
    inbound_log_rejected_keep_days: int = Field(
        7, ge=0, description="Days the inbound log keeps rejected requests; 0 keeps them forever."
    )
    inbound_log_prune_seconds: float = Field(
        3600.0, gt=0, description="How often inbound-log rows past their retention are deleted."
    )
    audit_keep_days: int = Field(
        365,
        ge=0,
        description="Days the audit log keeps its entries (who changed what in the "
        "workspace's set-up); 0 keeps them forever.",
    )
    idempotency_key_hours: int = Field(
        24,
        ge=1,
        le=24 * 30,
        description="Hours an Idempotency-Key is remembered: a repeat within them replays "
        "the first answer instead of sending again.",
    )
    realtime_replay_seconds: int = Field(
        900,
        ge=1,
        le=7 * 24 * 3600,
        description="How long the realtime event log keeps events for websocket clients "
        "that reconnect (/ws?after=<id>); a client away longer is told to resync.",
    )
    snooze_check_seconds: float = Field(
        15.0, gt=0, description="How often snoozed conversations are checked for their wake time."
    )
    csat_check_seconds: float = Field(
        60.0,
        gt=0,
        description="How often closed conversations are checked for a CSAT survey to send "
        "(a close also triggers a check at once).",
    )
    sla_check_seconds: float = Field(
        15.0,
        gt=0,
        description="How often SLA clocks are started and passed due times marked as breached.",
    )
    report_build_seconds: float = Field(
        10.0,
        gt=0,
        description="How often the reports' pre-aggregate is brought up to date with the "
        "conversations changed since (a report also builds what is left before it reads).",
    )
    counts_cache_seconds: float = Field(
        1.0,
        ge=0,
        description="How long the sidebar counts may be shared between users (each sees "
        "only what they may; they are also refreshed on every change); 0 turns sharing off.",
    )
    shutdown_timeout: float = Field(
        10.0, ge=0, description="Seconds to let requests finish on SIGTERM."
    )
    webhook_max_events: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="Most events one webhook request may carry; more is refused with 413 "
        "(the provider sends them in smaller requests).",
    )
    inbound_chunk_events: int = Field(
        100,
        ge=1,
        le=100_000,
        description="A webhook request with more events is stored in chunks of this many, "
        "each committed on its own so other channels' requests get in between; it is "
        "answered once the last is committed.",
    )
    inbound_batch_max: int = Field(
        200,
        ge=1,
        le=10_000,
        description="Most webhook requests committed together in one transaction (group "
        "commit); each is still answered only after its commit.",
    )
    outbox_lease_seconds: float = Field(
        60.0,
        gt=0,
        description="How long an outbox worker holds a delivery; a row whose worker died is "
        "taken again after this. A live worker extends it while the send is in flight.",
    )
    outbox_send_timeout_seconds: float = Field(
        54.0,
        gt=0,
        description="Longest a channel plugin's send may take before it is stopped and "
        "retried (a hanging provider).",
    )
    outbox_poll_seconds: float = Field(
        1.0, gt=0, description="How often an idle outbox worker looks for due deliveries."
    )
    outbox_max_attempts: int = Field(
        10, ge=1, description="Delivery attempts before a message is dead-lettered."
    )
    outbox_backoff_seconds: float = Field(
        2.0, gt=0, description="First retry delay; it doubles each attempt, with jitter."
    )
    outbox_backoff_max_seconds: float = Field(
        3600.0, gt=0, description="Longest delay between two delivery attempts."
    )
    outbox_concurrency: int = Field(
        16, ge=1, description="Deliveries in flight at once in one hub process, all channels."
    )
    webhook_poll_seconds: float = Field(
        1.0, gt=0, description="How often an idle webhook worker looks for due deliveries."
    )
    webhook_lease_seconds: float = Field(
        60.0,
        gt=0,
        description="How long a webhook worker holds a delivery it took; a delivery whose "
        "worker died is taken again after this. Keep it above the attempt timeout.",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="How long one webhook delivery attempt may take."
    )
    webhook_retry_hours: float = Field(
        24.0, gt=0, description="How long a failing webhook delivery is retried before it fails."
    )
    webhook_backoff_seconds: float = Field(
        30.0, gt=0, description="First webhook retry delay; it doubles each attempt, with jitter."
    )
    webhook_backoff_max_seconds: float = Field(
        3600.0, gt=0, description="Longest delay between two webhook delivery attempts."
    )
    webhook_concurrency: int = Field(
        8, ge=1, description="Webhook deliveries in flight at once in one hub process."
    )
    webhook_keep_days: int = Field(
        7,
        ge=0,
        description="Days delivered and failed webhook deliveries stay in the delivery log; "
        "0 keeps them forever.",
    )
    channel_concurrency: int = Field(
        4,
        ge=1,
        description="Deliveries in flight at once per channel, unless the channel sets its own.",
    )
    channel_rate_per_second: float = Field(
        20.0,
        gt=0,
        description="Deliveries started per second per channel, unless the channel sets its own.",
    )
    polling_enabled: bool = Field(
        True, description="Run the poll loops of polling channels in this hub process."
    )
    poll_rescan_seconds: float = Field(
        5.0, gt=0, description="How often the poll runner looks for channels to start or stop."
    )
    poll_idle_seconds: float = Field(
        1.0, ge=0, description="Pause after a poll that brought nothing, before the next one."
    )
    poll_backoff_seconds: float = Field(
        2.0, gt=0, description="First wait after a failed poll; it doubles, with jitter."
    )
    poll_backoff_max_seconds: float = Field(
        300.0, gt=0, description="Longest wait after failed polls (a provider's own wait wins)."
    )
    poll_credentials_backoff_seconds: float = Field(
        600.0, gt=0, description="Wait after the provider refused a polling channel's credentials."
    )

    @field_validator("public_url")
    @classmethod
    def _public_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_parse(cls, value: str) -> str:
        for item in _split(value):
            try:
                ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
        return value

    @field_validator("bus_url")
    @classmethod
    def _bus_url_is_supported(cls, value: str) -> str:
        if not value.startswith(BUS_SCHEMES):
            raise ValueError(f"must start with one of {', '.join(BUS_SCHEMES)}")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # The async engine needs the asyncpg driver; accept the common spelling.
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite+aiosqlite:// or postgresql(+asyncpg):// URL")
        return value

    @property
    def effective_database_url(self) -> str:
        """The database URL in use: the configured one or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hub.db').resolve()}"

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """``trusted_proxies`` parsed; an address is a network of one."""
        return tuple(ip_network(item, strict=False) for item in _split(self.trusted_proxies))

    @property
    def is_sqlite(self) -> bool:
        """Whether the hub runs on the embedded SQLite engine."""
        return self.effective_database_url.startswith("sqlite")

    @property
    def base_url(self) -> str:
        """Where the hub is reached: ``public_url`` or the address it listens on."""
        if self.public_url:
            return self.public_url
        host = "localhost" if self.host in WILDCARD_HOSTS else self.host
        return f"http://{host}:{self.port}"

    @property
    def listens_on_loopback(self) -> bool:
        """Whether only this machine can reach the hub."""
        return self.host in ("localhost", "::1") or self.host.startswith("127.")

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies carry the Secure flag (browsers accept it on localhost)."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        if self.public_url:
            return self.public_url.startswith("https://")
        # Browsers accept Secure cookies from http://localhost, but not from a LAN address
        # over plain http, where a Secure cookie would silently make login impossible.
        return self.listens_on_loopback


def _split(items: str) -> list[str]:
    return [item.strip() for item in items.split(",") if item.strip()]


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise ``SettingsError`` naming a bad one."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except PydanticSettingsError as err:
        # Raised before validation, e.g. a list setting that is not a JSON array.
        raise SettingsError(_name_setting(str(err))) from None
    except ValidationError as err:
        first = err.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise SettingsError(f"HUB_{field.upper()}: {first['msg']}") from None
    return settings


def _name_setting(message: str) -> str:
    """pydantic-settings says 'error parsing value for field "x" from source …'."""
    match = re.search(r'field "(\w+)"', message)
    if match is None:
        return message
    return f'HUB_{match.group(1).upper()}: cannot be parsed (lists are JSON arrays, e.g. ["a"])'


def ensure_data_dir(settings: Settings) -> None:
    """Create the data folder, readable by this user only: it holds the database and key."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


def ensure_secret_key(settings: Settings) -> str:
    """Return the secret key, generating it into the data folder (mode 0600) on first start."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / SECRET_KEY_FILE
    if not path.exists():
        ensure_data_dir(settings)
        # Written whole to a temporary file, then linked into place: the key file never
        # exists half-written, and link() fails if another hub got there first.
        temporary = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another hub wrote the key first: use theirs
        finally:
            temporary.unlink()
    key = path.read_text().strip()
    if len(key) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"{path}: holds no usable secret key (under {MIN_SECRET_LENGTH} characters); "
            "restore it from your backup, or delete it to make a new one"
        )
    return key
