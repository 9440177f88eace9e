"""Which sales channel a public catalog read is priced for: ``X-Channel`` (as the cart takes it), else the
channel selling in ``?currency=``, else the default. Cached answers ``Vary`` on the header; the currency is in
the URL."""

from __future__ import annotations

from typing import Any

from litestar import Request

from application.carts.errors import UnknownChannel
from application.carts.pricing import Channels
from application.catalog.errors import ChannelCurrencyMismatch

CHANNEL_HEADER = "x-channel"
VARY = "Accept-Encoding, X-Channel"


def storefront_channel(request: Request[Any, Any, Any], currency: str | None) -> tuple[str | None, str]:
    """(channel, currency) the read is priced in. A currency no channel sells in prices from the all-channels
    lists alone (channel ``None``): what a list says, though no cart charges it."""
    channels: Channels = request.app.state.container.channels()
    # Lower-cased as the edge does before it keys its cache on the header (deploy/varnish/emporium.vcl).
    named = (request.headers.get(CHANNEL_HEADER) or "").strip().lower()
    if named:
        channel = channels.find(named)
        if channel is None:
            raise UnknownChannel(f"no sales channel {named!r}")
        if currency is not None and currency != channel.currency:
            raise ChannelCurrencyMismatch(f"channel {named!r} sells in {channel.currency}, not {currency}")
        return channel.name, channel.currency
    if currency is not None:
        found = channels.in_currency(currency)
        return (found.name if found else None), currency
    return channels.default.name, channels.default.currency
