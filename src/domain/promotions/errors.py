"""The promotions context's error hierarchy."""

from __future__ import annotations

from domain.shared.errors import Conflict, InvalidInput, NotFound


class PromotionError(InvalidInput):
    """A promotions rule was broken (a percentage over 100 %, an empty selector list)."""


class InvalidRule(PromotionError):
    """A rule tree node holds a value the engine cannot honour."""


class ParseError(InvalidRule):
    """The text form of a rule could not be read; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, *, text: str, position: int) -> None:
        line_start = text.rfind("\n", 0, position) + 1
        line_end = text.find("\n", position)
        line = text[line_start : None if line_end < 0 else line_end]
        caret = " " * (position - line_start) + "^"
        super().__init__(f"{message} at position {position}\n  {line}\n  {caret}")
        self.reason = message
        self.position = position


class InvalidPricingInput(PromotionError):
    """The cart or the promotions handed to the engine are inconsistent."""


class PromotionNotFound(NotFound):
    pass


class PromotionStateConflict(Conflict):
    """The promotion's lifecycle forbids the operation (publishing nothing, editing an archived one)."""
