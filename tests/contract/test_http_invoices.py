"""Invoices and credit notes over HTTP on the real stack: a pay-later order placed in the storefront, marked
paid and refunded by staff, its PDFs made by the worker's consumer and downloaded by its shopper and by staff
— never by another shopper, never through /media, and a 404 problem+json until they are made."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.postgres import tables as t
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system.clock import SystemClock, UuidIdGenerator
from adapters.system.media_files import FilesystemMediaStorage
from application.subscriptions import build_registry
from domain.staff.roles import Role
from entrypoints.factories import make_shop
from tests.support.bus import build_bus
from tests.support.delivery import deliver_outbox
from tests.support.harness import PostgresHarness
from tests.support.http_app import client_for, settings_for, stocked_products, token_for
from tests.support.invoicing import pdf_has
from tests.support.storefront import BERLIN, Browser, checkout_to

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")


@pytest.fixture(scope="module")
def settings(database_url: str, redis_url: str, tmp_path_factory):
    prefix = f"I{uuid.uuid4().hex[:8]}"
    return settings_for(
        database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:",
        data_dir=str(tmp_path_factory.mktemp("emporium-data")), shop_time_zone="Europe/Berlin",
        seller_name="Emporium GmbH", seller_address="Friedrichstraße 10; 10117 Berlin; Germany",
        seller_vat_id="DE123456789", invoice_prefix=prefix, credit_note_prefix=f"C{prefix[1:]}",
    )


@pytest.fixture(scope="module")
def client(settings):
    with client_for(settings, base_url="https://testserver.local") as c:
        yield c


async def render_documents(engine, settings, order_id: str) -> list[str]:
    """What the worker does with the order's DocumentIssued events: the PDFs, in the API's media directory."""
    ids = UuidIdGenerator()
    bus = build_bus(uow=lambda: PostgresUnitOfWork(engine, ids), clock=SystemClock(), ids=ids,
                    media_storage=FilesystemMediaStorage(Path(settings.data_dir) / "media"), shop=make_shop(settings))
    async with engine.connect() as conn:
        document_ids = list((await conn.execute(
            select(t.invoice_documents.c.id).where(t.invoice_documents.c.order_id == order_id))).scalars())
    await deliver_outbox(PostgresHarness(engine), build_registry(dispatch=bus.handle), document_ids, set())
    return document_ids


async def test_the_shopper_and_staff_download_the_invoice_and_credit_note_and_no_one_else(
    client, settings, engine, unique,
) -> None:
    [(sku, _)] = (await stocked_products(client, engine, [("Boot", 5950, "EUR", 5)])).values()
    shopper = Browser(client)
    shopper.post("/store/cart/lines", json={"sku": sku, "quantity": 2})
    checkout = checkout_to(shopper, BERLIN, "eu-express", "manual")
    placed = shopper.post(f"/store/checkout/{checkout['id']}/place", headers={"Idempotency-Key": f"inv-{unique}"})
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]

    missing = shopper.get(f"/store/orders/{order_id}/invoice")  # not paid: no invoice
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["type"].endswith("/document-not-found")

    staff = {"Authorization": f"Bearer {await token_for(engine, Role.FULFILMENT)}"}
    support = {"Authorization": f"Bearer {await token_for(engine, Role.SUPPORT)}"}
    paid = client.post(f"/admin/orders/{order_id}/mark-paid", headers=staff, json={"evidence": "transfer 42"})
    assert paid.status_code == 200, paid.text
    waiting = shopper.get(f"/store/orders/{order_id}/invoice")  # issued, its PDF not made yet
    assert waiting.status_code == 404
    assert waiting.json()["type"].endswith("/document-not-ready")

    [document_id] = await render_documents(engine, settings, order_id)
    [listed] = shopper.get(f"/store/orders/{order_id}/documents").json()
    number = listed["number"]
    assert (listed["kind"], listed["ready"], listed["gross"]) == ("invoice", True, checkout["totals"]["total"])
    assert number == f"{settings.invoice_prefix}-{listed['issue_date'][:4]}-000001"

    pdf = shopper.get(f"/store/orders/{order_id}/invoice")
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == f'attachment; filename="{number}.pdf"'
    assert pdf.content.startswith(b"%PDF")
    for text in (number, "Ada Lovelace", "Emporium GmbH", "Friedrichstraße 10", "DE123456789", "19%",
                 "Europe/Berlin"):
        assert pdf_has(pdf.content, text), text
    assert client.get(f"/admin/orders/{order_id}/invoice", headers=staff).content == pdf.content
    assert Browser(client).get(f"/store/orders/{order_id}/invoice").status_code == 404  # not yours
    assert client.get(f"/media/documents/invoice/{document_id}.pdf").status_code == 404  # never public

    refunded = client.post(f"/admin/orders/{order_id}/refunds", headers=support,
                           json={"amount": 1000, "reason": "scuffed"})
    assert refunded.status_code == 200, refunded.text
    await render_documents(engine, settings, order_id)
    notes = [d for d in client.get(f"/admin/orders/{order_id}/documents", headers=support).json()
             if d["kind"] == "credit_note"]
    assert [(d["gross"], d["ready"]) for d in notes] == [(1000, True)]
    note = shopper.get(f"/store/orders/{order_id}/credit-notes/{notes[0]['number']}")
    assert note.status_code == 200
    assert pdf_has(note.content, notes[0]["number"])
    assert pdf_has(note.content, number)  # the invoice it corrects
    assert Browser(client).get(f"/store/orders/{order_id}/credit-notes/{notes[0]['number']}").status_code == 404
