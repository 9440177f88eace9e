"""Data migrations on a real PostgreSQL: rows written under the previous revision come out right."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from adapters.postgres.engine import normalise_url
from adapters.postgres.migrate import alembic_config, ensure_database, upgrade
from domain.shipping.rates import SEEDED_METHODS, SEEDED_ZONES
from tests.support.database import database_url_for_tests


@pytest.fixture
def scratch_url() -> Iterator[str]:
    base = make_url(normalise_url(database_url_for_tests()))
    url = base.set(database=f"{base.database}_migrations").render_as_string(hide_password=False)
    ensure_database(url, recreate=True)
    yield url
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _checkout(conn: Connection, checkout_id: str, owner: str, reservation_id: str | None) -> None:
    conn.execute(
        text("INSERT INTO checkouts (id, owner, state, version, data, updated_at) "
             "VALUES (:id, :owner, 'placed', 3, CAST(:data AS jsonb), :at)"),
        {"id": checkout_id, "owner": owner, "data": json.dumps({"id": checkout_id, "reservation_id": reservation_id}),
         "at": datetime.now(UTC)},
    )


def _order(conn: Connection, order_id: str, checkout_id: str) -> None:
    conn.execute(
        text("INSERT INTO orders (id, number, checkout_id, customer_id, email, status, currency, total, "
             "payment_provider, payment_references, placed_at, version, data) VALUES (:id, :id, :checkout, NULL, "
             "'ada@example.com', 'pending', 'EUR', 100, 'manual', '[]', :at, 1, CAST(:data AS jsonb))"),
        {"id": order_id, "checkout": checkout_id, "at": datetime.now(UTC), "data": json.dumps({"id": order_id})},
    )


def test_0017_gives_each_order_its_hold_and_its_guest(scratch_url: str) -> None:
    upgrade(scratch_url, "0016")
    engine = create_engine(normalise_url(scratch_url))
    with engine.begin() as conn:
        _checkout(conn, "c-guest", "guest:g-1", "r-1")
        _checkout(conn, "c-customer", "customer:cu-1", "r-2")
        _checkout(conn, "c-no-hold", "guest:g-2", None)
        for order_id, checkout_id in (("o-guest", "c-guest"), ("o-customer", "c-customer"),
                                      ("o-no-hold", "c-no-hold")):
            _order(conn, order_id, checkout_id)
    upgrade(scratch_url)
    with engine.connect() as conn:
        rows = {r.id: r.data for r in conn.execute(text("SELECT id, data FROM orders"))}
    engine.dispose()
    assert rows["o-guest"] == {"id": "o-guest", "reservation_id": "r-1", "guest_id": "g-1"}
    assert rows["o-customer"] == {"id": "o-customer", "reservation_id": "r-2", "guest_id": None}
    assert rows["o-no-hold"] == {"id": "o-no-hold", "reservation_id": None, "guest_id": "g-2"}


def _document(conn: Connection, product_id: str, name: str, status: str, categories: list[str],
              prices: dict[str, int]) -> None:
    document = {"id": product_id, "slug": product_id, "name": name, "status": status, "category_ids": categories,
                "price_from": [{"amount": a, "currency": c, "display": str(a)} for c, a in prices.items()]}
    conn.execute(
        text("INSERT INTO read.products (id, slug, version, document) VALUES (:id, :id, 1, CAST(:document AS jsonb))"),
        {"id": product_id, "document": json.dumps(document)},
    )


def test_0021_lists_every_active_document_by_scope_and_currency(scratch_url: str) -> None:
    upgrade(scratch_url, "0020")
    engine = create_engine(normalise_url(scratch_url))
    with engine.begin() as conn:
        _document(conn, "p-1", "Boots", "active", ["shoes"], {"EUR": 500, "USD": 600})
        _document(conn, "p-2", "Anorak", "active", ["coats", "sale"], {"EUR": 900})
        _document(conn, "p-3", "Draft", "draft", ["shoes"], {"EUR": 100})
    upgrade(scratch_url)
    with engine.connect() as conn:
        rows = {(r.scope, r.currency, r.product_id): (r.price, r.name_key)
                for r in conn.execute(text("SELECT * FROM read.product_listing"))}
        currencies = set(conn.scalars(text("SELECT currency FROM read.listing_currencies")))
    engine.dispose()
    assert currencies == {"EUR", "USD"}
    assert rows == {
        **{(scope, currency, "p-1"): (price, "boots")
           for scope in ("", "shoes") for currency, price in (("", 0), ("EUR", 500), ("USD", 600))},
        **{(scope, currency, "p-2"): (price, "anorak")
           for scope in ("", "coats", "sale") for currency, price in (("", 0), ("EUR", 900), ("USD", 0))},
    }


def test_0030_keeps_the_facets_of_documents_indexed_before_and_comes_down_again(scratch_url: str) -> None:
    from alembic import command

    from adapters.postgres.migrate import alembic_config

    upgrade(scratch_url, "0029")
    engine = create_engine(normalise_url(scratch_url))
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO search.documents (id, slug, name, description, keywords, language, category_ids, "
            "attr_tokens, prices, in_stock, sold) VALUES ('p-1', 'p-1', 'Boots', '', '', 'english', '{shoes}', "
            "'{colour=red,size=42}', '{}', true, 0)"))
    upgrade(scratch_url)
    with engine.connect() as conn:
        facets = conn.scalar(text("SELECT facet_tokens FROM search.documents WHERE id = 'p-1'"))
        typed = conn.scalar(text("SELECT count(*) FROM products WHERE product_type_id IS NOT NULL"))
    assert sorted(facets) == ["colour=red", "size=42"]
    assert typed == 0  # every product made before is untyped
    command.downgrade(alembic_config(scratch_url), "0029")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT to_regclass('product_types')")) is None
    upgrade(scratch_url)
    engine.dispose()


def test_0031_seeds_the_shipping_table_the_code_held_and_downgrades_cleanly(scratch_url: str) -> None:
    upgrade(scratch_url, "0030")
    upgrade(scratch_url)
    engine = create_engine(normalise_url(scratch_url))
    with engine.connect() as conn:
        zones = {r.id: (r.name, set(r.countries), r.regions)
                 for r in conn.execute(text("SELECT * FROM shipping_zones"))}
        methods = {r.id: (r.zone_id, r.currency, r.kind, r.amount, [tuple(b) for b in r.bands], r.free_over, r.days)
                   for r in conn.execute(text("SELECT * FROM shipping_methods"))}
    assert zones == {z.id: (z.name, set(z.countries), []) for z in SEEDED_ZONES}
    assert methods == {m.id: (m.zone_id, m.currency, m.kind.value, m.amount, list(m.bands), m.free_over, m.days)
                       for m in SEEDED_METHODS}
    command.downgrade(alembic_config(scratch_url), "0030")
    with engine.connect() as conn:
        left = set(conn.scalars(text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'shipping_%'")))
    engine.dispose()
    assert left == set()
    upgrade(scratch_url)
