"""CRM clients: NGP VAN, PDI and Salsa Engage.

A package of its own: it imports nothing from `chalicelib.api`, `chalicelib.logic` or
`chalicelib.dal`. This `__init__` is light (no `requests`); the client modules import
`requests` (a cost at cold start that `bench/cold_start.py` measures), so import them only
where a CRM is actually used (each provider of `chalicelib.logic.providers` makes its client
on first use).

Every client has the same core surface (`CrmClient`): `check_credentials()`, `catalog()`,
`person_exists(external_id)`, `close()`; the write-back methods are provider specific:
`VanClient.post_canvass_response`, `PdiClient.post_flags`, `SalsaClient.add_to_segment` and
`SalsaClient.set_custom_fields`. Failures raise `chalicelib.crm.errors`.
"""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib.crm.errors import (
    CredentialsRejected,
    CrmError,
    DeadlineExceeded,
    EndpointNotAllowed,
    OutcomeUnknown,
    PermanentCrmError,
    PersonNotFound,
    RateLimited,
    TransientCrmError,
)

__all__ = [
    "CredentialsRejected",
    "CrmClient",
    "CrmError",
    "DeadlineExceeded",
    "EndpointNotAllowed",
    "OutcomeUnknown",
    "PermanentCrmError",
    "PersonNotFound",
    "RateLimited",
    "TransientCrmError",
]


class CrmClient(Protocol):
    provider: str

    def check_credentials(self) -> Any: ...

    def catalog(self) -> dict[str, Any]: ...

    def person_exists(self, external_id: str) -> bool: ...

    def close(self) -> None: ...
