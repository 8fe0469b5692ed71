"""Actions and their survey questions."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ActionType(StrEnum):
    TEXT = "text"
    CALL = "call"
    CANVASS = "canvass"
    SHARE = "share"
    SURVEY = "survey"


class ActionStatus(StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    CLOSED = "closed"


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
