"""CRM integrations and each report's sync to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class SyncState(StrEnum):
    PENDING = "pending"
    SYNCED = "synced"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Integration:
    campaign_id: str
    provider: str
    key_hint: str
    instructions: dict[str, Any]
    configured_at: str
    sealed_credentials: str = field(repr=False, default="")
    paused_at: str | None = None  # sync waits (records stay pending) while set
    settings: dict[str, Any] = field(default_factory=dict)  # not secret (VAN's db_mode)


@dataclass(frozen=True)
class SyncRecord:
    campaign_id: str
    report_id: str
    provider: str
    state: str
    attempts: int
    last_error: str | None
    retryable: bool
    next_attempt_at: str | None
    claim: str | None
    claimed_until: str | None
    updated_at: str
