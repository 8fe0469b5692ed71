"""NGP VAN: a report becomes one canvass response (`POST /people/{vanId}/canvassResponses`).

A `canvassed` report with mapped answers or activist codes -> survey responses and
activist codes; any other result -> its mapped result code; never both in one call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.config import settings
from chalicelib.domain import Report
from chalicelib.errors import InvalidInput
from chalicelib.logic.providers import Lookups, Mapped, Skip, each, text_credentials

PHONE_CHANNELS = {1, 37}  # VAN contact types that want canvassContext.phone
CONTACT_TYPES = {"call": "1", "canvass": "2", "text": "37", "share": "81", "survey": "2"}


def _plan(report: Report, mapped: Mapped, lookups: Lookups) -> dict[str, Any]:
    contact_type = mapped.mapping.get("contact_type_id")
    if contact_type is None:
        contact_type = CONTACT_TYPES.get(lookups.action_type(report), "2")
    plan: dict[str, Any] = {"date": mapped.day, "contact_type_id": int(contact_type)}
    if report.result == "canvassed":
        if not mapped.answers and not mapped.codes:
            raise Skip("a canvassed report with no mapped answers or activist codes")
        plan["survey_responses"] = [(int(q), int(r)) for q, r in mapped.answers]
        plan["activist_codes"] = [int(c) for c in mapped.codes]
    else:
        if mapped.result_code is None:
            raise Skip(f"the result '{report.result}' is not mapped to a VAN result code")
        plan["result_code_id"] = int(mapped.result_code)
    if plan["contact_type_id"] in PHONE_CHANNELS:
        phone = lookups.row_phone(report)
        if not phone:
            raise Skip(
                "VAN needs a phone number for a phone or text contact; the list row has none"
            )
        plan["phone"] = phone
    return plan


def _send_one(client: Any, report: Report, plan: dict[str, Any]) -> None:
    client.post_canvass_response(report.external_id, **plan)


class Van:
    name = "van"
    credential_fields = ("application_name", "db_mode", "api_key")
    numeric_ids = True
    options = ("contact_type_id",)
    batch_size = 1

    def parse_credentials(self, body: Mapping[str, Any]) -> dict[str, Any]:
        db_mode = body.get("db_mode")
        if isinstance(db_mode, bool) or db_mode not in (0, 1):
            raise InvalidInput("db_mode", "must be 0 (MyVoters) or 1 (MyCampaign)")
        return {
            **text_credentials(body, ("application_name",)),
            "db_mode": db_mode,
            **text_credentials(body, ("api_key",)),
        }

    def client(self, credentials: Mapping[str, Any], **options: Any) -> Any:
        from chalicelib.crm.van import VanClient

        return VanClient(settings().van_api_url, credentials, **options)

    plan = staticmethod(_plan)
    send = staticmethod(each(_send_one))


PROVIDER = Van()
