"""Staff notes on an order: a line on its timeline for whoever handles the order next."""

from __future__ import annotations

from dataclasses import dataclass

from application.messaging.registry import Command, handler
from application.orders.handlers import transition
from application.orders.queries import OrderView, Uow, order_view
from application.ports.clock import Clock
from domain.shared.errors import InvalidInput

MAX_NOTE = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class AddOrderNote(Command[OrderView]):
    order_id: str
    actor: str
    text: str


@handler
async def add_order_note(command: AddOrderNote, *, uow: Uow, clock: Clock) -> OrderView:
    text = command.text.strip()
    if not text or len(text) > MAX_NOTE:
        raise InvalidInput(f"a note has 1 to {MAX_NOTE} characters")
    order = await transition(uow, command.order_id, lambda o: o.note(
        action="staff_note", detail=text, now=clock.now(), actor=command.actor))
    return order_view(order, with_timeline=True)
