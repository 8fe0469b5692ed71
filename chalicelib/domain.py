"""Domain objects: what the data layer returns and the logic layer works with."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    ADMIN = "admin"
    VOLUNTEER = "volunteer"


ACTION_TYPES = ("text", "call", "canvass", "share", "survey")
ACTION_STATUSES = ("draft", "live", "closed")
PROVIDERS = ("van", "pdi", "salsa")  # the CRMs a campaign can sync to


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
class Campaign:
    campaign_id: str
    name: str
    settings: dict[str, Any]
    admin_count: int
    created_at: str
    updated_at: str
    updated_by: str


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
class Response:
    response_id: str
    text: str


@dataclass(frozen=True)
class Question:
    question_id: str
    text: str
    responses: list[Response] = field(default_factory=list)


@dataclass(frozen=True)
class Action:
    campaign_id: str
    action_id: str
    type: str
    title: str
    instructions: str | None
    status: str
    questions: list[Question]
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    deleted_at: str | None = None
    deleted_by: str | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class JoinCode:
    code: str
    campaign_id: str
    expires_at: str


@dataclass(frozen=True)
class Session:
    session_id: str
    user_id: str
    username: str
    mfa: bool
    revoked: bool
    expires_at: int


@dataclass(frozen=True)
class Page:
    """One page of a list: the items and the opaque cursor of the next page."""

    items: list[Any]
    next_cursor: str | None


REPORT_RESULTS = ("canvassed", "not_home", "refused", "wrong_number", "moved", "deceased", "other")


@dataclass(frozen=True)
class Contact:
    contact_id: str
    name: str
    phones: list[str]
    emails: list[str]
    keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SyncResult:
    received: int
    created: int
    updated: int
    total: int
    invalid: list[dict[str, Any]]


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


SYNC_STATES = ("pending", "synced", "failed", "skipped")


@dataclass(frozen=True)
class Integration:
    campaign_id: str
    provider: str
    key_hint: str
    instructions: dict[str, Any]
    configured_at: str
    sealed_credentials: str = field(repr=False, default="")


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
