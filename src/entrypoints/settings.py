"""Settings from environment variables, read once into a frozen msgspec Struct."""

from __future__ import annotations

import os
from functools import cache

import msgspec


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/emporium"
    redis_url: str = "redis://127.0.0.1:6379/0"
    broker_namespace: str = "emporium"
    host: str = "127.0.0.1"
    port: int = 8000
    db_pool_size: int = 10
    db_max_overflow: int = 5
    db_pool_timeout: float = 5.0
    relay_poll_interval: float = 1.0
    worker_heartbeat_timeout_ms: int = 60_000
    broker_maintenance_chance: int = 1000
    reservation_ttl_seconds: int = 600
    reconcile_every_seconds: int = 60
    outbox_retention_days: int = 7
    document_cache_seconds: float = 2.0  # in-process micro-cache of rendered public documents
    cdn_purge_url: str = ""  # empty: purges are logged, not sent
    cdn_purge_token: str = ""
    search_backend: str = "postgres"  # postgres | meilisearch
    search_language: str = "english"  # PostgreSQL text search configuration of documents and queries
    meilisearch_url: str = "http://127.0.0.1:7700"
    meilisearch_key: str = ""
    meilisearch_index: str = "products"
    log_level: str = "INFO"
    log_json: bool = True
    secret_key: str = "dev-only-secret-change-me"  # noqa: S105 - overridden by EMPORIUM_SECRET_KEY in production
    environment: str = "development"
    stripe_api_key: str = ""  # empty: Stripe is not offered, only the manual provider
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""  # a Stripe test double (localstripe) in tests; empty: api.stripe.com
    redis_key_prefix: str = "emporium:"  # rate limits, sessions and carts in Redis
    cookie_secure: bool = True  # cart/session cookies are Secure; browsers accept them on http://localhost
    guest_cart_ttl_seconds: int = 7 * 24 * 3600
    customer_cart_ttl_seconds: int = 30 * 24 * 3600
    # Sales channels: name:currency:tax country[-region]:incl|excl (prices with or without tax). The
    # first is the default; a storefront picks another with the X-Channel header. The tax place is
    # where cart estimates assume delivery until checkout knows the address.
    channels: str = "web:EUR:DE:incl,us:USD:US-CA:excl,uk:GBP:GB:incl"
    # E-mail: an empty host logs notifications instead of sending them.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "Emporium <shop@localhost>"
    smtp_starttls: bool = True  # upgrade when the server offers STARTTLS
    # Outbound webhooks: attempts are 1 + max_retries, spaced min_backoff·2^n ms (with jitter) up to max.
    webhook_timeout_seconds: float = 10.0
    webhook_max_retries: int = 12
    webhook_min_backoff_ms: int = 10_000
    webhook_max_backoff_ms: int = 3_600_000


_ENV = {
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "port": "EMPORIUM_PORT",
}


class SettingsError(ValueError):
    """An environment variable holds a value its setting cannot take."""


def from_environ(environ: dict[str, str] | None = None) -> Settings:
    """``DATABASE_URL``, ``REDIS_URL``, ``EMPORIUM_PORT`` and ``EMPORIUM_<FIELD>`` override defaults."""
    env = dict(os.environ if environ is None else environ)
    raw: dict[str, str] = {}
    names: dict[str, str] = {}
    for field in msgspec.structs.fields(Settings):
        name = _ENV.get(field.name, "EMPORIUM_" + field.name.upper())
        if name in env and env[name] != "":
            raw[field.name] = env[name]
            names[field.name] = name
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError:
        for field_name, value in raw.items():  # every setting has a default: find the one refused
            try:
                msgspec.convert({field_name: value}, Settings, strict=False)
            except msgspec.ValidationError as error:
                expected = str(error).split(" - at ")[0]
                raise SettingsError(f"{names[field_name]}={value!r} is not valid ({expected})") from None
        raise


@cache
def get_settings() -> Settings:
    return from_environ()
