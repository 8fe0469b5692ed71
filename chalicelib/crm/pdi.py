"""PDI (Political Data Inc.) client.

``POST /sessions {Username, Password, ApiToken}`` gives an AccessToken used as a bearer token; the
client signs in again shortly before its ExpirationDate, and once more when a call answers 401.
Everything we write is a flag: ``POST /flags`` with a JSON array. We never create or change a
contact: see `ENDPOINTS`, the only endpoints this client can reach.

`person_exists` uses ``GET /contacts/{id}`` (a read; 404 means unknown). It assumes the list's
external id is the id PDI uses both for that contact and as the ``pdiId`` of a flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import date as Date
from typing import Any, Unpack

import requests
from requests.auth import AuthBase

from chalicelib.crm.endpoints import Endpoint
from chalicelib.crm.errors import CredentialsRejected, PermanentCrmError
from chalicelib.crm.http import ClientBase, HttpCore, Reply, Transport, redacted

PROVIDER = "pdi"
PAGE_LIMIT = 2000  # PDI's maximum
MAX_PAGES = 500
FLAG_BATCH = 200  # flags a POST carries: what field code sends (PDI documents no limit)
REFRESH_MARGIN = timedelta(seconds=60)
_FALLBACK_LIFETIME = timedelta(minutes=5)
_FLAG_KEYS = {"pdiId", "flagEntryDate", "acquisitionTypeId", "flagId", "questionId", "contactId"}
_FLAG_REQUIRED = ("pdiId", "flagEntryDate", "acquisitionTypeId", "flagId")

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/sessions"),
    Endpoint("GET", "/contacts/{id}"),
    Endpoint("GET", "/flag_ids"),
    Endpoint("GET", "/questions"),
    Endpoint("GET", "/acquisition_types"),
    Endpoint("POST", "/flags"),
)
"""Everything the PDI client may call. Nothing here creates or changes a contact."""


@dataclass(frozen=True, repr=False)
class PdiCredentials:
    username: str
    password: str
    api_token: str

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> PdiCredentials:
        values = []
        for name in ("username", "password", "api_token"):
            value = raw.get(name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} is required")
            values.append(value.strip() if name == "username" else value)
        return cls(*values)

    def __repr__(self) -> str:
        return (
            f"PdiCredentials(username={self.username!r}, password={redacted(self.password)}, "
            f"api_token={redacted(self.api_token)})"
        )


class _Bearer(AuthBase):
    def __init__(self, token: Callable[[], str | None]) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self._token()
        if token:
            r.headers["Authorization"] = f"Bearer {token}"
        return r

    def __repr__(self) -> str:
        return "PdiBearer(***)"


def pdi_error_text(body: Any) -> str | None:
    if isinstance(body, dict):
        for key in ("message", "Message", "error_description", "error", "title"):
            if isinstance(body.get(key), str) and body[key].strip():
                return str(body[key])
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(
                str(e.get("message") or e) if isinstance(e, dict) else str(e) for e in errors
            )
        if isinstance(errors, dict) and errors:
            return "; ".join(f"{k}: {v}" for k, v in errors.items())
    if isinstance(body, str) and body.strip():
        return body
    return None


def parse_expiration(value: Any, now: datetime) -> datetime:
    """PDI's ExpirationDate (ISO 8601, sometimes with 7 fractional digits or no zone: UTC)."""
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return now + _FALLBACK_LIFETIME
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return now + _FALLBACK_LIFETIME


def make_flag(
    pdi_id: str | int,
    flag_id: str | int,
    *,
    date: Date | datetime | str,
    acquisition_type_id: str | int,
    question_id: str | int | None = None,
    contact_id: str | int | None = None,
) -> dict[str, str]:
    """One flag for `PdiClient.post_flags`. A survey answer is the answer option's flag id with
    the question's id; a result or a tag is a flag on its own."""
    if isinstance(date, datetime):
        day = date.date().isoformat()
    elif isinstance(date, Date):
        day = date.isoformat()
    else:
        day = Date.fromisoformat(date[:10]).isoformat()
    flag = {
        "pdiId": str(pdi_id),
        # an ISO date and time, as field code sends it (a bare date is refused, its authors say)
        "flagEntryDate": f"{day}T00:00:00",
        "acquisitionTypeId": str(acquisition_type_id),
        "flagId": str(flag_id),
    }
    if question_id is not None:
        flag["questionId"] = str(question_id)
    if contact_id is not None:
        flag["contactId"] = str(contact_id)
    return flag


def _check_flag(flag: Mapping[str, Any]) -> dict[str, str]:
    unknown = set(flag) - _FLAG_KEYS
    if unknown:
        raise ValueError(f"unknown flag fields: {sorted(unknown)}")
    for key in _FLAG_REQUIRED:
        if flag.get(key) in (None, ""):
            raise ValueError(f"a flag needs {key}")
    return {k: str(v) for k, v in flag.items() if v is not None}


class PdiClient(ClientBase):
    """One PDI API account."""

    ENDPOINTS = ENDPOINTS
    provider = PROVIDER

    def __init__(
        self,
        base_url: str,
        credentials: Mapping[str, Any] | PdiCredentials,
        *,
        clock: Callable[[], datetime] | None = None,
        **transport: Unpack[Transport],
    ) -> None:
        creds = (
            credentials
            if isinstance(credentials, PdiCredentials)
            else PdiCredentials.parse(credentials)
        )
        self._credentials = creds
        self._token: str | None = None
        self._expires: datetime | None = None
        self._clock = clock or (lambda: datetime.now(UTC))
        self._core = HttpCore(
            provider=PROVIDER,
            base_url=base_url,
            endpoints=ENDPOINTS,
            auth=_Bearer(lambda: self._token),
            secrets=self._secrets,
            error_text=pdi_error_text,
            **transport,
        )

    def _secrets(self) -> Iterable[str]:
        creds = self._credentials
        return (creds.password, creds.api_token, self._token or "")

    # -- session ------------------------------------------------------------------------------

    def _sign_in(self) -> None:
        creds = self._credentials
        reply = self._core.request(
            "POST",
            "/sessions",
            body={
                "Username": creds.username,
                "Password": creds.password,
                "ApiToken": creds.api_token,
            },
            authenticate=False,
            accept={400},
        )
        if reply.status == 400:
            raise CredentialsRejected(
                PROVIDER, self._core.safe_message(reply.body, 400), status=400
            )
        body = reply.object(PROVIDER)
        token = body.get("AccessToken")
        if not isinstance(token, str) or not token:
            raise PermanentCrmError(
                PROVIDER, "sign-in returned no access token", status=reply.status
            )
        self._token = token
        self._expires = parse_expiration(body.get("ExpirationDate"), self._clock())

    def _ensure_session(self) -> None:
        expires = self._expires
        if self._token is None or expires is None or self._clock() >= expires - REFRESH_MARGIN:
            self._sign_in()

    def _call(
        self,
        method: str,
        template: str,
        *,
        accept: Iterable[int] = (),
        **kwargs: Any,
    ) -> Reply:
        """A call with a current session; on a 401 sign in again and try once more."""
        self._core.check(method, template, kwargs.get("path_params"), kwargs.get("body"))
        self._ensure_session()
        accepted = set(accept)
        reply = self._core.request(method, template, accept=accepted | {401}, **kwargs)
        if reply.status == 401 and 401 not in accepted:
            self._token = None
            self._sign_in()
            reply = self._core.request(method, template, accept=accepted, **kwargs)
        return reply

    # -- API ----------------------------------------------------------------------------------

    def check_credentials(self) -> None:
        """``POST /sessions``: raises CredentialsRejected with PDI's reason."""
        self._token = None
        self._sign_in()

    def person_exists(self, pdi_id: str | int) -> bool:
        """``GET /contacts/{id}`` (read only): True if PDI knows this id, False on 404."""
        ident = str(pdi_id).strip()
        if not ident:
            raise ValueError("a PDI id is required")
        reply = self._call("GET", "/contacts/{id}", path_params={"id": ident}, accept={404})
        return reply.status != 404

    def catalog(self) -> dict[str, Any]:
        """Flags (both the tags and the result codes: in PDI a result is a flag), questions with
        their answer options (id = the option's flag id, what a flag posts), acquisition types."""
        flag_ids = self._list("/flag_ids")
        questions = self._list("/questions")
        acquisition = self._list("/acquisition_types")
        flags = [
            {
                "id": f["id"],
                "name": f.get("flagIdDescription") or f.get("flagId") or str(f["id"]),
                "code": f.get("flagId"),
            }
            for f in flag_ids
            if isinstance(f, dict) and "id" in f
        ]
        return {
            "tags": flags,
            "survey_questions": [
                {
                    "id": q["id"],
                    "name": q.get("question") or q.get("questionLabel") or str(q["id"]),
                    "responses": [
                        {
                            "id": o["flagId"],
                            "name": o.get("displayDescription") or o.get("displayCode") or "",
                        }
                        for o in q.get("answerOptions") or []
                        if isinstance(o, dict) and "flagId" in o
                    ],
                }
                for q in questions
                if isinstance(q, dict) and "id" in q
            ],
            "result_codes": [dict(f) for f in flags],
            "acquisition_types": [
                {
                    "id": a["id"],
                    "name": a.get("acquisitionDescription")
                    or a.get("acquisitionType")
                    or str(a["id"]),
                }
                for a in acquisition
                if isinstance(a, dict) and "id" in a
            ],
        }

    def _list(self, template: str) -> list[Any]:
        """``{"data": [...], "totalCount": N}``, paged by ``limit`` and ``cursor`` (1, 2...)."""
        items: list[Any] = []
        for cursor in range(1, MAX_PAGES + 1):
            params: dict[str, Any] = {"limit": PAGE_LIMIT}
            if cursor > 1:
                params["cursor"] = cursor
            body = self._call("GET", template, params=params).body
            if isinstance(body, list):  # an unpaged list
                return items + body
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise PermanentCrmError(PROVIDER, f"{template}: unexpected response shape")
            page = body["data"]
            items.extend(page)
            total = body.get("totalCount")
            if not page or not isinstance(total, int) or len(items) >= total:
                return items
        raise PermanentCrmError(PROVIDER, f"{template}: too many pages")

    def post_flags(
        self, flags: Sequence[Mapping[str, Any]], *, batch_size: int = FLAG_BATCH
    ) -> int:
        """``POST /flags`` with the flags as one JSON array (split in batches of `batch_size`).
        Each flag: pdiId, flagEntryDate, acquisitionTypeId, flagId, and optionally questionId and
        contactId (see `make_flag`). Returns how many flags were sent."""
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        checked = [_check_flag(f) for f in flags]
        for start in range(0, len(checked), batch_size):
            self._call("POST", "/flags", body=checked[start : start + batch_size], idempotent=False)
        return len(checked)

    # -- plumbing -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        state = "signed in" if self._token else "signed out"
        return (
            f"PdiClient(base_url={self._core.base_url!r}, credentials={self._credentials!r}, "
            f"session={state})"
        )
