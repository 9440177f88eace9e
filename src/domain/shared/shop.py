"""The merchant as its documents and reports show it: who sells, and in which time zone its days run."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime

from domain.shared.errors import InvalidInput


def time_zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone named ``name``; ``InvalidInput`` for a name the zone database does not know."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Shop:
    """The seller on invoices and credit notes (``name``, ``address`` lines, ``vat_id``), the time zone
    its sales days and document dates are in, the locale its documents are written for, and the prefixes
    of its document series (``INV-2026-000001``)."""

    name: str = "Emporium"
    address: tuple[str, ...] = ()
    vat_id: str = ""
    time_zone: str = "UTC"
    locale: str = "en"
    invoice_prefix: str = "INV"
    credit_note_prefix: str = "CN"

    def __post_init__(self) -> None:
        time_zone(self.time_zone)
        for prefix in (self.invoice_prefix, self.credit_note_prefix):
            if not prefix or not all(c.isalnum() or c in "-_" for c in prefix) or len(prefix) > 20:
                raise InvalidInput(f"a document prefix is 1 to 20 letters, digits, '-' or '_': {prefix!r}")
        if self.invoice_prefix == self.credit_note_prefix:
            raise InvalidInput("invoices and credit notes need series of their own")

    def local(self, moment: datetime) -> datetime:
        """``moment`` (timezone-aware) on the shop's clock."""
        return moment.astimezone(time_zone(self.time_zone))

    def day_of(self, moment: datetime) -> date:
        """The shop's calendar day at ``moment``: a sale at 23:30 UTC is the next day in Berlin."""
        return self.local(moment).date()
