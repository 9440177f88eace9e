"""Catalog command handlers, event consumers (projections) and queries."""

from __future__ import annotations

from collections.abc import Callable

from application.catalog.commands import CreateProduct
from application.catalog.ports import CatalogUnitOfWork
from application.catalog.read_models import PriceView, ProductDocument
from application.ports.clock import Clock, IdGenerator
from domain.catalog.product import Product, ProductCreated
from domain.shared.money import Money


async def create_product(
    cmd: CreateProduct, *, uow: Callable[[], CatalogUnitOfWork], clock: Clock, ids: IdGenerator
) -> str:
    product = Product.create(
        id=ids.new_id(),
        name=cmd.name,
        sku=cmd.sku,
        slug=cmd.slug,
        price=Money(cmd.price_amount, cmd.currency),
        now=clock.now(),
    )
    async with uow() as tx:
        await tx.products.add(product)
        await tx.commit()
    return product.id


async def project_product_created(event: ProductCreated, uow: CatalogUnitOfWork) -> None:
    await uow.catalog_view.upsert_product(
        ProductDocument(
            id=event.aggregate_id,
            slug=event.slug,
            name=event.name,
            sku=event.sku,
            price=PriceView(
                amount=event.price.amount,
                currency=event.price.currency,
                display=event.price.display(),
            ),
            version=event.aggregate_version,
        )
    )


async def product_by_slug(slug: str, *, uow: Callable[[], CatalogUnitOfWork]) -> ProductDocument | None:
    async with uow() as tx:
        return await tx.catalog_view.product_by_slug(slug)
