"""Adapters and policies chosen or shaped by settings: what the container's providers call."""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from dependency_injector import providers

from adapters.http.cdn import FastlyPurger, LoggingCdnPurger, VarnishPurger
from adapters.meilisearch.index import MeilisearchSearchIndex
from adapters.postgres.idempotency import PostgresIdempotencyStore
from adapters.postgres.notifications import PostgresSentNotifications
from adapters.postgres.search import PostgresSearchIndex
from adapters.redis.idempotency import RedisIdempotencyStore
from adapters.s3.media import S3MediaStorage
from adapters.smtp.logging import LoggingNotifier
from adapters.smtp.notifier import SmtpNotifier
from adapters.stripe.payments import StripePaymentGateway
from adapters.system.manual_payments import ManualPaymentGateway
from adapters.system.media_files import FilesystemMediaStorage
from application.catalog.media_commands import MediaLimits
from application.catalog.snapshot import CatalogSnapshot
from application.customers.throttle import AuthLimits
from application.drops.admission import AdmissionTokens
from application.notifications import OnceNotifier
from application.payments.pay_later import PayLater
from domain.shared.shop import Shop
from entrypoints.settings import Settings, secret_keys


def make_notifier(settings: Settings, engine: Any, clock: Any) -> Any:
    """SMTP (each keyed e-mail at most once, by the ``sent_emails`` log) when a host is configured."""
    if not settings.smtp_host:
        return LoggingNotifier()
    smtp = SmtpNotifier(
        settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from, user=settings.smtp_user,
        password=settings.smtp_password, starttls=settings.smtp_starttls,
        implicit_tls=settings.smtp_implicit_tls, cafile=settings.smtp_cafile,
    )
    return OnceNotifier(smtp, PostgresSentNotifications(engine), clock)


def make_gateways(settings: Settings) -> dict[str, Any]:
    """The manual provider always; Stripe when a key is configured."""
    gateways: dict[str, Any] = {"manual": ManualPaymentGateway()}
    if settings.stripe_api_key:
        gateways["stripe"] = StripePaymentGateway(
            settings.stripe_api_key, settings.stripe_webhook_secret, api_base=settings.stripe_api_base or None,
        )
    return gateways


def catalog_changes(version: Any) -> Callable[[list[str]], Awaitable[None]]:
    """What a unit of work calls after each commit: bump the catalog version when products or prices changed."""

    async def committed(topics: list[str]) -> None:
        if CatalogSnapshot.concerns(topics):
            await version.bump()

    return committed


def make_idempotency_store(settings: Settings, engine: Any, redis: Any) -> Any:
    if settings.idempotency_store == "postgres":
        return PostgresIdempotencyStore(engine)
    return RedisIdempotencyStore(redis, prefix=settings.redis_key_prefix)


def make_search_index(settings: Settings, engine: Any) -> Any:
    if settings.search_backend == "meilisearch":
        return MeilisearchSearchIndex(settings.meilisearch_url, api_key=settings.meilisearch_key,
                                      index=settings.meilisearch_index)
    return PostgresSearchIndex(engine)


def make_cdn(settings: Settings) -> Any:
    """Purges sent to the configured CDN or edge; logged only when none is configured."""
    if settings.cdn_purge_url and settings.cdn_purge_api == "fastly":
        return FastlyPurger(settings.cdn_purge_url, token=settings.cdn_purge_token)
    if settings.cdn_purge_url:
        return VarnishPurger([u.strip() for u in settings.cdn_purge_url.split(",") if u.strip()],
                             token=settings.cdn_purge_token)
    return LoggingCdnPurger()


def make_auth_limits(settings: Settings) -> AuthLimits:
    s = settings
    return AuthLimits(
        sign_ins_per_ip=s.auth_sign_ins_per_ip, sign_ups_per_ip=s.auth_sign_ups_per_ip,
        resets_per_ip=s.auth_resets_per_ip, ip_window_seconds=s.auth_ip_window_seconds,
        resets_per_account=s.auth_resets_per_account, reset_window_seconds=s.auth_reset_window_seconds,
        free_attempts=s.auth_free_attempts, account_free_attempts=s.auth_account_free_attempts,
        first_delay_seconds=s.auth_first_delay_seconds, max_delay_seconds=s.auth_max_delay_seconds,
    )


def make_pay_later(settings: Settings) -> PayLater:
    return PayLater(max_open_orders=settings.pay_later_max_open_orders,
                    max_open_units=settings.pay_later_max_open_units,
                    deadline=timedelta(hours=settings.pay_later_deadline_hours),
                    per_address_per_day=settings.pay_later_per_address_per_day)


def make_admissions(settings: Settings) -> AdmissionTokens:
    return AdmissionTokens(secret_keys(settings), ttl_seconds=settings.drop_admission_ttl_seconds)


def make_media_storage(settings: Settings) -> Any:
    """Files under the data directory, or the configured S3-compatible bucket."""
    if settings.media_storage == "s3":
        return S3MediaStorage(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url,
                              region=settings.s3_region, access_key=settings.s3_access_key,
                              secret_key=settings.s3_secret_key, public_url=settings.media_base_url)
    return FilesystemMediaStorage(Path(settings.data_dir) / "media", base_url=settings.media_base_url)


def make_media_limits(settings: Settings) -> MediaLimits:
    widths = tuple(sorted({int(w) for w in settings.media_widths.split(",") if w.strip()}))
    return MediaLimits(max_bytes=settings.media_max_bytes, widths=widths or MediaLimits().widths)


def make_shop(settings: Settings) -> Shop:
    """The seller its documents name, its time zone and locale (checked when the settings are read)."""
    return Shop(
        name=settings.seller_name, address=tuple(p.strip() for p in settings.seller_address.split(";") if p.strip()),
        vat_id=settings.seller_vat_id, time_zone=settings.shop_time_zone, locale=settings.shop_locale,
        invoice_prefix=settings.invoice_prefix, credit_note_prefix=settings.credit_note_prefix,
    )


def redis_keys(settings: Any, kind: str) -> providers.Provider[str]:
    """Redis keys of one kind under the configured prefix (two shops may share a Redis)."""
    return providers.Callable(operator.add, settings.redis_key_prefix, kind)
