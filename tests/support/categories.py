"""Categories a test names by id: products may only name categories that exist."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


async def add_categories(uow: Any, *category_ids: str) -> None:
    """Root categories with these ids (each its own name and slug), in one change of the tree."""
    async with uow() as tx:
        tree = await tx.categories.tree()
        for category_id in category_ids:
            tree.add(id=category_id, name=category_id, slug=category_id, parent_id=None, position=None,
                     now=datetime.now(UTC))
        await tx.categories.save(tree)
        await tx.commit()
