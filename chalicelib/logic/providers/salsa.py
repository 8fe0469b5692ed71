"""Salsa Engage: the supporter is searched first and written only when FOUND: segments for
the result and tags, custom fields for answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.config import settings
from chalicelib.crm import PermanentCrmError, PersonNotFound
from chalicelib.domain.reports import Report
from chalicelib.logic.providers import Lookups, Mapped, ProviderBase, Skip, each


def _plan(report: Report, mapped: Mapped, lookups: Lookups) -> dict[str, Any]:
    result = [str(mapped.result_code)] if mapped.result_code is not None else []
    segments = result + [str(c) for c in mapped.codes]
    fields = [{"fieldId": str(q), "value": str(r)} for q, r in mapped.answers]
    if not segments and not fields:
        raise Skip("nothing mapped for this result or these answers")
    return {"segments": list(dict.fromkeys(segments)), "fields": fields}


# what a segment add may answer for a supporter that is in the segment afterwards
SEGMENT_DONE = {"ADDED", "UPDATED"}


def _send_one(client: Any, report: Report, plan: dict[str, Any]) -> None:
    """Synced only when Salsa says each write took: a segment add answers per supporter
    (NOT_ALLOWED for a segment the API may not manage), a custom field per field."""
    supporter = str(report.external_id)
    if not client.person_exists(supporter):
        raise PersonNotFound("salsa", supporter)
    for segment in plan["segments"]:
        result = client.add_to_segment(segment, [supporter]).get(supporter, "NO_RESULT")
        if result == "NOT_FOUND":
            raise PersonNotFound("salsa", supporter)
        if result not in SEGMENT_DONE:
            raise PermanentCrmError("salsa", f"segment {segment}: Salsa answered {result}")
    if plan["fields"]:
        client.set_custom_fields(supporter, plan["fields"])


class Salsa(ProviderBase):
    name = "salsa"
    credential_fields = ("api_token",)

    def client(self, credentials: Mapping[str, Any], **options: Any) -> Any:
        from chalicelib.crm.salsa import SalsaClient

        return SalsaClient(settings().salsa_api_url, credentials, **options)

    plan = staticmethod(_plan)
    send = staticmethod(each(_send_one))


PROVIDER = Salsa()
