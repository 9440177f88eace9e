"""Demo data: a handful of products, plus N generated ones on request. Safe to run twice."""

from __future__ import annotations

import random

from application.catalog.commands import CreateProduct
from domain.shared.errors import Conflict
from entrypoints.container import Container, close

DEMO_PRODUCTS = [
    ("Trail Runner", "TRAIL-RUNNER", 12900, "EUR"),
    ("Road Racer", "ROAD-RACER", 14900, "EUR"),
    ("Merino Socks", "MERINO-SOCKS", 1900, "EUR"),
    ("Rain Shell", "RAIN-SHELL", 18900, "EUR"),
]


async def seed_demo(*, products: int = 0) -> None:
    container = Container()
    bus = container.bus()
    created = 0
    try:
        for name, sku, price, currency in DEMO_PRODUCTS:
            try:
                await bus.handle(CreateProduct(name=name, sku=sku, price_amount=price, currency=currency))
                created += 1
            except Conflict:
                pass  # already seeded
        rng = random.Random(42)
        for i in range(products):
            try:
                await bus.handle(
                    CreateProduct(
                        name=f"Generated product {i}", sku=f"GEN-{i:07d}",
                        price_amount=rng.randrange(500, 50000), currency="EUR",
                    )
                )
                created += 1
            except Conflict:
                pass
    finally:
        await close(container)
    print(f"seeded {created} products")
