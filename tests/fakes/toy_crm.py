"""A fourth CRM, as a test would add one: this module and one registry line
(`logic.providers.register`), nothing else. Its "server" is the list of what it was sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.crm import CredentialsRejected, PermanentCrmError
from chalicelib.domain.reports import Report
from chalicelib.logic.providers import Lookups, Mapped, ProviderBase, Skip

TOKEN = "toy-token-0123456789"
RECEIVED: list[dict[str, Any]] = []  # what reached the toy CRM, in order
REFUSED = "TOY-BAD"  # a person the toy CRM refuses


class ToyClient:
    provider = "toy"

    def __init__(self, credentials: Mapping[str, Any], **options: Any) -> None:
        self.token = credentials["token"]

    def check_credentials(self) -> None:
        if self.token != TOKEN:
            raise CredentialsRejected("toy", "unknown token")

    def catalog(self) -> dict[str, Any]:
        return {"tags": [{"id": "tag-1", "name": "Supporter"}, {"id": "tag-2", "name": "Moved"}]}

    def person_exists(self, external_id: str) -> bool:
        return True

    def tag(self, people: list[tuple[str, str]]) -> list[str | None]:
        """Tag each (person, tag): an error for a person the toy CRM refuses."""
        errors: list[str | None] = []
        for person, tag in people:
            if person == REFUSED:
                errors.append("no such person")
            else:
                RECEIVED.append({"person": person, "tag": tag})
                errors.append(None)
        return errors

    def close(self) -> None:
        pass


class Toy(ProviderBase):
    name = "toy"
    credential_fields = ("token",)
    batch_size = 2

    def client(self, credentials: Mapping[str, Any], **options: Any) -> ToyClient:
        return ToyClient(credentials, **options)

    def plan(self, report: Report, mapped: Mapped, lookups: Lookups) -> str:
        if mapped.result_code is None:
            raise Skip("the result is not mapped to a toy tag")
        return mapped.result_code

    def send(self, client: Any, items: list[tuple[Report, Any]]) -> list[Exception | None]:
        errors = client.tag([(str(report.external_id), tag) for report, tag in items])
        return [None if e is None else PermanentCrmError("toy", e) for e in errors]


PROVIDER = Toy()
