"""Campaigns, their members and join codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    ADMIN = "admin"
    VOLUNTEER = "volunteer"


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    settings: dict[str, Any]
    admin_count: int
    created_at: str
    updated_at: str
    updated_by: str
    deletion_grace_days: int = 7  # the contract's grace period before an erasure


@dataclass(frozen=True)
class Membership:
    campaign_id: str
    user_id: str
    role: Role
    name: str
    email: str
    reports_count: int = 0
    created_at: str = ""


@dataclass(frozen=True)
class JoinCode:
    code: str
    campaign_id: str
    expires_at: str
    created_at: str = ""
    created_by: str = ""
    uses: int = 0
    max_uses: int | None = None
    revoked_at: str | None = None
