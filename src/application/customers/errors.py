"""Customer errors: every error class the customer use cases raise of their own."""

from __future__ import annotations

from domain.shared.errors import DomainError

__all__ = ["SignInRequired", "TooManyAttempts"]


class TooManyAttempts(DomainError):
    """Refused before any password was checked: wait ``retry_after`` seconds (``throttle.py``)."""

    def __init__(self, retry_after: int, *, what: str = "sign-in") -> None:
        super().__init__(f"too many {what} attempts; retry in {retry_after} s")
        self.retry_after = retry_after


class SignInRequired(DomainError):
    """Only a signed-in customer may do this; the message is the problem's title."""
