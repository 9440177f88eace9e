"""The drops repository (in-memory fake and PostgreSQL) and the admin API over HTTP on the real stack."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from adapters.postgres import tables as t
from application.drops.admission import ticket_for
from application.drops.queue import TicketDesk
from application.drops.rooms import TicketRecord
from domain.drops.drop import Drop, DropNotFound, DropTerms
from domain.shared.errors import ConcurrencyConflict
from domain.staff.roles import Role
from tests.support.http_app import client_for, settings_for, stocked_products, token_for
from tests.support.storefront import BERLIN, Browser
from tests.support.waiting import wait_until

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _drop(skus: tuple[str, ...], *, opens_in: timedelta = timedelta(days=1), ends_in: timedelta | None = None) -> Drop:
    terms = DropTerms(name="Drop", skus=skus, opens_at=NOW + opens_in, time_zone="Asia/Tokyo",
                      ends_at=NOW + ends_in if ends_in else None, per_customer_limit=1, admission_rate=12.5)
    return Drop.schedule(id=f"drop-{uuid.uuid4().hex[:12]}", terms=terms, now=NOW)


async def test_a_drop_comes_back_as_it_was_saved_with_its_events(harness) -> None:
    tag = uuid.uuid4().hex[:6]
    drop = _drop((f"A-{tag}", f"B-{tag}"), ends_in=timedelta(days=2))
    async with harness.uow()() as tx:
        await tx.drops.add(drop)
        await tx.commit()
    async with harness.uow()() as tx:
        loaded = await tx.drops.get(drop.id)
        assert (loaded.terms, loaded.version, loaded.cancelled_at) == (drop.terms, 1, None)
        loaded.cancel(now=NOW)
        await tx.drops.save(loaded)
        await tx.drops.save(loaded)  # unchanged since: writes nothing
        await tx.commit()
    async with harness.uow()() as tx:
        again = await tx.drops.get(drop.id)
        assert (again.cancelled_at, again.version) == (NOW, 2)
    assert [m.topic for m in await harness.outbox_for(drop.id)] == ["drops.drop_scheduled.v1",
                                                                    "drops.drop_cancelled.v1"]
    with pytest.raises(DropNotFound):
        async with harness.uow()() as tx:
            await tx.drops.get(f"nope-{tag}")


async def test_selling_finds_the_live_drops_of_some_skus_by_opening(harness) -> None:
    tag = uuid.uuid4().hex[:6]
    a, b, c = (f"{x}-{tag}" for x in "ABC")
    later = _drop((a,), opens_in=timedelta(days=3))
    sooner = _drop((b, c), opens_in=timedelta(days=1), ends_in=timedelta(days=2))
    gone = _drop((a, b))
    gone.cancel(now=NOW)
    async with harness.uow()() as tx:
        for drop in (later, sooner, gone):
            await tx.drops.add(drop)
        await tx.commit()
    async with harness.uow()() as tx:
        assert [x.id for x in await tx.drops.selling([a, b], at=NOW)] == [sooner.id, later.id]
        assert [x.id for x in await tx.drops.selling([c], at=NOW + timedelta(days=2))] == []  # ended
        assert [x.id for x in await tx.drops.selling([f"Z-{tag}"], at=NOW)] == []
        assert {sooner.id, later.id, gone.id} <= {x.id for x in await tx.drops.all()}


async def test_an_admission_is_settled_once_used_or_once_its_token_has_lapsed(harness) -> None:
    drop = _drop((f"T-{uuid.uuid4().hex[:6]}",))
    async with harness.uow()() as tx:
        await tx.drops.add(drop)
        await tx.commit()
    at = NOW + timedelta(days=1)
    tickets = [TicketRecord(ticket_id=f"{drop.id}-s{n}", joined_at=at, draw_key=0.5) for n in range(4)]
    async with harness.uow()() as tx:
        await tx.tickets.issue([(drop.id, f"holder-{n}", record) for n, record in enumerate(tickets)])
        await tx.tickets.admitted([tickets[0].ticket_id, tickets[1].ticket_id], at=at)
        await tx.tickets.admitted([tickets[2].ticket_id], at=at + timedelta(minutes=20))
        await tx.tickets.use(tickets[1].ticket_id, "checkout-s")
        await tx.commit()
    async with harness.uow()() as tx:  # s0 admitted and idle, s1 used, s2 admitted later, s3 waiting
        assert await tx.tickets.settled(drop.id, lapsed_before=at) == 1
        assert await tx.tickets.settled(drop.id, lapsed_before=at + timedelta(minutes=15)) == 2
        assert await tx.tickets.settled(drop.id, lapsed_before=at + timedelta(hours=1)) == 3
        assert await tx.tickets.settled("no-such-drop", lapsed_before=at + timedelta(hours=1)) == 0


async def test_tickets_one_per_holder_recorded_admitted_and_used_by_one_checkout(harness) -> None:
    drop = _drop((f"T-{uuid.uuid4().hex[:6]}",))
    async with harness.uow()() as tx:
        await tx.drops.add(drop)
        await tx.commit()
    at = NOW + timedelta(days=1)

    def ticket(n: int, key: float) -> TicketRecord:
        return TicketRecord(ticket_id=f"{drop.id}-t{n}", joined_at=at + timedelta(seconds=n), draw_key=key)

    async with harness.uow()() as tx:
        first = await tx.tickets.issue([(drop.id, "ada", ticket(1, 0.5)), (drop.id, "bo", ticket(2, 0.25)),
                                        (drop.id, "ada", ticket(3, 0.75))])  # Ada twice in one call: one ticket
        await tx.commit()
    assert first == [ticket(1, 0.5), ticket(2, 0.25), ticket(1, 0.5)]
    async with harness.uow()() as tx:
        again = await tx.tickets.issue([(drop.id, "bo", ticket(9, 0.1))])
        await tx.tickets.admitted([ticket(2, 0).ticket_id], at=at)
        await tx.commit()
    assert again == [ticket(2, 0.25)]  # Bo's place is kept
    async with harness.uow()() as tx:
        await tx.tickets.admitted([ticket(2, 0).ticket_id], at=at + timedelta(hours=1))  # the first moment counts
        await tx.tickets.use(ticket(2, 0).ticket_id, "checkout-1")
        await tx.commit()
    async with harness.uow()() as tx:
        records, admitted = await tx.tickets.records(drop.id)
        assert (sorted(r.ticket_id for r in records), admitted) == ([ticket(1, 0).ticket_id, ticket(2, 0).ticket_id],
                                                                    [ticket(2, 0).ticket_id])
        assert await tx.tickets.counts(drop.id) == {"issued": 2, "admitted": 1, "used": 1}
        assert await tx.tickets.used_by(ticket(2, 0).ticket_id) == "checkout-1"
        await tx.tickets.use(ticket(2, 0).ticket_id, "checkout-1")  # the same checkout again: fine
        await tx.commit()
    with pytest.raises(ConcurrencyConflict):
        async with harness.uow()() as tx:
            await tx.tickets.use(ticket(2, 0).ticket_id, "checkout-2")
            await tx.commit()
    async with harness.uow()() as tx:
        assert await tx.tickets.used_by(ticket(2, 0).ticket_id) == "checkout-1"


async def test_joins_at_once_are_recorded_in_groups_each_holder_once(postgres_harness) -> None:
    drop = _drop((f"G-{uuid.uuid4().hex[:6]}",))
    async with postgres_harness.uow()() as tx:
        await tx.drops.add(drop)
        await tx.commit()
    desk = TicketDesk(postgres_harness.uow())
    holders = [f"guest:{n % 40}" for n in range(120)]  # 40 shoppers, each joining three times at once
    recorded = await asyncio.gather(*(
        desk.issue(drop.id, holder, TicketRecord(ticket_id=ticket_for(drop.id, holder), joined_at=NOW,
                                                 draw_key=n / 120))
        for n, holder in enumerate(holders)))
    print(f"120 joins of 40 shoppers recorded in {desk.transactions} transactions")
    assert desk.transactions < 40
    assert {holder: r.ticket_id for holder, r in zip(holders, recorded, strict=True)} == {
        h: ticket_for(drop.id, h) for h in holders}
    assert len({r.draw_key for r in recorded}) == 40  # each shopper's first ticket, kept for the others
    async with postgres_harness.uow()() as tx:
        assert (await tx.tickets.counts(drop.id))["issued"] == 40


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    settings = settings_for(database_url, redis_url, redis_key_prefix=f"test:{uuid.uuid4().hex[:8]}:",
                            drop_capacity_per_second=40.0,
                            # a question early by more than this is refused at once: the hold has its own tests
                            # (tests/unit/test_queue_valve.py), a test client would wait it out here
                            drop_queue_hold_seconds=5)
    with client_for(settings, base_url="https://testserver.local") as c:
        yield c


async def test_a_merchandiser_schedules_edits_and_cancels_a_drop_over_http(client, engine) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    support = {"Authorization": f"Bearer {await token_for(engine, Role.SUPPORT)}"}
    sku = f"DROP-{uuid.uuid4().hex[:6].upper()}"
    assert client.post("/admin/products", headers=auth, json={
        "name": "Drop shoe", "sku": sku, "price": 15000, "currency": "EUR", "status": "active"}).status_code == 201
    opens = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    body = {"name": "Winter drop", "skus": [sku], "opens_at": opens.isoformat(), "time_zone": "America/New_York",
            "per_customer_limit": 2}

    assert client.post("/admin/drops", headers=support, json=body).status_code == 403
    for bad, kind in (({**body, "time_zone": "Mars/Olympus"}, "invalid-input"),
                      ({**body, "opens_at": "2020-01-01T00:00:00Z"}, "invalid-input"),
                      ({**body, "per_customer_limit": 0}, "validation"),
                      ({**body, "skus": ["NOPE-404"]}, "invalid-input"),
                      ({**body, "price": 1}, "validation")):
        refused = client.post("/admin/drops", headers=auth, json=bad)
        assert refused.status_code in (400, 422), refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert kind in refused.json()["type"], refused.json()
    assert all(sku not in d["skus"] for d in client.get("/admin/drops", headers=auth).json())  # nothing saved

    created = client.post("/admin/drops", headers=auth, json=body)
    assert created.status_code == 201, created.text
    drop = created.json()
    assert (drop["phase"], drop["effective_admission_rate"]) == ("upcoming", 40.0)
    assert drop["opens_at_local"].endswith("-05:00")  # New York in winter
    assert client.post("/admin/drops", headers=auth, json=body).status_code == 409  # the SKU is taken
    edited = client.put(f"/admin/drops/{drop['id']}", headers=auth,
                        json={**body, "admission_rate": 5, "version": drop["version"]})
    assert edited.status_code == 200, edited.text
    assert edited.json()["effective_admission_rate"] == 5.0
    stale = client.put(f"/admin/drops/{drop['id']}", headers=auth, json={**body, "version": drop["version"]})
    assert stale.status_code == 409
    cancelled = client.post(f"/admin/drops/{drop['id']}/cancel", headers=auth)
    assert (cancelled.status_code, cancelled.json()["phase"]) == (200, "cancelled")
    assert client.get(f"/admin/drops/{drop['id']}", headers=auth).json()["phase"] == "cancelled"
    assert client.get("/admin/drops/nope", headers=auth).status_code == 404


async def test_a_shopper_past_the_limit_is_told_purchase_limit_over_http_and_nothing_is_held(client, engine) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    made = await stocked_products(client, engine, [("Capped", 9900, "EUR", 10)])
    sku = made["Capped"][0]
    opens = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.post("/admin/drops", headers=auth, json={
        "name": "Capped drop", "skus": [sku], "opens_at": opens, "time_zone": "Europe/Berlin",
        "per_customer_limit": 1, "waiting_room": False}).status_code == 201
    shopper = Browser(client)
    assert shopper.post("/store/cart/lines", json={"sku": sku, "quantity": 2}).status_code in (200, 201)
    checkout_id = shopper.post("/store/checkout").json()["id"]
    steps = (("contact", {"email": shopper.email}), ("address", {"shipping": BERLIN}),
             ("shipping", {"method_id": "eu-standard"}))
    for step, body in steps:
        assert shopper.request("PUT", f"/store/checkout/{checkout_id}/{step}", json=body).status_code == 200
    refused = shopper.post(f"/store/checkout/{checkout_id}/payment", json={"provider": "manual"})
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert (problem["type"].rsplit("/", 1)[1], problem["skus"], problem["limit"]) == ("purchase-limit", [sku], 1)
    async with engine.connect() as conn:
        held = await conn.scalar(select(func.count()).select_from(t.reservation_lines)
                                 .where(t.reservation_lines.c.sku == sku))
    assert held == 0


async def test_the_waiting_room_over_http_admits_then_the_admission_buys_once(client, engine) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    sku = (await stocked_products(client, engine, [("Queued", 9900, "EUR", 5)]))["Queued"][0]
    opens = datetime.now(UTC) + timedelta(seconds=2)
    created = client.post("/admin/drops", headers=auth, json={
        "name": "Queued drop", "skus": [sku], "opens_at": opens.isoformat(), "time_zone": "Europe/Paris",
        "admission_rate": 50})
    assert created.status_code == 201, created.text
    drop_id = created.json()["id"]
    ada, bo = Browser(client), Browser(client)
    assert ada.get(f"/store/drops/{drop_id}/queue").status_code == 403  # no ticket, no session yet
    joined = ada.post(f"/store/drops/{drop_id}/queue")
    assert joined.status_code == 200, joined.text
    assert (joined.json()["status"], joined.json()["position"]) == ("waiting", None)
    assert int(joined.headers["retry-after"]) == joined.json()["retry_after"] < 3  # about half the 2 s to opening
    assert ada.post("/store/cart/lines", json={"sku": sku}).json()["type"].endswith("/drop-not-open")
    assert bo.post(f"/store/drops/{drop_id}/queue").status_code == 200

    def asked() -> dict | None:  # asked before the Retry-After given: refused at the door (429), ask again
        answer = ada.get(f"/store/drops/{drop_id}/queue")
        assert answer.status_code in (200, 429), answer.text
        return answer.json() if answer.status_code == 200 and answer.json()["status"] == "admitted" else None

    admitted = wait_until(asked, what="the room to admit the shopper")
    token = admitted["admission"]
    refused = ada.post("/store/cart/lines", json={"sku": sku})
    assert (refused.status_code, refused.json()["type"].rsplit("/", 1)[1]) == (403, "admission-required")
    assert refused.headers["content-type"].startswith("application/problem+json")
    stolen = bo.post("/store/cart/lines", json={"sku": sku}, headers={"Drop-Admission": token})
    assert (stolen.status_code, stolen.json()["type"].rsplit("/", 1)[1]) == (403, "admission-refused")
    assert bo.get("/store/cart").json()["lines"] == []  # nothing added
    added = ada.post("/store/cart/lines", json={"sku": sku}, headers={"Drop-Admission": token})
    assert added.status_code == 201, added.text

    def ready() -> str:
        checkout_id = ada.post("/store/checkout").json()["id"]
        for step, body in (("contact", {"email": ada.email}), ("address", {"shipping": BERLIN}),
                           ("shipping", {"method_id": "eu-standard"})):
            assert ada.request("PUT", f"/store/checkout/{checkout_id}/{step}", json=body).status_code == 200
        return checkout_id

    first = ready()
    paid = ada.post(f"/store/checkout/{first}/payment", json={"provider": "manual"},
                    headers={"Drop-Admission": token})
    assert paid.status_code == 200, paid.text
    replayed = ada.post(f"/store/checkout/{ready()}/payment", json={"provider": "manual"},
                        headers={"Drop-Admission": token})
    assert (replayed.status_code, replayed.json()["type"].rsplit("/", 1)[1]) == (403, "admission-refused")
    assert replayed.json()["drop_id"] == drop_id  # the problem names the drop whose queue to ask again
    async with engine.connect() as conn:
        held = await conn.scalar(select(func.sum(t.reservation_lines.c.quantity))
                                 .where(t.reservation_lines.c.sku == sku))
    assert held == 1

    report = client.get(f"/admin/drops/{drop_id}/report", headers=auth).json()
    queue = report["queue"]
    assert (queue["joined"], queue["waiting"] + queue["admitted"], queue["sold_out"]) == (2, 2, False)
    assert queue["admitted"] >= 1  # Ada; Bo too once the room was asked again (it admits on questions)
    assert (report["tickets"]["issued"], report["tickets"]["used"]) == (2, 1)
    metrics = client.get("/metrics").text
    assert f'emporium_drop_queue{{drop="{drop_id}",state="joined"}} 2.0' in metrics
    assert 'emporium_refusals_total{type="admission-refused"}' in metrics


async def test_a_question_before_its_retry_after_is_refused_at_the_door_for_that_shopper_only(client, engine) -> None:
    auth = {"Authorization": f"Bearer {await token_for(engine, Role.MERCHANDISER)}"}
    sku = (await stocked_products(client, engine, [("Paced", 9900, "EUR", 5)]))["Paced"][0]
    created = client.post("/admin/drops", headers=auth, json={
        "name": "Paced drop", "skus": [sku], "opens_at": (datetime.now(UTC) + timedelta(minutes=2)).isoformat(),
        "time_zone": "Europe/Paris"})
    drop_id = created.json()["id"]
    ada, bo = Browser(client), Browser(client)
    joined = ada.post(f"/store/drops/{drop_id}/queue")
    wait = joined.json()["retry_after"]
    assert wait >= 2  # a minute or more to the opening
    early = ada.get(f"/store/drops/{drop_id}/queue")
    assert (early.status_code, early.json()["type"].rsplit("/", 1)[1]) == (429, "asked-too-early")
    assert early.headers["content-type"].startswith("application/problem+json")
    told = int(early.headers["retry-after"])
    assert told >= 1
    assert told <= wait  # never later than the answer that set the pace said
    pace = ada.jar.get("emporium_queue_pace")
    assert pace
    # Bound to Ada: Bo sending her pace cookie is answered in full; so is Ada without it.
    assert bo.post(f"/store/drops/{drop_id}/queue").status_code == 200
    bo.jar.set("emporium_queue_pace", pace, domain="testserver.local", path=f"/store/drops/{drop_id}/queue")
    assert bo.get(f"/store/drops/{drop_id}/queue").json()["status"] == "waiting"
    ada.jar.delete("emporium_queue_pace", domain="testserver.local", path=f"/store/drops/{drop_id}/queue")
    assert ada.get(f"/store/drops/{drop_id}/queue").json()["ticket_id"] == joined.json()["ticket_id"]
    # A forged moment does not verify either.
    bo.jar.set("emporium_queue_pace", "9999999999.000.forged", domain="testserver.local",
               path=f"/store/drops/{drop_id}/queue")
    assert bo.get(f"/store/drops/{drop_id}/queue").status_code == 200
    counted = [line for line in client.get("/metrics").text.splitlines()
               if line.startswith("emporium_queue_questions_too_early_total ")]
    assert counted
    assert float(counted[0].split()[1]) >= 1
