"""The root of every domain error; each context derives its own hierarchy from it."""


class DomainError(Exception):
    """A business rule refused the operation."""


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Conflict(DomainError):
    """The operation collides with the current state (a duplicate, a stale version)."""


class InvalidInput(DomainError):
    """A value breaks a rule of the model (a negative quantity, an empty name)."""


class ConcurrencyConflict(Conflict):
    """The aggregate changed since it was loaded; retry with fresh state."""
