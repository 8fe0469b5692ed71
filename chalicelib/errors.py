"""Domain exceptions: the one module every layer raises from.

The API layer translates these to HTTP in one place (`chalicelib.api.http`).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a caller is meant to see. `reason`, when given, is a stable
    machine-readable word that clients branch on (answered as `Reason`)."""

    reason: str | None = None

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


class InvalidInput(DomainError):
    """400: the request is malformed; the message names the field (answered as `Field`)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class NotAuthenticated(DomainError):
    """401: not signed in, or bad credentials."""


class Forbidden(DomainError):
    """403: signed in, but not allowed."""


class MfaRequired(Forbidden):
    """403: the route needs a session that passed TOTP."""

    reason = "mfa_required"

    def __init__(self) -> None:
        super().__init__("MFA is required: verify a TOTP code to use this route")


class NotFound(DomainError):
    """404: absent, or not visible to the caller."""


class Conflict(DomainError):
    """409: the request conflicts with the current state."""


class Refused(DomainError):
    """422: well-formed but refused (e.g. a CRM rejected the credentials)."""


class Throttled(DomainError):
    """429: too many requests; retry after `retry_after` seconds."""

    def __init__(
        self,
        retry_after: int,
        message: str = "Too many requests, slow down",
        *,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, reason=reason)
        self.retry_after = max(1, int(retry_after))


class Unavailable(DomainError):
    """503: something the request needs (an identity provider's keys) cannot be reached
    now; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class TimedOut(DomainError):
    """504: a provider (a CRM) did not answer within the request's deadline."""
