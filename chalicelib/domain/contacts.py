"""A volunteer's synced contacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
