"""The CRMs a campaign can sync to, each behind one interface (`Provider`).

The sync runner (`logic.sync`), the integration routes (`logic.integrations`) and the
list imports know no provider by name: they ask `get(name)` and `names()`. A provider is one
module of this package that defines `PROVIDER`; adding one is that module and one line of
`_MODULES`.

What a provider module answers:
- its credentials: the fields an admin gives (`parse_credentials`, 400 naming a bad field)
  and which one is the secret whose hint is shown;
- its catalog ids: whole numbers (VAN) or opaque text, and the per-action options its
  mapping takes (VAN's contact type, PDI's acquisition type);
- its client (`client`), made from `chalicelib.crm` on first use (that imports `requests`);
- what a report becomes (`plan`, raising `Skip` when nothing is to be sent) and how plans
  are sent (`send`: `batch_size` reports a call, an outcome for each).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain.integrations import Integration
from chalicelib.domain.lists import VoterList
from chalicelib.domain.reports import Report
from chalicelib.errors import InvalidInput


class Skip(Exception):
    """Nothing to send for this report and provider; the reason is kept."""


@dataclass(frozen=True)
class Mapped:
    """What the action's mapping makes of one report, before any provider's shape."""

    mapping: dict[str, Any]
    answers: list[tuple[str, str]]  # (external question id, external response id)
    codes: list[str]  # activist codes / tags
    result_code: str | None  # the result's code, when mapped


class Lookups(Protocol):
    """What a plan may need beyond the report, looked up once per batch by the runner."""

    def row_phone(self, report: Report) -> str | None: ...

    def list_of(self, report: Report) -> VoterList | None:
        """The list the report's external id came from."""
        ...

    @property
    def settings(self) -> dict[str, Any]:
        """The integration's (`Provider.settings_of`)."""
        ...

    def local_day(self, report: Report) -> str:
        """The day (YYYY-MM-DD) the contact was made where the campaign is."""
        ...


class Provider(Protocol):
    name: str
    credential_fields: tuple[str, ...]  # the last is the secret whose hint is shown
    numeric_ids: bool  # catalog ids are whole numbers
    # per-action mapping options it requires, besides the common ones: each names an entry
    # of this catalog list (VAN's contact type, PDI's acquisition type)
    options: dict[str, str]
    batch_size: int  # reports one `send` takes; 1: one at a time, from a pool of threads

    def parse_credentials(self, body: Mapping[str, Any]) -> dict[str, Any]: ...

    def settings_of(self, credentials: Mapping[str, Any]) -> dict[str, Any]:
        """What of the credentials is not secret and the sync needs (VAN's database mode)."""
        ...

    def list_settings(
        self, fields: Mapping[str, Any], configured: Integration | None
    ) -> dict[str, Any]:
        """Where a new list's ids come from within this CRM (VAN: MyVoters or MyCampaign),
        from the list's own fields or else the integration configured now; {} for none."""
        ...

    def client(self, credentials: Mapping[str, Any], **options: Any) -> Any: ...

    def plan(self, report: Report, mapped: Mapped, lookups: Lookups) -> Any: ...

    def send(self, client: Any, items: list[tuple[Report, Any]]) -> list[Exception | None]: ...


# name -> the module defining PROVIDER: the one place a provider is registered
_MODULES = {
    "van": "chalicelib.logic.providers.van",
    "pdi": "chalicelib.logic.providers.pdi",
    "salsa": "chalicelib.logic.providers.salsa",
}
_loaded: dict[str, Provider] = {}


def names() -> tuple[str, ...]:
    return tuple(_MODULES)


def get(name: str) -> Provider:
    """The provider called `name`; KeyError for none."""
    if name not in _loaded:
        module = importlib.import_module(_MODULES[name])
        _loaded[name] = module.PROVIDER
    return _loaded[name]


def register(name: str, module: str) -> Callable[[], None]:
    """Add a provider (tests' toy one); returns how to take it away again."""
    _MODULES[name] = module

    def unregister() -> None:
        _MODULES.pop(name, None)
        _loaded.pop(name, None)

    return unregister


class ProviderBase:
    """What most providers share: text credentials, opaque ids, no mapping options, one
    report a send, nothing of the credentials or of a list to keep."""

    name: str
    credential_fields: tuple[str, ...]
    numeric_ids = False
    options: dict[str, str] = {}
    batch_size = 1

    def parse_credentials(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return text_credentials(body, self.credential_fields)

    def settings_of(self, credentials: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    def list_settings(
        self, fields: Mapping[str, Any], configured: Integration | None
    ) -> dict[str, Any]:
        return {}


def mapped(report: Report, provider: str, instructions: Mapping[str, Any]) -> Mapped:
    """The report through its action's mapping for `provider`; Skip when nothing is to be
    written (no external id, an id from another CRM's list, no mapping)."""
    if not report.external_id:
        raise Skip("the contact has no external id from this campaign's lists")
    if report.external_provider not in (None, provider):
        raise Skip(
            f"the contact's external id is from a {report.external_provider} list, "
            f"not a {provider} one"
        )
    mapping = instructions.get(report.action_id)
    if not mapping:
        raise Skip("nothing is mapped for this action")
    answers = []
    for answer in report.responses:
        question = mapping.get("questions", {}).get(answer["question_id"])
        if question and answer["response_id"] in question.get("responses", {}):
            answers.append(
                (question["external_question_id"], question["responses"][answer["response_id"]])
            )
    return Mapped(
        mapping=dict(mapping),
        answers=answers,
        codes=list(mapping.get("activist_codes", [])),
        result_code=mapping.get("results", {}).get(report.result),
    )


def text_credentials(body: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Credentials that are each required text (trimmed, at most 500 characters)."""
    credentials: dict[str, Any] = {}
    for name in names:
        value = body.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 500:
            raise InvalidInput(name, "is required (text)")
        credentials[name] = value.strip()
    return credentials


def each(send_one: Callable[[Any, Report, Any], None]) -> Callable[..., list[Exception | None]]:
    """A `send` from a function that sends one report: each report's error, or None."""

    def send(client: Any, items: list[tuple[Report, Any]]) -> list[Exception | None]:
        outcomes: list[Exception | None] = []
        for report, plan in items:
            try:
                send_one(client, report, plan)
            except Exception as exc:  # one bad report fails alone
                outcomes.append(exc)
            else:
                outcomes.append(None)
        return outcomes

    return send
