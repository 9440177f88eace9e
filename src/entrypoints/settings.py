"""Settings from environment variables, read once into a frozen msgspec Struct."""

from __future__ import annotations

import os
import zoneinfo
from functools import cache
from typing import Literal

import babel
import msgspec

DEVELOPMENT_SECRET = "dev-only-secret-change-me"  # noqa: S105 - refused outside development mode
MIN_SECRET_LENGTH = 32


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/emporium"
    redis_url: str = "redis://127.0.0.1:6379/0"
    broker_namespace: str = "emporium"
    host: str = "127.0.0.1"
    port: int = 8000
    # Connections waiting to be accepted (the listen queue; the kernel caps it at net.core.somaxconn — raise
    # that too for a drop): at a drop's opening thousands connect in the same second, and a connection the
    # queue cannot take waits for the client's SYN retry (1 s, 3 s, 7 s … later), losing its place.
    listen_backlog: int = 16384
    db_pool_size: int = 10
    db_max_overflow: int = 5
    db_pool_timeout: float = 5.0
    relay_poll_interval: float = 1.0
    # The relay publishes again what a consumer has not processed this long after it was published (a
    # broker restarted without persistence lost it), looking every relay_sweep_seconds.
    relay_sweep_seconds: float = 30.0
    relay_sweep_grace_seconds: float = 120.0
    # How much the worker and the relay lower their CPU priority (nice) so that, on a host they share
    # with the API, buyers' requests go first; 0 keeps them level (entrypoints.cli.processes.yield_cpu).
    background_nice: int = 10
    worker_heartbeat_timeout_ms: int = 60_000
    # Each worker process writes a heartbeat this often while it consumes; /health says "degraded"
    # (naming the worker, still 200) when the newest is older than worker_stale_seconds.
    worker_beat_seconds: float = 2.0
    worker_stale_seconds: float = 6.0
    broker_maintenance_chance: int = 1000
    reservation_ttl_seconds: int = 600
    reconcile_every_seconds: int = 60
    outbox_retention_days: int = 7
    document_cache_seconds: float = 2.0  # in-process micro-cache of rendered public documents
    # Where purges go: the edge's address (`emporium edge`; several comma-separated) or, with
    # cdn_purge_api = "fastly", the service's purge URL (https://api.fastly.com/service/<id>/purge).
    # Empty: purges are logged, not sent.
    cdn_purge_url: str = ""
    cdn_purge_token: str = ""  # the edge's purge token, or the Fastly API token
    cdn_purge_api: Literal["varnish", "fastly"] = "varnish"
    edge_port: int = 6081  # `emporium edge` listens here (and its management interface on the next port)
    edge_purgers: str = "127.0.0.1,::1"  # addresses (or networks) the edge takes purges from: the workers' hosts
    search_backend: str = "postgres"  # postgres | meilisearch
    search_language: str = "english"  # PostgreSQL text search configuration of documents and queries
    meilisearch_url: str = "http://127.0.0.1:7700"
    meilisearch_key: str = ""
    meilisearch_index: str = "products"
    log_level: str = "INFO"
    log_json: bool = True
    # Production unless told otherwise: `make run` and the tests set EMPORIUM_ENVIRONMENT=development.
    # In production the API refuses to start with the development secret (see ``refuse_insecure``).
    environment: Literal["production", "development"] = "production"
    secret_key: str = DEVELOPMENT_SECRET  # signs cart cookies and CSRF tokens: EMPORIUM_SECRET_KEY
    # Key rotation: comma-separated keys that still verify (never sign). Put the new key in
    # EMPORIUM_SECRET_KEY and the previous one here until the cookies it signed have expired.
    old_secret_keys: str = ""
    # Browser origins of a headless storefront on another origin (comma-separated, "https://shop.example.com"):
    # they get CORS with credentials and the cookies become SameSite=None; Secure. Empty: same origin only.
    allowed_origins: str = ""
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto count (comma-separated addresses or networks, "*"
    # for any). Empty: nobody's; the client address is the connection's.
    trusted_proxies: str = ""
    # /metrics answers only a scrape with "Authorization: Bearer <token>"; with no token it is served
    # in development mode only.
    metrics_token: str = ""
    stripe_api_key: str = ""  # empty: Stripe is not offered, only the manual provider
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""  # a Stripe test double (localstripe) in tests; empty: api.stripe.com
    redis_key_prefix: str = "emporium:"  # rate limits, sessions and carts in Redis
    # Where Idempotency-Key claims and replays live: "redis" (no PostgreSQL round trip on the hot path;
    # run Redis with AOF to keep them across a restart) or "postgres".
    idempotency_store: Literal["redis", "postgres"] = "redis"
    # How long a serving process keeps the stock status a cart shows (a sale's buyers all ask about one
    # SKU); what is sold is decided by the stock hold, never by it. 0: read on every request.
    stock_status_ttl_seconds: float = 0.5
    # How long a serving process trusts the usage it read of the live promotions with a redemption limit
    # or a budget (the promotions themselves are kept until the catalog version moves or one starts or
    # ends); their limits are counted in the order's transaction. 0: everything read on every request.
    live_promotions_ttl_seconds: float = 0.5
    # How long a serving process trusts the catalog version it read (every cart read checks it before
    # using the products, prices and promotions it kept): a change made elsewhere reaches this process
    # within it, one made here at once. 0: read on every lookup.
    catalog_version_ttl_seconds: float = 0.5
    # Buyers a second this deployment carries through checkout, all seven steps, with the steps still quick
    # (measure it: `emporium bench flash-sale --http --waiting-room --rate N`; docs/benchmarks.md: on the
    # 2-core machine there 50 a second saturate it, 20 keep a step's median near 0.3 s). A drop's waiting
    # room admits at this rate unless the drop sets one.
    drop_capacity_per_second: float = 20.0
    # A waiting room admits at most this many shoppers a unit still for sale, counting the admitted who
    # have not bought yet (some never do) — those admitted in the last window's seconds: one admitted
    # longer ago is taken to have left (their admission still serves them): application/drops/ceiling.py.
    drop_overbook: float = 1.5
    drop_admission_window_seconds: float = 120.0
    # A checkout's hold on units a live drop sells lasts this long at most (reservation_ttl_seconds
    # otherwise): a buyer who walks away from it keeps the room's next shoppers out until it lapses.
    drop_hold_seconds: int = 120
    # Waiting-room joins and questions one API process handles at once while its event loop keeps up (one at
    # a time when it lags), and how many more wait their turn before the rest are told when to come back
    # (entrypoints/http/valve.py).
    drop_queue_in_flight: int = 64
    drop_queue_backlog: int = 8192
    # A question to the room that comes before its Retry-After by at most this many seconds is held and
    # answered at its moment rather than refused at once (0: always refused at once).
    drop_queue_hold_seconds: float = 60.0
    # How long an admission token from a drop's waiting room stays good (a buyer admitted then idle longer
    # asks the room again, which answers a fresh token while the ticket is unused).
    drop_admission_ttl_seconds: int = 900
    cookie_secure: bool = True  # cart/session cookies are Secure; browsers accept them on http://localhost
    guest_cart_ttl_seconds: int = 7 * 24 * 3600
    customer_cart_ttl_seconds: int = 30 * 24 * 3600
    # Sign-up, sign-in and password reset limits; application/customers/throttle.py states the rule.
    auth_sign_ins_per_ip: int = 100  # per client address and auth_ip_window_seconds (generous: shared NAT)
    auth_sign_ups_per_ip: int = 20
    auth_resets_per_ip: int = 20
    auth_ip_window_seconds: int = 300
    auth_resets_per_account: int = 3  # reset e-mails to one account per auth_reset_window_seconds, all addresses
    auth_reset_window_seconds: int = 3600
    auth_free_attempts: int = 5  # per account and address (and per e-mail for sign-up) before delays start
    auth_account_free_attempts: int = 20  # per account, shared by the addresses it never signed in from
    auth_first_delay_seconds: int = 30  # then doubling per attempt…
    auth_max_delay_seconds: int = 900  # …up to this short block
    # Unsafe /store calls (POST, PUT, PATCH, DELETE; /store/events aside) per client address and per shopper
    # session (its session cookie, else its cart cookie): token buckets holding `burst` calls, refilled at
    # `rate` a second; past either, 429 + Retry-After (entrypoints/http/abuse.py). 0 turns a bucket off.
    # A person clicks a few changes a second at most (a quantity stepper hammered, a checkout's steps in a row):
    # 20 in hand and 5 a second more never stop one, while a script retrying in a loop meets them in seconds.
    # An address may be an office or a carrier's NAT with many shoppers behind it, all pressing "add" the
    # second a drop opens: 60 in hand and 20 a second (1,200 changes a minute) from one address.
    store_write_rate_per_ip: float = 20.0
    store_write_burst_per_ip: int = 60
    store_write_rate_per_session: float = 5.0
    store_write_burst_per_session: int = 20
    password_hash_threads: int = 0  # argon2 hashes computed at once, off the event loop; 0: one per CPU
    # Sales channels: name:currency:tax country[-region]:incl|excl — how the channel's prices are entered
    # (with that country's tax inside, or net). The first is the default; a storefront picks another with
    # the X-Channel header. The tax place is where cart estimates assume delivery until checkout knows the
    # address; checkout then charges as the destination does (VAT inside in Europe, sales tax on top in
    # the US), converting the prices where the two differ. ``:pay-later`` after a channel offers pay-later
    # (manual: invoice, cash on delivery) payment there.
    channels: str = "web:EUR:DE:incl:pay-later,us:USD:US-CA:excl,uk:GBP:GB:incl"
    # Pay later (manual): open orders and units one shopper may hold, and hours until an unpaid one is cancelled.
    pay_later_max_open_orders: int = 2
    pay_later_max_open_units: int = 10
    pay_later_deadline_hours: int = 72
    pay_later_per_address_per_day: int = 10  # pay-later payments started from one client address
    # E-mail: an empty host logs notifications instead of sending them.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "Emporium <shop@localhost>"
    # TLS is verified against the system's CAs (or smtp_cafile). STARTTLS is used when the server offers it,
    # and required whenever a user is set: credentials never travel in plain text.
    smtp_starttls: bool = True
    smtp_implicit_tls: bool = False  # TLS from the first byte ("SMTPS"); always on port 465
    smtp_cafile: str = ""  # a CA bundle to trust instead of the system's (a private mail relay, tests)
    # Outbound webhooks: attempts are 1 + max_retries, spaced min_backoff·2^n ms (with jitter) up to max.
    webhook_timeout_seconds: float = 10.0
    webhook_max_retries: int = 12
    webhook_min_backoff_ms: int = 10_000
    webhook_max_backoff_ms: int = 3_600_000
    # Tests and local development only, never production: plain http:// webhook URLs, and exact
    # host:port entries (comma-separated, e.g. "127.0.0.1:8765") exempt from the blocked-address check
    # (a local receiver). Every other loopback, private or link-local address stays refused.
    webhook_allow_http: bool = False
    webhook_allowed_hosts: str = ""
    # Product media (docs/media.md). "filesystem": files under <data_dir>/media, served by the API at
    # /media/; "s3": a bucket (AWS S3 or any S3-compatible store), served by the API or, with
    # media_base_url set to the bucket's (or its CDN's) public address, by the bucket itself.
    data_dir: str = ".emporium"  # the shop's own files (relative: to the working directory)
    media_storage: Literal["filesystem", "s3"] = "filesystem"
    media_base_url: str = "/media/"  # where browsers fetch renditions (their storage key is appended)
    media_max_bytes: int = 20 * 1024 * 1024  # an upload's largest size; larger: 413, nothing stored
    media_max_pixels: int = 50_000_000  # width × height: a larger image (or a decompression bomb) is refused
    media_widths: str = "320,640,1024,2048"  # rendition widths (never wider than the image itself)
    media_avif: bool = True  # AVIF renditions beside the WebP ones, where Pillow writes AVIF
    media_threads: int = 1  # images checked or resized at once per process, at a lower CPU priority
    s3_bucket: str = ""
    s3_endpoint_url: str = ""  # empty: AWS; else the S3-compatible server's address
    s3_region: str = ""
    s3_access_key: str = ""  # empty: boto3's usual credential chain (environment, instance role …)
    s3_secret_key: str = ""
    # The shop: its IANA time zone (sales report days, the dates on invoices and credit notes), the locale
    # its documents are written in, and the seller they name (the address's lines separated by ";").
    shop_time_zone: str = "UTC"
    shop_locale: str = "en"
    seller_name: str = "Emporium"
    seller_address: str = ""
    seller_vat_id: str = ""
    invoice_prefix: str = "INV"  # invoices are numbered INV-<year>-000001, gaplessly per year
    credit_note_prefix: str = "CN"

    def __post_init__(self) -> None:
        try:  # refused at start-up, naming the variable, rather than at the first sale
            zoneinfo.ZoneInfo(self.shop_time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {self.shop_time_zone!r}") from None
        try:
            babel.Locale.parse(self.shop_locale.replace("-", "_"))
        except (ValueError, babel.UnknownLocaleError):
            raise ValueError(f"unknown locale {self.shop_locale!r}") from None


_ENV = {
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "port": "EMPORIUM_PORT",
}


class SettingsError(ValueError):
    """An environment variable holds a value its setting cannot take."""


def secret_keys(settings: Settings) -> list[str]:
    """The signing key first, then the retired ones that still verify."""
    return [settings.secret_key, *(k.strip() for k in settings.old_secret_keys.split(",") if k.strip())]


def refuse_insecure(settings: Settings) -> None:
    """Outside development mode, refuse the development secret, short keys and the webhook test exemptions
    (the API calls this at start)."""
    if settings.environment == "development":
        return
    if settings.webhook_allow_http or settings.webhook_allowed_hosts:
        raise SettingsError(
            "EMPORIUM_WEBHOOK_ALLOW_HTTP and EMPORIUM_WEBHOOK_ALLOWED_HOSTS open webhooks to plain http and "
            "local addresses: tests and development only, never production"
        )
    for name, keys in (("EMPORIUM_SECRET_KEY", [settings.secret_key]),
                       ("EMPORIUM_OLD_SECRET_KEYS", secret_keys(settings)[1:])):
        for key in keys:
            if key == DEVELOPMENT_SECRET or len(key) < MIN_SECRET_LENGTH:
                raise SettingsError(
                    f"{name} must be a random secret of at least {MIN_SECRET_LENGTH} characters in production "
                    "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
                    "or set EMPORIUM_ENVIRONMENT=development on a development machine"
                )


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
