"""PDI: a report becomes flags (the result's flag, each answer's flag with its question,
each tag), and a batch's flags go in one `POST /flags` array."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.config import settings
from chalicelib.domain import Report
from chalicelib.logic.providers import Lookups, Mapped, Skip, text_credentials

DEFAULT_ACQUISITION_TYPE = "1"


def _plan(report: Report, mapped: Mapped, lookups: Lookups) -> list[dict[str, str]]:
    from chalicelib.crm.pdi import make_flag

    acquisition = mapped.mapping.get("acquisition_type_id") or DEFAULT_ACQUISITION_TYPE
    pdi_id = str(report.external_id)
    day = mapped.day
    flags = []
    if mapped.result_code is not None:
        flags.append(
            make_flag(pdi_id, mapped.result_code, date=day, acquisition_type_id=acquisition)
        )
    for question_id, flag_id in mapped.answers:
        flags.append(
            make_flag(
                pdi_id, flag_id, date=day, acquisition_type_id=acquisition, question_id=question_id
            )
        )
    for code in mapped.codes:
        flags.append(make_flag(pdi_id, code, date=day, acquisition_type_id=acquisition))
    if not flags:
        raise Skip("nothing mapped for this result or these answers")
    return flags


def _send(client: Any, items: list[tuple[Report, Any]]) -> list[Exception | None]:
    """One array for the lot: PDI takes it or refuses it whole."""
    try:
        client.post_flags([flag for _report, flags in items for flag in flags])
    except Exception as exc:
        return [exc for _ in items]
    return [None for _ in items]


class Pdi:
    name = "pdi"
    credential_fields = ("username", "password", "api_token")
    numeric_ids = False
    options = ("acquisition_type_id",)
    batch_size = 1000

    def parse_credentials(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return text_credentials(body, self.credential_fields)

    def client(self, credentials: Mapping[str, Any], **options: Any) -> Any:
        from chalicelib.crm.pdi import PdiClient

        return PdiClient(settings().pdi_api_url, credentials, **options)

    plan = staticmethod(_plan)
    send = staticmethod(_send)


PROVIDER = Pdi()
