"""CRM clients: NGP VAN, PDI and Salsa Engage.

A package of its own: it imports nothing from `chalicelib.api`, `chalicelib.logic` or
`chalicelib.dal`. This `__init__` is light (no `requests`); the client modules import `requests`
(~100 ms of cold start), so import them, or call `make_client`, only where a CRM is actually used.

Every client has the same core surface (`CrmClient`): `check_credentials()`, `catalog()`,
`person_exists(external_id)`, `close()`; the write-back methods are provider specific:
`VanClient.post_canvass_response`, `PdiClient.post_flags`, `SalsaClient.add_to_segment` and
`SalsaClient.set_custom_fields`. Failures raise `chalicelib.crm.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

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
from chalicelib.domain import PROVIDERS

if TYPE_CHECKING:
    from chalicelib.crm.pdi import PdiClient
    from chalicelib.crm.salsa import SalsaClient
    from chalicelib.crm.van import VanClient


__all__ = [
    "PROVIDERS",
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
    "make_client",
]


class CrmClient(Protocol):
    provider: str

    def check_credentials(self) -> Any: ...

    def catalog(self) -> dict[str, Any]: ...

    def person_exists(self, external_id: str) -> bool: ...

    def close(self) -> None: ...


def make_client(
    provider: str, base_url: str, credentials: Mapping[str, Any], **options: Any
) -> VanClient | PdiClient | SalsaClient:
    """The client for `provider` ("van", "pdi", "salsa"); `options` go to its constructor
    (timeouts, retry, sleep, rand, session). Imports `requests` on first use."""
    if provider == "van":
        from chalicelib.crm.van import VanClient

        return VanClient(base_url, credentials, **options)
    if provider == "pdi":
        from chalicelib.crm.pdi import PdiClient

        return PdiClient(base_url, credentials, **options)
    if provider == "salsa":
        from chalicelib.crm.salsa import SalsaClient

        return SalsaClient(base_url, credentials, **options)
    raise ValueError(f"unknown CRM provider {provider!r}")
