"""/metrics exposes the named series and they move with traffic; logs carry no secrets."""

from __future__ import annotations

import json
import logging
import re

import pytest

from domain.staff.roles import Role
from entrypoints.logging import JsonFormatter, redact, request_id_var
from tests.support.http_app import client_for, settings_for, token_for


def _value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert match, f"{series} missing from /metrics"
    return float(match.group(1))


METRICS_TOKEN = "scrape-" + "m" * 32
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}  # /metrics answers the configured scraper only


@pytest.fixture(scope="module")
def client(database_url: str, redis_url: str):
    with client_for(settings_for(database_url, redis_url, metrics_token=METRICS_TOKEN)) as c:
        yield c


def test_metrics_expose_the_operational_series(client) -> None:
    client.get("/health/live")
    text = client.get("/metrics", headers=SCRAPE).text
    for name in (
        "emporium_http_requests_total", "emporium_http_request_duration_seconds_bucket",
        "emporium_outbox_backlog", "emporium_outbox_lag_seconds", "emporium_broker_queue_depth",
        "emporium_reservations_in_flight", "emporium_inventory_reconciliation_drift",
    ):
        assert name in text


def test_every_answer_says_how_long_the_server_took_and_the_bench_reads_it(client) -> None:
    from benchmarks.buyer import Answer, server_time

    response = client.get("/health/live")
    timing = response.headers["server-timing"]
    assert re.fullmatch(r"app;dur=\d+\.\d{2}", timing), timing
    assert server_time(Answer(200, [("server-timing", timing)], b"")) == float(timing.split("=")[1]) >= 0
    assert server_time(Answer(200, [], b"")) == 0.0


async def test_request_counters_and_outbox_backlog_move_with_traffic(client, engine, unique) -> None:
    series = 'emporium_http_requests_total{method="GET",route="/store/products/{slug}",status="404"}'
    before = client.get("/metrics", headers=SCRAPE).text
    start = _value(before, series) if series in before else 0.0
    for _ in range(3):
        client.get(f"/store/products/missing-{unique}")
    backlog_before = _value(before, "emporium_outbox_backlog")

    token = await token_for(engine, Role.MERCHANDISER)
    created = client.post(
        "/admin/products", json={"name": f"M {unique}", "sku": f"M-{unique}", "price": 1, "currency": "EUR"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201
    after = client.get("/metrics", headers=SCRAPE).text
    assert _value(after, series) == start + 3
    assert _value(after, "emporium_outbox_backlog") >= backlog_before + 1  # no relay runs in this module


async def test_a_request_log_line_never_contains_the_bearer_token(client, engine, unique, caplog) -> None:
    token = await token_for(engine, Role.MERCHANDISER)
    caplog.set_level(logging.INFO)
    client.post(
        "/admin/products", json={"name": f"L {unique}", "sku": f"L-{unique}", "price": -1, "currency": "EUR"},
        headers={"Authorization": f"Bearer {token}"},
    )
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert lines, "the request produced no log line"
    assert all(token not in line for line in lines)
    access = [json.loads(line) for line in lines if '"emporium.access"' in line]
    assert access
    assert access[-1]["request_id"]


def test_redaction_catches_secrets_that_slip_into_a_message() -> None:
    token = request_id_var.set("r-1")
    try:
        record = logging.LogRecord(
            "x", logging.INFO, __file__, 1,
            "signin password=hunter2 token: emp_abcdefghijkl key sk_test_123abc whsec_xyz987", None, None,
        )
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    for secret in ("hunter2", "emp_abcdefghijkl", "sk_test_123abc", "whsec_xyz987"):
        assert secret not in line
    assert json.loads(line)["request_id"] == "r-1"
    assert redact("nothing secret here") == "nothing secret here"


async def test_reservations_in_flight_gauge_follows_the_database(client, engine, unique) -> None:
    from adapters.memory.inventory import MemoryStockGate
    from adapters.postgres.unit_of_work import PostgresUnitOfWork
    from adapters.system.clock import SystemClock, UuidIdGenerator
    from application.inventory import commands as inv
    from tests.support.bus import build_bus

    ids = UuidIdGenerator()
    bus = build_bus(uow=lambda: PostgresUnitOfWork(engine, ids), clock=SystemClock(), ids=ids, gate=MemoryStockGate())
    await bus.handle(inv.AddLocation(id=f"m-{unique}", name="m"))
    await bus.handle(inv.ReceiveStock(sku=f"G-{unique}", location_id=f"m-{unique}", quantity=3, actor="t"))
    before = _value(client.get("/metrics", headers=SCRAPE).text, "emporium_reservations_in_flight")
    await bus.handle(inv.ReserveStock(reference=unique, lines=[(f"G-{unique}", 1)]))
    assert _value(client.get("/metrics", headers=SCRAPE).text, "emporium_reservations_in_flight") == before + 1
