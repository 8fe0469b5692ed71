"""Reports volunteers file."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReportResult(StrEnum):
    CANVASSED = "canvassed"
    NOT_HOME = "not_home"
    REFUSED = "refused"
    WRONG_NUMBER = "wrong_number"
    MOVED = "moved"
    DECEASED = "deceased"
    OTHER = "other"


@dataclass(frozen=True)
class Report:
    campaign_id: str
    report_id: str
    action_id: str
    user_id: str
    contact_id: str | None
    list_row_id: str | None
    contact_name: str
    external_id: str | None
    result: str
    responses: list[dict[str, str]]
    notes: str | None
    created_at: str
    source_row_id: str | None = None  # the campaign's list row the external id came from
    external_provider: str | None = None  # the CRM the external id is for; None: any of them
