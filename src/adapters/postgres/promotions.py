"""Promotions in PostgreSQL. Limits are enforced by single guarded UPDATEs in the order's transaction:
a row lock serialises racing checkouts, so a single-use code is redeemed exactly once."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Text, and_, cast, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres import tables as t
from adapters.postgres.versions import LoadedVersions
from application.promotions.codec import promotion_from_builtins, promotion_to_builtins
from application.promotions.errors import CouponExhausted, PromotionExhausted
from application.promotions.ports import (
    Coupon,
    Limits,
    Redemption,
    Usage,
)
from domain.promotions.errors import PromotionNotFound
from domain.promotions.promotion import Promotion, PromotionStatus
from domain.shared.errors import ConcurrencyConflict, Conflict
from domain.shared.events import Aggregate

_p, _u, _c = t.promotions, t.promotion_usage, t.coupons

# The live promotions as this process last parsed them, by their stored text: every reload of the live
# set (each serving process, every few tenths of a second) parses only what changed since — parsing a
# promotion's rule text is most of what a reload costs at hundreds of promotions. The promotions
# handed out are read-only to their users (the pricing engine), as the kept live set already is.
_PARSED: OrderedDict[str, Promotion] = OrderedDict()
_PARSED_MAX = 4096


def _parsed(text: str) -> Promotion:
    promotion = _PARSED.get(text)
    if promotion is None:
        promotion = _PARSED[text] = promotion_from_builtins(msgspec.json.decode(text))
        if len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    else:
        _PARSED.move_to_end(text)
    return promotion


def _limits_to(limits: Limits) -> dict[str, Any]:
    return {"max_redemptions": limits.max_redemptions, "per_customer": limits.per_customer, "budget": limits.budget}


def _limits_from(data: dict[str, Any]) -> Limits:
    return Limits(max_redemptions=data.get("max_redemptions"), per_customer=data.get("per_customer"),
                  budget=dict(data.get("budget") or {}))


class PostgresPromotions:
    def __init__(self, conn: AsyncConnection, seen: list[Aggregate]) -> None:
        self._conn = conn
        self._seen = seen
        self._versions = LoadedVersions("promotion")

    @staticmethod
    def _row(promotion: Promotion, limits: Limits) -> dict[str, Any]:
        return {
            "status": promotion.status.value, "starts_at": promotion.starts_at, "ends_at": promotion.ends_at,
            "version": promotion.version, "data": promotion_to_builtins(promotion), "limits": _limits_to(limits),
        }

    async def add(self, promotion: Promotion, limits: Limits) -> None:
        await self._conn.execute(insert(_p).values(id=promotion.id, **self._row(promotion, limits)))
        await self._conn.execute(insert(_u).values(promotion_id=promotion.id))
        self._seen.append(promotion)
        self._versions.remember(promotion.id, promotion.version)

    async def get(self, promotion_id: str) -> tuple[Promotion, Limits]:
        row = (await self._conn.execute(select(_p.c.data, _p.c.limits).where(_p.c.id == promotion_id))).first()
        if row is None:
            raise PromotionNotFound(f"no promotion {promotion_id}")
        promotion = promotion_from_builtins(row.data)
        self._seen.append(promotion)
        self._versions.remember(promotion.id, promotion.version)
        return promotion, _limits_from(row.limits)

    async def save(self, promotion: Promotion, limits: Limits) -> None:
        expected = self._versions.expected(promotion.id)
        if promotion.version == expected:
            return  # unchanged since it was loaded (limits change only with an edit, which bumps it)
        result = await self._conn.execute(
            update(_p).where(_p.c.id == promotion.id, _p.c.version == expected)
            .values(**self._row(promotion, limits))
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"promotion {promotion.id} changed since it was read")
        self._versions.remember(promotion.id, promotion.version)

    async def all(self) -> list[Promotion]:
        rows = (await self._conn.execute(select(_p.c.data).order_by(_p.c.id))).all()
        return [promotion_from_builtins(row.data) for row in rows]

    async def live(self, at: datetime) -> list[tuple[Promotion, Limits, Usage]]:
        rows = (await self._conn.execute(
            select(cast(_p.c.data, Text).label("data"), _p.c.limits, _u.c.redemptions, _u.c.spent)
            .join(_u, _u.c.promotion_id == _p.c.id)
            .where(_p.c.status == PromotionStatus.PUBLISHED.value,
                   or_(_p.c.starts_at.is_(None), _p.c.starts_at <= at), or_(_p.c.ends_at.is_(None), _p.c.ends_at > at))
            .order_by(_p.c.id)
        )).all()
        return [
            (_parsed(r.data), _limits_from(r.limits), Usage(redemptions=r.redemptions, spent=r.spent))
            for r in rows
        ]

    async def next_change(self, at: datetime) -> datetime | None:
        published = _p.c.status == PromotionStatus.PUBLISHED.value
        starts = select(func.min(_p.c.starts_at)).where(published, _p.c.starts_at > at).scalar_subquery()
        ends = select(func.min(_p.c.ends_at)).where(published, _p.c.ends_at > at).scalar_subquery()
        moment: datetime | None = (await self._conn.execute(select(func.least(starts, ends)))).scalar_one()
        return moment

    async def usage(self, promotion_ids: list[str]) -> dict[str, Usage]:
        rows = (await self._conn.execute(
            select(_u.c.promotion_id, _u.c.redemptions, _u.c.spent).where(_u.c.promotion_id.in_(promotion_ids))
        )).all()
        found = {r.promotion_id: Usage(redemptions=r.redemptions, spent=r.spent) for r in rows}
        return {pid: found.get(pid, Usage()) for pid in promotion_ids}

    async def add_coupons(self, coupons: list[Coupon]) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(insert(_c), [
                    {"code": c.code, "promotion_id": c.promotion_id, "usage_limit": c.usage_limit,
                     "per_customer_limit": c.per_customer_limit, "used": 0}
                    for c in coupons
                ])
        except IntegrityError:
            raise Conflict("a coupon code exists already") from None

    async def coupons(self, codes: list[str]) -> dict[str, Coupon]:
        if not codes:
            return {}
        rows = (await self._conn.execute(select(_c).where(_c.c.code.in_(codes)))).all()
        return {r.code: Coupon(code=r.code, promotion_id=r.promotion_id, usage_limit=r.usage_limit,
                               per_customer_limit=r.per_customer_limit, used=r.used) for r in rows}

    async def coupon_gated(self, promotion_ids: list[str]) -> set[str]:
        rows = await self._conn.execute(select(_c.c.promotion_id).where(_c.c.promotion_id.in_(promotion_ids))
                                        .distinct())
        return {r.promotion_id for r in rows}

    async def customer_usage(self, promotion_ids: list[str], customer_key: str) -> dict[str, int]:
        usage = t.promotion_customer_usage
        rows = await self._conn.execute(
            select(usage.c.promotion_id, usage.c.redemptions)
            .where(usage.c.promotion_id.in_(promotion_ids), usage.c.customer_key == customer_key)
        )
        return {r.promotion_id: r.redemptions for r in rows}

    async def redeem(self, *, order_id: str, customer_key: str, coupon_codes: list[str],
                     redemptions: list[Redemption]) -> None:
        for code in sorted(coupon_codes):  # a fixed order: no deadlock between two multi-coupon orders
            used = (await self._conn.execute(
                update(_c).where(_c.c.code == code, or_(_c.c.usage_limit.is_(None), _c.c.used < _c.c.usage_limit))
                .values(used=_c.c.used + 1).returning(_c.c.per_customer_limit)
            )).first()
            if used is None:
                raise CouponExhausted(f"coupon {code} has been used up")
            if used.per_customer_limit is not None:
                await self._count_per_customer(t.coupon_customer_usage, "code", code, customer_key,
                                               "used", used.per_customer_limit, CouponExhausted)
        for r in sorted(redemptions, key=lambda r: r.promotion_id):
            limits = _limits_from((await self._conn.execute(
                select(_p.c.limits).where(_p.c.id == r.promotion_id))).scalar_one())
            budget = limits.budget.get(r.currency)
            spent = func.coalesce(_u.c.spent[r.currency].as_integer(), 0)
            conditions = [_u.c.promotion_id == r.promotion_id]
            if limits.max_redemptions is not None:
                conditions.append(_u.c.redemptions < limits.max_redemptions)
            if budget is not None:
                conditions.append(spent + r.amount <= budget)
            counted = (await self._conn.execute(
                update(_u).where(and_(*conditions)).values(
                    redemptions=_u.c.redemptions + 1,
                    spent=_u.c.spent.op("||")(func.jsonb_build_object(r.currency, spent + r.amount)),
                ).returning(_u.c.promotion_id)
            )).first()
            if counted is None:
                raise PromotionExhausted(f"promotion {r.promotion_id} reached its limit")
            if limits.per_customer is not None:
                await self._count_per_customer(t.promotion_customer_usage, "promotion_id", r.promotion_id,
                                               customer_key, "redemptions", limits.per_customer, PromotionExhausted)
            await self._conn.execute(insert(t.promotion_redemptions).values(
                order_id=order_id, promotion_id=r.promotion_id, version=r.version, amount=r.amount,
                currency=r.currency, customer_key=customer_key, coupon_codes=sorted(coupon_codes),
            ))

    async def release(self, order_id: str) -> None:
        r = t.promotion_redemptions
        rows = (await self._conn.execute(delete(r).where(r.c.order_id == order_id).returning(
            r.c.promotion_id, r.c.amount, r.c.currency, r.c.customer_key, r.c.coupon_codes))).all()
        if not rows:
            return
        customer_key = rows[0].customer_key
        for code in sorted(set(rows[0].coupon_codes)):
            await self._conn.execute(update(_c).where(_c.c.code == code, _c.c.used > 0).values(used=_c.c.used - 1))
            cu = t.coupon_customer_usage
            await self._conn.execute(update(cu).where(cu.c.code == code, cu.c.customer_key == customer_key,
                                                      cu.c.used > 0).values(used=cu.c.used - 1))
        for row in sorted(rows, key=lambda x: x.promotion_id):
            spent = func.coalesce(_u.c.spent[row.currency].as_integer(), 0)
            await self._conn.execute(update(_u).where(_u.c.promotion_id == row.promotion_id).values(
                redemptions=func.greatest(_u.c.redemptions - 1, 0),
                spent=_u.c.spent.op("||")(func.jsonb_build_object(row.currency, spent - row.amount)),
            ))
            pc = t.promotion_customer_usage
            await self._conn.execute(update(pc).where(
                pc.c.promotion_id == row.promotion_id, pc.c.customer_key == customer_key, pc.c.redemptions > 0,
            ).values(redemptions=pc.c.redemptions - 1))

    async def _count_per_customer(self, table: Any, key_column: str, key: str, customer_key: str, counter: str,
                                  limit: int, error: type[Exception]) -> None:
        statement = pg_insert(table).values(**{key_column: key, "customer_key": customer_key, counter: 1})
        statement = statement.on_conflict_do_update(
            index_elements=[key_column, "customer_key"], set_={counter: table.c[counter] + 1},
            where=table.c[counter] < limit,
        ).returning(table.c[counter])
        if (await self._conn.execute(statement)).first() is None:
            raise error("this customer already used it as often as allowed")



