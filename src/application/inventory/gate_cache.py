"""What stands in front of the stock gate's store, in process.

``SoldOutMemory``: once a SKU is known to be short for some quantity, the next buyers of at
least that quantity are answered without a network round trip for ``ttl`` seconds. It can
only ever say "no" (briefly and wrongly after a restock elsewhere), which is exactly what the
gate may do.

``GroupedGate``: buyers who arrive while a take is in flight share the next round trip (one
script call for the whole group, still answered one by one, in arrival order).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from application.inventory.ports import GateAnswer, StockGate
from application.messaging.grouping import Grouped


class SoldOutMemory:
    def __init__(self, inner: StockGate, *, ttl: float = 0.25, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._inner = inner
        self._ttl = ttl
        self._monotonic = monotonic
        self._short: dict[str, tuple[int, float]] = {}  # sku -> (smallest quantity refused, until)

    def _remembered(self, requested: dict[str, int]) -> list[str]:
        now = self._monotonic()
        short = []
        for sku, quantity in requested.items():
            entry = self._short.get(sku)
            if entry is not None:
                if entry[1] <= now:
                    del self._short[sku]
                elif quantity >= entry[0]:
                    short.append(sku)
        return sorted(short)

    async def try_take(self, requested: dict[str, int]) -> GateAnswer:
        remembered = self._remembered(requested)
        if remembered:
            return GateAnswer(sold_out=remembered)
        answer = await self._inner.try_take(requested)
        self._note(requested, answer)
        return answer

    async def try_take_many(self, requests: list[dict[str, int]]) -> list[GateAnswer]:
        answers: list[GateAnswer | None] = [
            GateAnswer(sold_out=remembered) if (remembered := self._remembered(r)) else None for r in requests
        ]
        asked = [n for n, answer in enumerate(answers) if answer is None]
        for n, answer in zip(asked, await self._inner.try_take_many([requests[n] for n in asked]), strict=True):
            self._note(requests[n], answer)
            answers[n] = answer
        return [answer for answer in answers if answer is not None]

    async def short(self, requested: dict[str, int]) -> list[str]:
        remembered = self._remembered(requested)
        if remembered:
            return remembered
        short = await self._inner.short(requested)
        if short:
            self._note(requested, GateAnswer(sold_out=short))
        return short

    def _note(self, requested: dict[str, int], answer: GateAnswer) -> None:
        until = self._monotonic() + self._ttl
        for sku in answer.sold_out:
            known = self._short.get(sku)
            smallest = min(requested[sku], known[0]) if known else requested[sku]
            self._short[sku] = (smallest, until)

    def _forget(self, skus: object) -> None:
        for sku in list(skus):  # type: ignore[call-overload]
            self._short.pop(sku, None)

    async def give_back(self, units: dict[str, int]) -> None:
        self._forget(units)
        await self._inner.give_back(units)

    async def refill(self, available: dict[str, int | None], *, only_missing: bool = False) -> None:
        self._forget(available)
        await self._inner.refill(available, only_missing=only_missing)


class GroupedGate:
    def __init__(self, inner: StockGate, *, max_group: int = 256) -> None:
        self._inner = inner
        self._groups: Grouped[dict[str, int], GateAnswer] = Grouped(self._settle, max_group=max_group, name="gate take")

    async def _settle(self, requests: list[dict[str, int]]) -> list[GateAnswer | BaseException]:
        return list(await self._inner.try_take_many(requests))

    @property
    def round_trips(self) -> int:
        return self._groups.groups

    async def try_take(self, requested: dict[str, int]) -> GateAnswer:
        return await self._groups.submit(requested)

    async def try_take_many(self, requests: list[dict[str, int]]) -> list[GateAnswer]:
        return await self._inner.try_take_many(requests)

    async def short(self, requested: dict[str, int]) -> list[str]:
        return await self._inner.short(requested)

    async def give_back(self, units: dict[str, int]) -> None:
        await self._inner.give_back(units)

    async def refill(self, available: dict[str, int | None], *, only_missing: bool = False) -> None:
        await self._inner.refill(available, only_missing=only_missing)
