"""What the API answers, as models for the OpenAPI document (`api/openapi.py`).

The views build their answers as plain dicts (no pydantic on a request's path); these
models describe them for the document, its generated clients and schemathesis, which
checks every answer of the running stack against them. A field that is not always there
is optional; one that may be null says so.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class Status(_Out):
    status: str


class Tokens(_Out):
    access_token: str | None = None
    refresh_token: str | None = None
    expires_in: int | None = None
    token_type: str | None = None
    mfa_required: bool | None = None
    mfa_token: str | None = None


class UserId(_Out):
    user_id: str


class TotpStart(_Out):
    secret: str
    otpauth_uri: str


class MfaEnabled(_Out):
    mfa_enabled: bool


class RecoveryCodes(_Out):
    codes: list[str]


class Membership(_Out):
    campaign_id: str
    campaign_name: str | None
    role: str


class Me(_Out):
    user_id: str
    email: str
    name: str
    phone: str | None = None
    mfa_enabled: bool
    mfa_verified: bool
    is_staff: bool
    memberships: list[Membership]


class Session(_Out):
    session_id: str
    created_at: str
    last_seen_at: str
    user_agent: str | None
    source_ip: str | None
    mfa: bool
    current: bool


class Contact(_Out):
    contact_id: str
    name: str
    phones: list[str]
    emails: list[str]


class ContactsSynced(_Out):
    received: int
    created: int
    updated: int
    total: int


class Campaign(_Out):
    campaign_id: str
    name: str
    role: str | None = None
    settings: dict[str, Any] | None = None


class Joined(_Out):
    campaign_id: str
    role: str


class JoinCode(_Out):
    code: str
    campaign_id: str
    expires_at: str
    uses: int
    max_uses: int | None
    revoked_at: str | None


class RoleChanged(_Out):
    campaign_id: str
    user_id: str
    role: str


class Readmitted(_Out):
    campaign_id: str
    user_id: str
    readmitted: bool


class Requeued(_Out):
    provider: str
    accepted: bool


class Catalog(_Out):
    """Lists of `{id, name}` entries keyed by kind (activist_codes or tags,
    survey_questions with their responses, result_codes, ...), as the provider has them."""


class Member(_Out):
    user_id: str
    name: str
    email: str
    role: str
    synced_contacts_count: int
    reports_count: int


class Response(_Out):
    response_id: str
    text: str


class Question(_Out):
    question_id: str
    text: str
    responses: list[Response]


class Action(_Out):
    action_id: str
    campaign_id: str
    type: str
    title: str
    instructions: str | None
    status: str
    questions: list[Question]
    deleted_at: str | None = None


class ListError(_Out):
    row: int
    field: str
    message: str


class VoterList(_Out):
    list_id: str
    campaign_id: str
    name: str
    provider: str | None
    # where its ids come from within a CRM, per provider: {"van": {"db_mode": 1}}
    crm_settings: dict[str, dict[str, Any]]
    state: str  # waiting_upload | importing | ready | failed | deleting
    rows_total: int | None
    rows_imported: int
    rows_rejected: int
    created_at: str
    created_by: str
    errors: list[ListError] | None = None
    status: str


class ListUpload(VoterList):
    upload_url: str
    expires_at: str


class FiledReport(_Out):
    report_id: str
    campaign_id: str
    action_id: str
    result: str
    created_at: str


class ReportContact(_Out):
    name: str | None
    external_id: str | None
    provider: str | None


class Report(_Out):
    report_id: str
    action_id: str
    user_id: str | None
    contact: ReportContact
    result: str
    created_at: str
    sync: list[dict[str, Any]]


class MemberCounts(_Out):
    admins: int
    volunteers: int


class ReportCounts(_Out):
    total: int
    by_result: dict[str, int]


class ResponseCount(_Out):
    response_id: str
    text: str
    count: int


class QuestionCounts(_Out):
    question_id: str
    text: str
    responses: list[ResponseCount]


class ActionCounts(_Out):
    action_id: str
    title: str
    deleted: bool
    reports: int
    by_result: dict[str, int]
    questions: list[QuestionCounts]


class SyncCounts(_Out):
    pending: int
    synced: int
    failed: int
    skipped: int


class Stats(_Out):
    members: MemberCounts
    synced_contacts: int
    reports: ReportCounts
    actions: list[ActionCounts]
    sync: SyncCounts


class Export(_Out):
    export_id: str
    kind: str
    state: str
    since: str | None
    rows: int
    created_at: str
    created_by: str
    error: str | None = None
    available_until: str | None = None
    download_url: str | None = None
    download_url_expires_at: str | None = None


class QuestionMapping(_Out):
    external_question_id: str
    responses: dict[str, str]


class ActionMapping(_Out):
    """One action's sync instructions as stored; a provider's own options beside these."""

    results: dict[str, str]
    questions: dict[str, QuestionMapping]
    activist_codes: list[str]


class Instructions(_Out):
    actions: dict[str, ActionMapping]


class Integration(_Out):
    provider: str
    configured: bool
    key_hint: str | None = None
    configured_at: str | None = None
    instructions: Instructions | None = None
    paused: bool | None = None


class SyncRecord(_Out):
    report_id: str
    provider: str
    state: str
    attempts: int


class AuditEntry(_Out):
    event_id: str
    at: str
    actor_id: str | None
    event: str
    target: str
    fields: list[str]


class Assigned(_Out):
    assigned: int


class Assignment(_Out):
    list_row_id: str
    action_id: str
    first_name: str | None
    last_name: str | None
    phone: str | None
    email: str | None
    reported: bool


class Target(_Out):
    contact_id: str
    name: str
    phones: list[str]
    emails: list[str]
    reported: bool


class StaffGrant(_Out):
    grant_id: str
    staff_user_id: str
    staff_name: str
    reason: str
    granted_by: str
    granted_at: str
    expires_at: str
    revoked_at: str | None = None
    accesses: int
    live: bool


class DeletionState(_Out):
    state: str  # none | scheduled | cancelled | done
    scheduled_for: str | None = None
    requested_by: str | None = None
    cancelled_by: str | None = None


def page_of(item: str) -> dict[str, Any]:
    """The schema of a page of `item`s (`{items, next_cursor}`)."""
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "next_cursor": {"type": ["string", "null"]},
        },
    }
