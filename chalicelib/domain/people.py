"""Users and their server-side sessions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    user_id: str
    email: str
    name: str
    phone: str | None
    is_staff: bool
    staff_trained_at: str | None
    mfa_enabled: bool
    contacts_count: int = 0


@dataclass(frozen=True)
class Session:
    session_id: str
    user_id: str
    username: str
    mfa: bool
    revoked: bool
    expires_at: int
    created_at: str = ""
    last_seen_at: str = ""
    user_agent: str | None = None
    source_ip: str | None = None
