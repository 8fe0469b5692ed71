"""PDI: a report becomes flags (the result's flag, each answer's flag with its question,
each tag), and a batch's flags go in one `POST /flags` array."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.config import settings
from chalicelib.crm import PermanentCrmError
from chalicelib.domain.reports import Report
from chalicelib.logic.providers import Lookups, Mapped, ProviderBase, Skip

MAX_FLAGS = 200  # flags one POST /flags carries (`crm.pdi.FLAG_BATCH`)


def _plan(report: Report, mapped: Mapped, lookups: Lookups) -> list[dict[str, str]]:
    from chalicelib.crm.pdi import make_flag

    acquisition = mapped.mapping.get("acquisition_type_id")
    if not acquisition:  # PDI's ids are its own: there is no default worth guessing
        raise Skip("no PDI acquisition type is mapped for this action")
    pdi_id = str(report.external_id)
    day = lookups.local_day(report)
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
    """Reports' flags in arrays of at most MAX_FLAGS (a report's flags never split). PDI
    refuses an array whole when one flag is bad: a refused array of several reports is
    split in two and each half sent again, until the report at fault fails alone."""
    outcomes: list[Exception | None] = [None] * len(items)

    def post(indices: list[int]) -> None:
        try:
            client.post_flags([flag for i in indices for flag in items[i][1]])
        except PermanentCrmError as exc:  # refused, so nothing of it was written
            if len(indices) == 1:
                outcomes[indices[0]] = exc
                return
            half = len(indices) // 2
            post(indices[:half])
            post(indices[half:])
        except Exception as exc:  # unreachable, or it may have been written: not resent
            for i in indices:
                outcomes[i] = exc

    group: list[int] = []
    size = 0
    for index, (_report, flags) in enumerate(items):
        if group and size + len(flags) > MAX_FLAGS:
            post(group)
            group, size = [], 0
        group.append(index)
        size += len(flags)
    if group:
        post(group)
    return outcomes


class Pdi(ProviderBase):
    name = "pdi"
    credential_fields = ("username", "password", "api_token")
    options = {"acquisition_type_id": "acquisition_types"}
    batch_size = 1000  # reports a send takes (in arrays of at most MAX_FLAGS flags)

    def client(self, credentials: Mapping[str, Any], **options: Any) -> Any:
        from chalicelib.crm.pdi import PdiClient

        return PdiClient(settings().pdi_api_url, credentials, **options)

    plan = staticmethod(_plan)
    send = staticmethod(_send)


PROVIDER = Pdi()
