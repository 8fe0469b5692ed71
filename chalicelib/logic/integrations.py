"""CRM integrations: credentials (tried first, then sealed), catalog, sync instructions."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chalicelib import crypto
from chalicelib.auth.policy import Permission
from chalicelib.config import settings
from chalicelib.crm import CredentialsRejected, CrmError, DeadlineExceeded, TransientCrmError
from chalicelib.dal import actions as actions_dal
from chalicelib.dal import integrations as integrations_dal
from chalicelib.dal import ops
from chalicelib.domain.integrations import Integration
from chalicelib.errors import InvalidInput, NotFound, Refused, TimedOut
from chalicelib.logic import providers
from chalicelib.logic.access import require
from chalicelib.logic.principal import Principal
from chalicelib.observability import logger

if TYPE_CHECKING:
    from chalicelib.logic.inputs import InstructionsIn

CATALOG_TTL = 600  # seconds


def _context(campaign_id: str, provider: str) -> dict[str, str]:
    return {"campaign_id": campaign_id, "provider": provider, "purpose": "crm-credentials"}


def check_provider(provider: str) -> str:
    if provider not in providers.names():
        raise NotFound(f"no such provider: use one of {', '.join(providers.names())}")
    return provider


def credentials_of(integration: Integration) -> dict[str, Any]:
    return crypto.open_sealed(
        integration.sealed_credentials, _context(integration.campaign_id, integration.provider)
    )


# An API request that asks a CRM something answers within this many seconds (API
# Gateway cuts requests off at 29): one try per call, no waiting out a provider's
# outage; retries belong to the background sync.
API_DEADLINE = 20.0


def _client(provider: str, credentials: dict[str, Any], *, background: bool = True) -> Any:
    from chalicelib.crm.retries import RetryPolicy, Timeouts

    read = settings().crm_read_timeout
    crm = providers.get(provider)
    if background:
        return crm.client(credentials, timeouts=Timeouts(read=read))
    return crm.client(
        credentials,
        timeouts=Timeouts(read=min(read, 10.0)),
        retry=RetryPolicy(max_attempts=1, max_queue_wait=2.0),
    )


def client_for(integration: Integration, *, background: bool = True) -> Any:
    return _client(integration.provider, credentials_of(integration), background=background)


@contextmanager
def _answering_in_time(provider: str) -> Iterator[None]:
    """An API request's calls to a CRM: within API_DEADLINE, else 504."""
    from chalicelib.crm.retries import deadline

    with deadline(time.monotonic() + API_DEADLINE):
        try:
            yield
        except DeadlineExceeded:
            raise TimedOut(f"{provider} did not answer in time; try again later") from None
        except TransientCrmError as exc:
            if "timed out" in exc.message:
                raise TimedOut(f"{provider} did not answer in time; try again later") from None
            raise


def _hint(secret: str) -> str:
    return f"…{secret[-4:]}" if len(secret) >= 12 else "…"


def configure(
    principal: Principal, campaign_id: str, provider: str, body: dict[str, Any]
) -> Integration:
    """Try the credentials against the provider; store them sealed only if it accepts."""
    require(principal, campaign_id, Permission.MANAGE_INTEGRATIONS)
    check_provider(provider)
    crm = providers.get(provider)
    credentials = crm.parse_credentials(body)
    client = _client(provider, credentials, background=False)
    try:
        with _answering_in_time(provider):
            client.check_credentials()
    except CredentialsRejected as exc:
        raise Refused(f"{provider} rejected the credentials: {exc.message}") from None
    except CrmError as exc:
        raise Refused(f"{provider} could not check the credentials: {exc.message}") from None
    finally:
        client.close()
    sealed = crypto.seal(credentials, _context(campaign_id, provider))
    secret = str(credentials[crm.credential_fields[-1]])
    integration = integrations_dal.put_integration(
        campaign_id,
        provider,
        sealed,
        _hint(secret),
        principal.user_id,
        crm.settings_of(credentials),
    )
    ops.drop_cached(f"catalog:{campaign_id}:{provider}")
    return integration


def list_integrations(principal: Principal, campaign_id: str) -> list[Integration]:
    require(principal, campaign_id, Permission.VIEW_INTEGRATIONS)
    return integrations_dal.list_integrations(campaign_id)


def remove(principal: Principal, campaign_id: str, provider: str) -> None:
    require(principal, campaign_id, Permission.MANAGE_INTEGRATIONS)
    check_provider(provider)
    if not integrations_dal.delete_integration(campaign_id, provider, principal.user_id):
        raise NotFound(f"{provider} is not configured for this campaign")
    ops.drop_cached(f"catalog:{campaign_id}:{provider}")


def _configured(campaign_id: str, provider: str) -> Integration:
    check_provider(provider)
    integration = integrations_dal.get_integration(campaign_id, provider)
    if integration is None:
        raise NotFound(f"{provider} is not configured for this campaign")
    return integration


def catalog(principal: Principal, campaign_id: str, provider: str) -> dict[str, Any]:
    """What can be mapped, from the provider (following its paging), cached 10 minutes."""
    require(principal, campaign_id, Permission.VIEW_INTEGRATIONS)
    return _catalog(_configured(campaign_id, provider))


def _catalog(integration: Integration) -> dict[str, Any]:
    campaign_id, provider = integration.campaign_id, integration.provider
    key = f"catalog:{campaign_id}:{provider}"
    cached = ops.get_cached(key)
    if cached is not None:
        return dict(cached)
    client = client_for(integration, background=False)
    try:
        with _answering_in_time(provider):
            found: dict[str, Any] = client.catalog()
    except CredentialsRejected as exc:
        raise Refused(f"{provider} rejected the stored credentials: {exc.message}") from None
    except CrmError as exc:
        raise Refused(f"{provider} could not be read: {exc.message}") from None
    finally:
        client.close()
    found = sane_catalog(found)
    if len(json.dumps(found).encode()) <= MAX_CACHED_CATALOG_BYTES:
        ops.put_cached(key, found, CATALOG_TTL, campaign_id=campaign_id)
    else:  # a huge catalog is served, not cached (one ops item holds 400 KB at most)
        logger.warning("catalog too large to cache", extra={"provider": provider})
    return found


MAX_CATALOG_ENTRIES = 5000
MAX_CACHED_CATALOG_BYTES = 300 * 1024
MAX_CATALOG_NAME = 200


def _entry(raw: Any) -> dict[str, Any] | None:
    """One catalog entry as the console needs it, or None for a malformed one: an id that
    is text or a whole number, a name of text, responses of the same shape."""
    if not isinstance(raw, dict):
        return None
    ident = raw.get("id")
    if isinstance(ident, bool) or not isinstance(ident, str | int) or str(ident) == "":
        return None
    if isinstance(ident, str) and len(ident) > MAX_CATALOG_NAME:
        return None
    name = raw.get("name")
    entry: dict[str, Any] = {
        **{k: v for k, v in raw.items() if isinstance(v, str | int) and not isinstance(v, bool)},
        "id": ident,
        "name": (name if isinstance(name, str) else str(ident))[:MAX_CATALOG_NAME],
    }
    for key, value in list(entry.items()):
        if isinstance(value, str) and len(value) > MAX_CATALOG_NAME:
            entry[key] = value[:MAX_CATALOG_NAME]
    if "responses" in raw:
        responses = raw["responses"] if isinstance(raw["responses"], list) else []
        entry["responses"] = [e for e in map(_entry, responses[:MAX_CATALOG_ENTRIES]) if e]
    return entry


def sane_catalog(found: Any) -> dict[str, Any]:
    """A provider's catalog with every malformed entry left out and every list bounded."""
    if not isinstance(found, dict):
        return {}
    out: dict[str, Any] = {}
    for key, entries in found.items():
        if isinstance(entries, list):
            out[key] = [e for e in map(_entry, entries[:MAX_CATALOG_ENTRIES]) if e]
    return out


MAX_INSTRUCTIONS_BYTES = 200 * 1024


def _external_id(text: str, field: str, provider: str) -> str:
    """An id of the provider's catalog (as the schema's `ExternalId` gives it): whole numbers
    for some providers (VAN's result codes, survey questions and responses, activist codes,
    contact types), opaque text for others."""
    if providers.get(provider).numeric_ids and not (
        text.isascii() and text.isdigit() and len(text) <= 12
    ):
        raise InvalidInput(field, f"must be a {provider} id (a whole number)")
    return text


def _checked_instructions(integration: Integration, given: InstructionsIn) -> dict[str, Any]:
    """The instructions to store: every action, question and response named exists in the
    campaign, every id is of the provider's kind, and each option the provider requires
    names an entry of its catalog (stored with it: its name, its channel)."""
    from chalicelib.logic.inputs import external_id  # loaded already: the view parsed with it

    campaign_id, provider = integration.campaign_id, integration.provider
    crm = providers.get(provider)
    found: dict[str, Any] | None = None  # the catalog, read when an option needs it
    checked: dict[str, Any] = {}
    known = actions_dal.get_actions(campaign_id, list(given.actions))
    for action_id, mapping in given.actions.items():
        where = f"actions.{action_id}"
        action = known.get(action_id)
        if action is None or action.deleted:
            raise InvalidInput(where, "names no action of this campaign")
        questions = {q.question_id: {r.response_id for r in q.responses} for q in action.questions}
        mapped_questions: dict[str, Any] = {}
        for question_id, question_map in mapping.questions.items():
            qwhere = f"{where}.questions.{question_id}"
            if question_id not in questions:
                raise InvalidInput(qwhere, "names no question of this action")
            for response_id in question_map.responses:
                if response_id not in questions[question_id]:
                    raise InvalidInput(
                        f"{qwhere}.responses.{response_id}", "names no response of this question"
                    )
            mapped_questions[question_id] = {
                "external_question_id": _external_id(
                    question_map.external_question_id, f"{qwhere}.external_question_id", provider
                ),
                "responses": {
                    rid: _external_id(value, f"{qwhere}.responses.{rid}", provider)
                    for rid, value in question_map.responses.items()
                },
            }
        entry: dict[str, Any] = {
            "results": {
                str(result): _external_id(value, f"{where}.results.{result}", provider)
                for result, value in mapping.results.items()
            },
            "questions": mapped_questions,
            "activist_codes": [
                _external_id(code, f"{where}.activist_codes[{i}]", provider)
                for i, code in enumerate(mapping.activist_codes)
            ],
        }
        options = mapping.model_extra or {}
        for option, listed in crm.options.items():
            value = options.get(option)
            if value is None:
                raise InvalidInput(f"{where}.{option}", f"is required: one of the {listed}")
            try:
                text = external_id(value)
            except ValueError as exc:
                raise InvalidInput(f"{where}.{option}", str(exc)) from None
            chosen = _external_id(text, f"{where}.{option}", provider)
            if found is None:
                found = _catalog(integration)
            entries = {str(e["id"]): e for e in found.get(listed, [])}
            if chosen not in entries:
                raise InvalidInput(f"{where}.{option}", f"names none of {provider}'s {listed}")
            entry[option] = chosen
            entry.setdefault("catalog", {})[option] = entries[chosen]  # its name, its channel
        checked[action_id] = entry
    if len(json.dumps(checked).encode()) > MAX_INSTRUCTIONS_BYTES:
        raise InvalidInput(
            "actions", f"the instructions are larger than {MAX_INSTRUCTIONS_BYTES} bytes"
        )
    return {"actions": checked}


def set_instructions(
    principal: Principal, campaign_id: str, provider: str, given: InstructionsIn
) -> Integration:
    """Per action: which CRM result code, survey answers and activist codes a report maps to.
    Every action, question and response named must exist in the campaign."""
    require(principal, campaign_id, Permission.MANAGE_INTEGRATIONS)
    integration = _configured(campaign_id, provider)
    instructions = _checked_instructions(integration, given)
    return integrations_dal.set_instructions(campaign_id, provider, instructions, principal.user_id)
