"""Staff grants and campaign deletions: the privacy promise's records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StaffGrant:
    campaign_id: str
    grant_id: str
    staff_user_id: str
    staff_name: str
    reason: str
    granted_by: str
    granted_at: str
    expires_at: str
    revoked_at: str | None = None
    revoked_by: str | None = None
    accesses: int = 0

    def live(self, now_iso: str) -> bool:
        return self.revoked_at is None and self.expires_at > now_iso


@dataclass(frozen=True)
class Deletion:
    campaign_id: str
    state: str  # scheduled | cancelled | erasing | done
    requested_by: str
    requested_at: str
    campaign_name: str | None = None
    scheduled_for: str | None = None
    cancelled_by: str | None = None
    cancelled_at: str | None = None
    reminded: bool = False
    skipped_grace: str | None = None
    notify: list[str] = field(default_factory=list)
    started_at: str | None = None
    erased_at: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    digest: str | None = None
