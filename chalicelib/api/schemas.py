"""Request bodies, validated with pydantic (strict types: JSON in, no coercion)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.errors import InvalidInput

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("is not a valid e-mail address")
    return value


Email = Annotated[str, AfterValidator(_email)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
LongText = Annotated[str, StringConstraints(max_length=20000)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=8192)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]

ActionType = Literal["text", "call", "canvass", "share", "survey"]
ActionStatus = Literal["draft", "live", "closed"]


class _In(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class SignupIn(_In):
    email: Email
    password: Annotated[str, StringConstraints(min_length=8, max_length=256)]
    name: Name
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None


class LoginIn(_In):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class MfaIn(_In):
    mfa_token: Token
    code: Code


class RefreshIn(_In):
    refresh_token: Token


class CodeIn(_In):
    code: Code


class JoinCodeIn(_In):
    max_uses: int | None = Field(default=None, ge=1, le=100_000)
    expires_in_days: int | None = Field(default=None, ge=1, le=90)


class CampaignIn(_In):
    name: Name


class CampaignPatch(_In):
    name: Name | None = None
    settings: dict[str, Any] | None = None


class RoleIn(_In):
    role: Literal["admin", "volunteer"]


class ResponseIn(_In):
    response_id: Id | None = None
    text: Text


class QuestionIn(_In):
    question_id: Id | None = None
    text: Text
    responses: Annotated[list[ResponseIn], Field(max_length=50)] = []


class ActionIn(_In):
    type: ActionType
    title: Name
    instructions: LongText | None = None
    status: ActionStatus = "draft"
    questions: Annotated[list[QuestionIn], Field(max_length=100)] = []


class ActionPatch(_In):
    type: ActionType | None = None
    title: Name | None = None
    instructions: LongText | None = None
    status: ActionStatus | None = None
    questions: Annotated[list[QuestionIn], Field(max_length=100)] | None = None

    def changes(self) -> dict[str, Any]:
        """Only what the request named; a null clears an optional field."""
        given = self.model_dump(exclude_unset=True)
        for required in ("type", "title", "status", "questions"):
            if required in given and given[required] is None:
                raise InvalidInput(required, "cannot be null")
        return given


class ContactsIn(_In):
    contacts: list[Any]  # each one is checked on its own: problems are reported per contact


class ListIn(_In):
    name: Name
    rows: list[Any]  # each row is checked on its own: problems are reported per row
    provider: str | None = None  # the CRM whose ids the rows carry (checked by the logic)


class AnswerIn(_In):
    question_id: Id
    response_id: Id


ReportResult = Literal[
    "canvassed", "not_home", "refused", "wrong_number", "moved", "deceased", "other"
]


class ReportIn(_In):
    contact_id: Id | None = None
    list_row_id: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    result: ReportResult
    responses: Annotated[list[AnswerIn], Field(max_length=100)] = []
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None
