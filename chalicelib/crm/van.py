"""NGP VAN / EveryAction API v4 client.

Auth is HTTP Basic: user = application name, password = ``"{api_key}|{db_mode}"``. Everything we
write goes through ``POST /people/{vanId}/canvassResponses`` (204). We never create, merge or delete
a person: see `ENDPOINTS`, the only endpoints this client can reach.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime
from typing import Any, Unpack

from requests.auth import HTTPBasicAuth

from chalicelib.crm.endpoints import Endpoint
from chalicelib.crm.errors import PermanentCrmError, PersonNotFound
from chalicelib.crm.http import ClientBase, HttpCore, Transport, redacted

PROVIDER = "van"
INPUT_TYPE_API = 11
PAGE_SIZE = 200
MAX_PAGES = 500
_VAN_ID = re.compile(r"^[1-9][0-9]{0,18}$")

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/echoes"),
    Endpoint("GET", "/people/{vanId}"),
    Endpoint("POST", "/people/{vanId}/canvassResponses"),
    Endpoint("GET", "/activistCodes"),
    Endpoint("GET", "/surveyQuestions"),
    Endpoint("GET", "/canvassResponses/resultCodes"),
    Endpoint("GET", "/canvassResponses/contactTypes"),
)
"""Everything the VAN client may call. Nothing here creates, merges or deletes a person."""


@dataclass(frozen=True, repr=False)
class VanCredentials:
    application_name: str
    api_key: str
    db_mode: int

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> VanCredentials:
        name, key, mode = raw.get("application_name"), raw.get("api_key"), raw.get("db_mode")
        if not isinstance(name, str) or not name.strip():
            raise ValueError("application_name is required")
        if not isinstance(key, str) or not key.strip():
            raise ValueError("api_key is required")
        if isinstance(mode, bool) or mode not in (0, 1, "0", "1"):
            raise ValueError("db_mode must be 0 (MyVoters) or 1 (MyCampaign/EveryAction)")
        return cls(name.strip(), key.strip(), int(mode))

    @property
    def password(self) -> str:
        return f"{self.api_key}|{self.db_mode}"

    def __repr__(self) -> str:
        return (
            f"VanCredentials(application_name={self.application_name!r}, "
            f"api_key={redacted(self.api_key)}, db_mode={self.db_mode})"
        )


class _VanAuth(HTTPBasicAuth):
    def __repr__(self) -> str:
        return "VanBasicAuth(***)"


def van_error_text(body: Any) -> str | None:
    """VAN errors: ``{"errors": [{"code", "text", "properties"}]}``."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        texts = []
        for err in body["errors"]:
            if isinstance(err, dict):
                text = err.get("text") or err.get("code")
                if text:
                    props = err.get("properties")
                    if isinstance(props, list) and props:
                        text = f"{text} [{', '.join(str(p) for p in props)}]"
                    texts.append(str(text))
        if texts:
            return "; ".join(texts)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return None


def _van_id(value: str | int) -> str:
    text = str(value).strip()
    if not _VAN_ID.match(text):
        raise ValueError("a VAN ID is a positive integer")
    return text


def _iso_date(value: Date | datetime | str) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, Date):
        return value.isoformat()
    return Date.fromisoformat(value[:10]).isoformat()


class VanClient(ClientBase):
    """One VAN API key (one committee / database mode)."""

    ENDPOINTS = ENDPOINTS
    provider = PROVIDER

    def __init__(
        self,
        base_url: str,
        credentials: Mapping[str, Any] | VanCredentials,
        **transport: Unpack[Transport],
    ) -> None:
        creds = (
            credentials
            if isinstance(credentials, VanCredentials)
            else VanCredentials.parse(credentials)
        )
        self._credentials = creds
        self._core = HttpCore(
            provider=PROVIDER,
            base_url=base_url,
            endpoints=ENDPOINTS,
            auth=_VanAuth(creds.application_name, creds.password),
            secrets=lambda: (creds.api_key, creds.password),
            error_text=van_error_text,
            **transport,
        )

    # -- credentials and people ---------------------------------------------------------------

    def check_credentials(self) -> None:
        """``POST /echoes``: raises CredentialsRejected, with VAN's reason, if refused."""
        message = "volunteer-organizer credential check"
        reply = self._core.request("POST", "/echoes", body={"message": message})
        body = reply.object(PROVIDER)
        if body.get("message") != message:
            raise PermanentCrmError(PROVIDER, "the echo did not come back", status=reply.status)

    def person_exists(self, van_id: str | int) -> bool:
        """``GET /people/{vanId}``: True if VAN knows this VAN ID, False on 404."""
        vid = _van_id(van_id)
        reply = self._core.request(
            "GET", "/people/{vanId}", path_params={"vanId": vid}, accept={404}
        )
        return reply.status != 404

    # -- catalog ------------------------------------------------------------------------------

    def catalog(self) -> dict[str, Any]:
        """What an admin can map to: activist codes, survey questions (with their responses),
        result codes, and contact types (the write-back needs a contactTypeId)."""
        codes = self._paged("/activistCodes", {"statuses": "Active", "$top": PAGE_SIZE})
        questions = self._paged("/surveyQuestions", {"statuses": "Active", "$top": PAGE_SIZE})
        results = self._core.request("GET", "/canvassResponses/resultCodes").array(PROVIDER)
        contact_types = self._core.request("GET", "/canvassResponses/contactTypes").array(PROVIDER)
        return {
            "activist_codes": [
                {"id": c["activistCodeId"], "name": c.get("name") or str(c["activistCodeId"])}
                for c in codes
                if isinstance(c, dict) and "activistCodeId" in c
            ],
            "survey_questions": [
                {
                    "id": q["surveyQuestionId"],
                    "name": q.get("name") or str(q["surveyQuestionId"]),
                    "responses": [
                        {"id": r["surveyResponseId"], "name": r.get("name") or ""}
                        for r in q.get("responses") or []
                        if isinstance(r, dict) and "surveyResponseId" in r
                    ],
                }
                for q in questions
                if isinstance(q, dict) and "surveyQuestionId" in q
            ],
            "result_codes": [
                {"id": r["resultCodeId"], "name": r.get("name") or str(r["resultCodeId"])}
                for r in results
                if isinstance(r, dict) and "resultCodeId" in r
            ],
            "contact_types": [
                {
                    "id": t["contactTypeId"],
                    "name": t.get("name") or str(t["contactTypeId"]),
                    "channel": t.get("channelTypeName"),
                }
                for t in contact_types
                if isinstance(t, dict) and "contactTypeId" in t
            ],
        }

    def _paged(self, template: str, params: Mapping[str, Any]) -> list[Any]:
        """Follow ``nextPageLink`` (only back to the same endpoint on the same host)."""
        items: list[Any] = []
        query: Mapping[str, Any] = params
        for _ in range(MAX_PAGES):
            body = self._core.request("GET", template, params=query).object(PROVIDER)
            page = body.get("items")
            if not isinstance(page, list):
                raise PermanentCrmError(PROVIDER, f"{template}: unexpected response shape")
            items.extend(page)
            link = body.get("nextPageLink")
            if not link or not page:
                return items
            query = self._core.params_from_link(str(link), template)
        raise PermanentCrmError(PROVIDER, f"{template}: too many pages")

    # -- write-back ---------------------------------------------------------------------------

    def post_canvass_response(
        self,
        van_id: str | int,
        *,
        date: Date | datetime | str,
        contact_type_id: int,
        result_code_id: int | None = None,
        survey_responses: Iterable[tuple[int, int]] = (),
        activist_codes: Iterable[int] = (),
        input_type_id: int = INPUT_TYPE_API,
        phone: str | None = None,
        phone_id: int | None = None,
    ) -> None:
        """``POST /people/{vanId}/canvassResponses`` (204).

        Either `result_code_id` (a contact attempt that did not reach the person) or responses
        (survey responses and/or activist codes, which imply "Canvassed"), never both. Phone and
        SMS contact types want `phone` (a US number) or `phone_id`.
        Raises PersonNotFound for an unknown VAN ID, PermanentCrmError with VAN's text when VAN
        refuses the payload.
        """
        vid = _van_id(van_id)
        responses: list[dict[str, Any]] = [
            {"type": "ActivistCode", "activistCodeId": int(code), "action": "Apply"}
            for code in activist_codes
        ]
        responses += [
            {"type": "SurveyResponse", "surveyQuestionId": int(q), "surveyResponseId": int(r)}
            for q, r in survey_responses
        ]
        if result_code_id is not None and responses:
            raise ValueError("send either result_code_id or responses, never both")
        if result_code_id is None and not responses:
            raise ValueError("nothing to send: give result_code_id or responses")
        if phone is not None and phone_id is not None:
            raise ValueError("give phone or phone_id, not both")
        context: dict[str, Any] = {
            "contactTypeId": int(contact_type_id),
            "inputTypeId": int(input_type_id),
            "dateCanvassed": _iso_date(date),
            "omitActivistCodeContactHistory": True,
        }
        if phone is not None:
            digits = re.sub(r"\D", "", phone)
            if len(digits) == 11 and digits.startswith("1"):
                digits = digits[1:]
            if len(digits) != 10:
                raise ValueError("phone must be a 10-digit US number")
            context["phone"] = {"dialingPrefix": "1", "phoneNumber": digits}
        if phone_id is not None:
            context["phoneId"] = int(phone_id)
        payload = {
            "canvassContext": context,
            "resultCodeId": int(result_code_id) if result_code_id is not None else None,
            "responses": responses or None,
        }
        reply = self._core.request(
            "POST",
            "/people/{vanId}/canvassResponses",
            path_params={"vanId": vid},
            body=payload,
            accept={404},
            idempotent=False,
        )
        if reply.status == 404:
            raise PersonNotFound(PROVIDER, vid, status=404)

    # -- plumbing -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"VanClient(base_url={self._core.base_url!r}, credentials={self._credentials!r})"
