"""What logic takes in: request bodies, validated with pydantic (strict types: JSON in, no
coercion). Views parse a body into one of these models and hand the model to logic, which
reads its typed fields; the closed sets of values are the `StrEnum`s of `domain/`."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from chalicelib.domain.actions import ActionStatus, ActionType
from chalicelib.domain.campaigns import Role
from chalicelib.domain.exports import ExportKind
from chalicelib.domain.reports import ReportResult
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

# A closed set, given in JSON as its value ("live"), read by logic as its StrEnum member.
ActionTypeValue = Annotated[ActionType, Strict(False)]
ActionStatusValue = Annotated[ActionStatus, Strict(False)]
RoleValue = Annotated[Role, Strict(False)]
ReportResultValue = Annotated[ReportResult, Strict(False)]
ExportKindValue = Annotated[ExportKind, Strict(False)]


class _In(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class SignupIn(_In):
    email: Email
    password: Annotated[str, StringConstraints(min_length=8, max_length=256)]
    name: Name
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None


NewPassword = Annotated[str, StringConstraints(min_length=8, max_length=256)]


class ForgotIn(_In):
    email: Email


class ConfirmIn(_In):
    email: Email
    code: Code


class ResetIn(_In):
    email: Email
    code: Code
    password: NewPassword


class PasswordIn(_In):
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class PasswordChangeIn(_In):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: NewPassword


class LoginIn(_In):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class MfaIn(_In):
    mfa_token: Token
    code: Code | None = None
    recovery_code: Code | None = None

    @model_validator(mode="after")
    def _one_factor(self) -> MfaIn:
        if (self.code is None) == (self.recovery_code is None):
            raise InvalidInput("code", "give exactly one of code and recovery_code")
        return self


class RefreshIn(_In):
    refresh_token: Token


class CodeIn(_In):
    code: Code


class JoinCodeIn(_In):
    max_uses: int | None = Field(default=None, ge=1, le=100_000)
    expires_in_days: int | None = Field(default=None, ge=1, le=90)


class CampaignIn(_In):
    name: Name


MAX_SETTINGS_BYTES = 16 * 1024


def _bounded_settings(value: dict[str, Any] | None) -> dict[str, Any] | None:
    import json

    if value is not None and len(json.dumps(value).encode()) > MAX_SETTINGS_BYTES:
        raise ValueError(f"is larger than {MAX_SETTINGS_BYTES} bytes as JSON")
    return value


class CampaignPatch(_In):
    name: Name | None = None
    settings: Annotated[dict[str, Any] | None, AfterValidator(_bounded_settings)] = None


class RoleIn(_In):
    role: RoleValue


# An action is one item: beside the bounds on each text, all of its text together is
# at most MAX_ACTION_TEXT_BYTES in UTF-8, so the item stays below DynamoDB's 400 KB
# whatever the characters and however many ids the questions and responses get.
MAX_ACTION_TEXT_BYTES = 300_000


def _action_text_bytes(action: Any) -> int:
    texts = [action.title or "", action.instructions or ""]
    for question in action.questions or []:
        texts.append(question.text)
        texts.extend(response.text for response in question.responses)
    return sum(len(text.encode()) for text in texts)


def _bounded_action(action: Any) -> Any:
    if _action_text_bytes(action) > MAX_ACTION_TEXT_BYTES:
        raise InvalidInput(
            "questions", f"the action's text is larger than {MAX_ACTION_TEXT_BYTES} bytes"
        )
    return action


QuestionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
]
ResponseText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Questions = Annotated[list["QuestionIn"], Field(max_length=50)]


class ResponseIn(_In):
    response_id: Id | None = None
    text: ResponseText


class QuestionIn(_In):
    question_id: Id | None = None
    text: QuestionText
    responses: Annotated[list[ResponseIn], Field(max_length=20)] = []


class ActionIn(_In):
    type: ActionTypeValue
    title: Name
    instructions: LongText | None = None
    status: ActionStatusValue = ActionStatus.DRAFT
    questions: Questions = []

    @model_validator(mode="after")
    def _bounded(self) -> ActionIn:
        return _bounded_action(self)  # type: ignore[no-any-return]


class ActionPatch(_In):
    type: ActionTypeValue | None = None
    title: Name | None = None
    instructions: LongText | None = None
    status: ActionStatusValue | None = None
    questions: Questions | None = None

    @model_validator(mode="after")
    def _bounded(self) -> ActionPatch:
        return _bounded_action(self)  # type: ignore[no-any-return]

    def changes(self) -> dict[str, Any]:
        """Only the fields the request named, typed; a null clears an optional field."""
        given = {name: getattr(self, name) for name in self.model_fields_set}
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
    van_db_mode: Literal[0, 1] | None = None  # VAN ids: MyVoters (0) or MyCampaign (1)


class AssignIn(_In):
    user_id: Id
    list_id: Id
    count: int = Field(ge=1, le=1000)


class UploadIn(_In):
    name: Name
    provider: str | None = None  # the CRM whose ids the rows carry (checked by the logic)
    van_db_mode: Literal[0, 1] | None = None  # VAN ids: MyVoters (0) or MyCampaign (1)


class AnswerIn(_In):
    question_id: Id
    response_id: Id


class ReportIn(_In):
    contact_id: Id | None = None
    list_row_id: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    result: ReportResultValue
    responses: Annotated[list[AnswerIn], Field(max_length=100)] = []
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None


class DeletionIn(_In):
    confirm_name: Annotated[str, StringConstraints(min_length=1, max_length=200)]


# ---- sync instructions: per action, what a report maps to in a CRM's catalog ---------------


# An id of a CRM's catalog: text for some providers, whole numbers for others (logic checks
# the provider's own kind and, where the catalog is at hand, that the id is in it).
def external_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise ValueError("must be an id (text or number)")
    text = str(value).strip()
    if len(text) > 200:
        raise ValueError("is longer than any id (200 characters)")
    return text


ExternalId = Annotated[
    Any,
    AfterValidator(external_id),
    WithJsonSchema({"type": ["string", "integer"], "description": "an id of the CRM's catalog"}),
]


class QuestionMapIn(_In):
    external_question_id: ExternalId
    responses: dict[Id, ExternalId] = {}


class ActionMapIn(_In):
    """One action's mapping. Beside these, a provider may require options of its own (PDI's
    `acquisition_type_id`, VAN's `contact_type_id`): kept as extra fields, checked by logic
    against `Provider.options`."""

    model_config = ConfigDict(strict=True, extra="allow")

    results: dict[ReportResultValue, ExternalId] = {}
    questions: dict[Id, QuestionMapIn] = {}
    activist_codes: list[ExternalId] = []


class InstructionsIn(_In):
    actions: dict[Id, ActionMapIn]


class ExportIn(_In):
    kind: ExportKindValue
    since: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
