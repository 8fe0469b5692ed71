"""A campaign's data as a CSV file an admin downloads."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ExportKind(StrEnum):
    REPORTS = "reports"
    MEMBERS = "members"
    AUDIT = "audit"


class ExportState(StrEnum):
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class Export:
    campaign_id: str
    export_id: str
    kind: ExportKind
    state: ExportState
    since: str | None
    rows: int
    created_at: str
    created_by: str
    updated_at: str
    error: str | None = None
