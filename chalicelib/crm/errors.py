"""Exceptions raised by the CRM clients.

Every `CrmError` carries the provider, the HTTP status (when there was one) and a *safe* message:
the provider's own explanation with any credential the client knows of replaced by ``***``,
trimmed to a few hundred characters. No credential ever reaches a message, a log line or a repr.

`EndpointNotAllowed` is deliberately not a `CrmError`: it means our code tried to call something
outside a client's allow-list (for example an endpoint that would create a person in the CRM). It is
a programming error, raised before any network I/O, and must not be swallowed as "the CRM failed".

This module imports nothing heavy: callers may import it at start-up.
"""

from __future__ import annotations


class CrmError(Exception):
    """Base of every failure talking to a CRM."""

    retryable: bool = False
    """True when the same call may succeed later (throttling, an outage)."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.message = message
        self.status = status
        self.code = code

    def __str__(self) -> str:
        suffix = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{self.provider}: {self.message}{suffix}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, status={self.status!r}, "
            f"message={self.message!r})"
        )


class CredentialsRejected(CrmError):
    """The provider refused the credentials (401/403); the message is the provider's reason."""


class PersonNotFound(CrmError):
    """The CRM does not know this person (VAN 404, PDI 404, Salsa NOT_FOUND)."""

    def __init__(self, provider: str, external_id: str, *, status: int | None = None) -> None:
        super().__init__(provider, f"person {external_id} not found", status=status)
        self.external_id = external_id


class RateLimited(CrmError):
    """Still throttled after the retries ran out; try again after `retry_after` seconds."""

    retryable = True

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(provider, message, status=status)
        self.retry_after = retry_after


class TransientCrmError(CrmError):
    """5xx, timeouts or connection failures that outlasted the retries."""

    retryable = True


class DeadlineExceeded(TransientCrmError):
    """The caller's deadline came before the provider answered (an API request's budget):
    nothing more was tried."""


class OutcomeUnknown(TransientCrmError):
    """A write was sent and no answer came (a read timeout): it may have reached the CRM.

    Never retried automatically: posting it again could record it twice.
    """

    retryable = False


class PermanentCrmError(CrmError):
    """The provider refused the request (4xx validation error) or answered nonsense."""


class EndpointNotAllowed(Exception):
    """A call outside the client's allow-list, refused before any network I/O."""

    def __init__(self, provider: str, what: str) -> None:
        super().__init__(f"{provider}: refused to call {what}")
        self.provider = provider
