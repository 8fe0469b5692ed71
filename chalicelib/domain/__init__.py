"""Domain objects: what the data layer returns and the logic layer works with.

The objects live in one module per aggregate and are imported on first use
(`from chalicelib.domain import User` loads only `domain.people`): a frozen dataclass
costs about 1.5 ms to create, and a cold start should pay only for those its route uses.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.domain.actions import Action, Question, Response
    from chalicelib.domain.campaigns import Campaign, JoinCode, Membership
    from chalicelib.domain.contacts import Contact, SyncResult
    from chalicelib.domain.integrations import Integration, SyncRecord
    from chalicelib.domain.lists import ListRow, VoterList
    from chalicelib.domain.paging import Page
    from chalicelib.domain.people import Session, User
    from chalicelib.domain.privacy import Deletion, StaffGrant
    from chalicelib.domain.reports import Report


class Role(StrEnum):
    ADMIN = "admin"
    VOLUNTEER = "volunteer"


ACTION_TYPES = ("text", "call", "canvass", "share", "survey")
ACTION_STATUSES = ("draft", "live", "closed")
REPORT_RESULTS = ("canvassed", "not_home", "refused", "wrong_number", "moved", "deceased", "other")
SYNC_STATES = ("pending", "synced", "failed", "skipped")

_WHERE = {
    "User": "people",
    "Session": "people",
    "Campaign": "campaigns",
    "Membership": "campaigns",
    "JoinCode": "campaigns",
    "Response": "actions",
    "Question": "actions",
    "Action": "actions",
    "Page": "paging",
    "Contact": "contacts",
    "SyncResult": "contacts",
    "VoterList": "lists",
    "ListRow": "lists",
    "Report": "reports",
    "Integration": "integrations",
    "SyncRecord": "integrations",
    "StaffGrant": "privacy",
    "Deletion": "privacy",
}


__all__ = [
    "ACTION_STATUSES",
    "ACTION_TYPES",
    "REPORT_RESULTS",
    "SYNC_STATES",
    "Action",
    "Campaign",
    "Contact",
    "Deletion",
    "Integration",
    "JoinCode",
    "ListRow",
    "Membership",
    "Page",
    "Question",
    "Report",
    "Response",
    "Role",
    "Session",
    "StaffGrant",
    "SyncRecord",
    "SyncResult",
    "User",
    "VoterList",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
