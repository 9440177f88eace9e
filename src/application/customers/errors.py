"""Customer errors: every error class the customer use cases raise of their own."""

from __future__ import annotations

from domain.shared.errors import DomainError

__all__ = ["SignInRequired", "TooManyAttempts"]


class TooManyAttempts(DomainError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("too many sign-in attempts; retry later")
        self.retry_after = retry_after


class SignInRequired(DomainError):
    """Only a signed-in customer may do this; the message is the problem's title."""
