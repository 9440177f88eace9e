"""Integration events the catalog's read side emits for others (the CDN purge)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.shared.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductDocumentChanged(DomainEvent):
    """A storefront document now reads differently: caches holding these keys are stale."""

    topic = "catalog.document_changed.v1"
    surrogate_keys: tuple[str, ...]
