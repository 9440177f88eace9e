"""E-mail templates render every order e-mail in text and HTML; the once-only notifier sends a key once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory.customers import MemorySentNotifications
from adapters.smtp.notifier import KEY_HEADER, SmtpNotifier
from adapters.smtp.templates import TemplateRenderer, UnknownTemplate
from application.notifications import OnceNotifier
from application.orders import emails
from application.orders.emails import greeting
from application.ports.notifier import Notification
from tests.support.orders import new_order


class EveryNotifier:
    """Sends whatever it is given, duplicates included (unlike ``MemoryNotifier``)."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        self.sent.append(notification)


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(("template", "extra", "expected"), [
    (emails.CONFIRMATION, {}, "is confirmed"),
    (emails.SHIPPED, {"carrier": "DHL", "tracking_number": "00340434"}, "on its way"),
    (emails.REFUNDED, {"refund_amount": "€10.00"}, "A refund of €10.00"),
])
def test_every_order_email_renders_text_and_escaped_html(template: str, extra: dict[str, str], expected: str) -> None:
    context = {**emails.order_context(new_order("t1")), **extra}
    rendered = TemplateRenderer().render(template, context)
    assert expected in rendered.subject
    assert "EMP-t1" in rendered.subject
    assert "Ada <Lovelace>" in rendered.text
    assert "Ada &lt;Lovelace&gt;" in rendered.html
    assert "<Lovelace>" not in rendered.html
    if template != emails.REFUNDED:
        assert "2 × Boot & Lace (BOOT-t1)" in rendered.text
        assert "Boot &amp; Lace" in rendered.html


def test_a_password_reset_renders_and_an_unknown_template_is_an_error() -> None:
    rendered = TemplateRenderer().render("password_reset", {"name": "Ada", "token": "tok", "expires_in_minutes": 30})
    assert "tok" in rendered.text
    assert "30 minutes" in rendered.html
    with pytest.raises(UnknownTemplate):
        TemplateRenderer().render("nope", {})
    with pytest.raises(KeyError):
        TemplateRenderer().render("password_reset", {"name": "Ada"})


def test_the_smtp_message_has_a_text_and_an_html_part_and_a_stable_message_id() -> None:
    notifier = SmtpNotifier("127.0.0.1", sender="Shop <shop@example.com>")
    notification = Notification(to="ada@example.com", template="password_reset", key="password_reset:abc",
                                context={"name": "Ada", "token": "tok", "expires_in_minutes": 30})
    message = notifier.message(notification)
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message[KEY_HEADER] == "password_reset:abc"
    assert message["Message-ID"] == notifier.message(notification)["Message-ID"]


async def test_the_once_notifier_sends_a_key_once() -> None:
    inner, log = EveryNotifier(), MemorySentNotifications()
    notifier = OnceNotifier(inner, log, FixedClock())
    for _ in range(2):
        await notifier.send(Notification(to="a@example.com", template="order_confirmation", key="k:1"))
    await notifier.send(Notification(to="a@example.com", template="order_confirmation", key="k:2"))
    assert [n.key for n in inner.sent] == ["k:1", "k:2"]
    assert set(log.keys) == {"k:1", "k:2"}


@pytest.mark.parametrize(("name", "greeted"), [
    ("Ada Lovelace", "Ada Lovelace"),
    ("x" * 40, "x" * 40),
    ("x" * 41, "x" * 40 + "…"),
    ("Claim your prize now at https://evil.example/win before midnight", "Claim your prize now at…"),
    ("Ada\n\nLovelace", "Ada Lovelace"),
])
def test_the_greeting_carries_at_most_forty_characters_of_the_shoppers_name(name: str, greeted: str) -> None:
    assert greeting(name) == greeted
