"""NGP VAN: a report becomes one canvass response (`POST /people/{vanId}/canvassResponses`).

A `canvassed` report with mapped answers or activist codes -> survey responses and
activist codes; any other result -> its mapped result code; never both in one call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.config import settings
from chalicelib.domain.integrations import Integration
from chalicelib.domain.reports import Report
from chalicelib.errors import InvalidInput
from chalicelib.logic.providers import Lookups, Mapped, ProviderBase, Skip, each, text_credentials

# the channels of VAN's contact types (`channelTypeName` in its catalog) whose canvass
# context carries the number used: Phone (1 Phone, 19 Auto Dial, 67 Phone Bank, ...) and
# Text (37 SMS Text, 132 Relational Text, 143 Distributed Text, ...)
PHONE_CHANNELS = {"phone", "text", "sms"}


def _plan(report: Report, mapped: Mapped, lookups: Lookups) -> dict[str, Any]:
    contact_type = mapped.mapping.get("contact_type_id")
    if contact_type is None:  # an admin picks it from VAN's own list: no guessed default
        raise Skip("no VAN contact type is mapped for this action")
    _check_database(lookups, report)
    plan: dict[str, Any] = {"date": lookups.local_day(report), "contact_type_id": int(contact_type)}
    if report.result == "canvassed":
        if not mapped.answers and not mapped.codes:
            raise Skip("a canvassed report with no mapped answers or activist codes")
        plan["survey_responses"] = [(int(q), int(r)) for q, r in mapped.answers]
        plan["activist_codes"] = [int(c) for c in mapped.codes]
    else:
        if mapped.result_code is None:
            raise Skip(f"the result '{report.result}' is not mapped to a VAN result code")
        plan["result_code_id"] = int(mapped.result_code)
    chosen = mapped.mapping.get("catalog", {}).get("contact_type_id", {})
    if str(chosen.get("channel") or "").lower() in PHONE_CHANNELS:
        phone = lookups.row_phone(report)
        if not phone:
            raise Skip(
                "VAN needs a phone number for a phone or text contact; the list row has none"
            )
        plan["phone"] = phone
    return plan


MODES = {0: "MyVoters", 1: "MyCampaign"}


def _check_database(lookups: Lookups, report: Report) -> None:
    """A VAN id names a person only in the database it came from (MyVoters or MyCampaign):
    posted with a key of the other mode, it would name someone else, or no one."""
    voter_list = lookups.list_of(report)
    listed = (voter_list.crm_settings.get("van") or {}).get("db_mode") if voter_list else None
    writes = lookups.settings.get("db_mode")
    if listed is None or writes is None:
        raise Skip(
            "the list does not say whether its VAN ids are MyVoters or MyCampaign ids "
            "(give van_db_mode when importing it)"
        )
    if listed != writes:
        raise Skip(
            f"the list's VAN ids are {MODES.get(listed, listed)} ids; this campaign's VAN key "
            f"writes to {MODES.get(writes, writes)}"
        )


def _send_one(client: Any, report: Report, plan: dict[str, Any]) -> None:
    client.post_canvass_response(report.external_id, **plan)


class Van(ProviderBase):
    name = "van"
    credential_fields = ("application_name", "db_mode", "api_key")
    numeric_ids = True
    options = {"contact_type_id": "contact_types"}

    def parse_credentials(self, body: Mapping[str, Any]) -> dict[str, Any]:
        db_mode = body.get("db_mode")
        if isinstance(db_mode, bool) or db_mode not in (0, 1):
            raise InvalidInput("db_mode", "must be 0 (MyVoters) or 1 (MyCampaign)")
        return {
            **text_credentials(body, ("application_name",)),
            "db_mode": db_mode,
            **text_credentials(body, ("api_key",)),
        }

    def settings_of(self, credentials: Mapping[str, Any]) -> dict[str, Any]:
        return {"db_mode": int(credentials["db_mode"])}

    def list_settings(
        self, fields: Mapping[str, Any], configured: Integration | None
    ) -> dict[str, Any]:
        """A list's VAN ids are MyVoters (0) or MyCampaign (1) ids: `van_db_mode` says
        which, else the mode the campaign's VAN key works in when the list arrives."""
        mode = fields.get("van_db_mode")
        if mode is None and configured is not None:
            mode = configured.settings.get("db_mode")
        if mode is None:
            return {}
        if isinstance(mode, bool) or mode not in (0, 1, "0", "1"):
            raise InvalidInput("van_db_mode", "must be 0 (MyVoters) or 1 (MyCampaign)")
        return {"db_mode": int(mode)}

    def client(self, credentials: Mapping[str, Any], **options: Any) -> Any:
        from chalicelib.crm.van import VanClient

        return VanClient(settings().van_api_url, credentials, **options)

    plan = staticmethod(_plan)
    send = staticmethod(each(_send_one))


PROVIDER = Van()
