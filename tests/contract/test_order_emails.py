"""Order e-mails through a real SMTP server (aiosmtpd on 127.0.0.1) and the PostgreSQL sent log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from adapters.memory.clock import SequentialIds
from adapters.postgres import tables as t
from adapters.postgres.notifications import PostgresSentNotifications
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.smtp.notifier import KEY_HEADER, SmtpNotifier
from adapters.system.clock import SystemClock
from application.messaging.consumers import Consumer, ConsumerRegistry, deliver
from application.notifications import OnceNotifier
from application.orders import emails
from application.subscriptions import build_registry
from domain.orders.order import OrderPlaced
from tests.support.harness import PostgresHarness
from tests.support.notify import Mailbox, smtp_server
from tests.support.orders import new_order
from tests.support.waiting import GENEROUS


@pytest.fixture
def mailbox():
    with smtp_server() as box:
        yield box


def notifier_for(engine, mailbox: Mailbox) -> OnceNotifier:
    smtp = SmtpNotifier("127.0.0.1", port=mailbox.port, sender="Emporium <shop@example.com>", timeout=GENEROUS)
    return OnceNotifier(smtp, PostgresSentNotifications(engine), SystemClock())


def uow_for(engine):
    ids = SequentialIds()
    return lambda: PostgresUnitOfWork(engine, ids)


async def test_one_confirmation_per_placed_order_even_when_the_event_comes_twice(engine, mailbox, unique) -> None:
    uow = uow_for(engine)
    order = new_order(unique, email=f"ada-{unique}@example.com")
    async with uow() as tx:
        await tx.orders.add(order)
        await tx.commit()
    [placed] = [m for m in await PostgresHarness(engine).outbox_for(order.id) if m.topic == OrderPlaced.topic]
    notifier = notifier_for(engine, mailbox)
    registry = build_registry(notifier=notifier)

    assert await deliver(registry, "order_emails", placed, uow) is True
    assert await deliver(registry, "order_emails", placed, uow) is False  # the broker redelivered it
    # Another consumer of the same event (or a resend by hand): the sent log still says no.
    again = ConsumerRegistry([
        Consumer("order_emails_again").on_message(placed.topic, emails.on_order_placed(notifier)),
    ])
    assert await deliver(again, "order_emails_again", placed, uow) is True
    async with uow() as tx:
        await emails.on_order_placed(notifier)(placed, tx)

    mine = [m for m in mailbox.messages if m["To"] == order.email]
    assert len(mine) == 1
    [mail] = mine
    assert mail[KEY_HEADER] == f"order_confirmation:{placed.id}"
    assert f"Your order {order.number} is confirmed" == mail["Subject"]
    text, html = (part.get_content() for part in mail.iter_parts())
    assert "2 × Boot & Lace" in text
    assert "Boot &amp; Lace" in html
    async with engine.connect() as conn:
        sent = (await conn.execute(select(t.sent_emails).where(t.sent_emails.c.recipient == order.email))).all()
    assert [(r.key, r.template) for r in sent] == [(f"order_confirmation:{placed.id}", "order_confirmation")]


async def test_an_order_mails_its_confirmation_shipping_and_refund_once_each(engine, mailbox, unique) -> None:
    uow = uow_for(engine)
    order = new_order(unique, email=f"grace-{unique}@example.com")
    now = datetime.now(UTC)
    async with uow() as tx:
        await tx.orders.add(order)
        await tx.commit()
    async with uow() as tx:
        order = await tx.orders.get(order.id)
        order.pay(reference=f"pay-{unique}", amount=order.totals.total, now=now, actor="test")
        order.fulfil(fulfilment_id=f"f-{unique}", lines={order.lines[0].id: 2}, now=now, actor="test")
        order.ship(carrier="DHL", tracking_number=f"TRK{unique}", now=now, actor="test")
        order.deliver(now=now, actor="test")
        order.refund(amount=1000, reference=f"re-{unique}", reason="scratched", now=now, actor="test")
        await tx.orders.save(order)
        await tx.commit()
    registry = build_registry(notifier=notifier_for(engine, mailbox))
    for message in await PostgresHarness(engine).outbox_for(order.id):
        if registry.get("order_emails").wants(message.topic):
            for _ in range(2):
                await deliver(registry, "order_emails", message, uow)

    subjects = sorted(m["Subject"] for m in mailbox.messages if m["To"] == order.email)
    assert subjects == sorted([
        f"Your order {order.number} is confirmed",
        f"Your order {order.number} is on its way",
        f"A refund of €10.00 for order {order.number}",
    ])
    shipped = next(m for m in mailbox.messages if m["Subject"].endswith("on its way"))
    assert f"TRK{unique}" in shipped.get_body(("plain",)).get_content()
