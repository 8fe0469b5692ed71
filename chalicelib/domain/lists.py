"""Voter lists and their rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class VoterList:
    campaign_id: str
    list_id: str
    name: str
    row_count: int
    rejected_count: int
    status: str
    created_at: str
    created_by: str
    provider: str | None = None  # whose ids the list carries; None: every CRM the campaign uses
    rows_total: int | None = None  # known once the file is read
    failure: str | None = None
    # where its ids come from within a CRM, per provider (VAN: {"db_mode": 0 or 1})
    crm_settings: dict[str, Any] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.status == "ready"


@dataclass(frozen=True)
class ListRow:
    campaign_id: str
    list_id: str
    row_id: str
    external_id: str
    first_name: str | None
    last_name: str | None
    phone: str | None
    email: str | None
    provider: str | None = None  # as its list's
