"""Salsa Engage integration API client.

Header ``authToken``; requests are ``{"header": {"refId"}, "payload": {...}}``, responses
``{id, timestamp, header, payload, errors}``. A throttle can come back inside a 200 body: the core
treats it like a 429. Tags are segment memberships; survey answers are custom field values written
with ``PUT /supporters``, which ADDS a supporter when a supporterId is missing: that endpoint is on
the allow-list only with a guard that refuses any payload in which a supporter lacks one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Unpack

import requests
from requests.auth import AuthBase

from chalicelib.crm.endpoints import Endpoint
from chalicelib.crm.errors import PermanentCrmError, PersonNotFound
from chalicelib.crm.http import ClientBase, HttpCore, Reply, Transport, redacted
from chalicelib.crm.ratelimit import RateLimit

PROVIDER = "salsa"
MAX_BATCH = 20  # Salsa's limit on items per call
# Salsa's limit is 300 calls a minute per token: paced at 95% of it, 10 at once at most, so
# no minute ever holds more than 300.
RATE_LIMIT = RateLimit(per_second=300 / 60 * 0.95, burst=10)
MAX_PAGES = 1000
_THROTTLE = re.compile(r"call rate|rate ?limit|throttl|too many (calls|requests)", re.IGNORECASE)


def require_supporter_ids(body: Any) -> str | None:
    """Guard for ``PUT /supporters``: every supporter must carry a non-empty supporterId."""
    payload = body.get("payload") if isinstance(body, dict) else None
    supporters = payload.get("supporters") if isinstance(payload, dict) else None
    if not isinstance(supporters, list) or not supporters:
        return "no supporters in the payload"
    for supporter in supporters:
        if not isinstance(supporter, dict):
            return "a supporter is not an object"
        sid = supporter.get("supporterId")
        if not isinstance(sid, str) or not sid.strip():
            return "every supporter needs a supporterId (without one Salsa adds a person)"
    return None


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/metrics"),
    Endpoint("POST", "/supporters/search"),
    Endpoint("POST", "/segments/search"),
    Endpoint("PUT", "/segments/members"),
    Endpoint("PUT", "/supporters", guard=require_supporter_ids),
)
"""Everything the Salsa client may call. ``PUT /supporters`` only with every supporterId set."""


@dataclass(frozen=True, repr=False)
class SalsaCredentials:
    api_token: str

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> SalsaCredentials:
        token = raw.get("api_token")
        if not isinstance(token, str) or not token.strip():
            raise ValueError("api_token is required")
        return cls(token.strip())

    def __repr__(self) -> str:
        return f"SalsaCredentials(api_token={redacted(self.api_token)})"


class _TokenHeader(AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["authToken"] = self._token
        return r

    def __repr__(self) -> str:
        return "SalsaAuthToken(***)"


def salsa_error_text(body: Any) -> str | None:
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            texts = []
            for err in errors:
                if isinstance(err, dict):
                    text = str(err.get("message") or err.get("code") or "error")
                    if err.get("fieldName"):
                        text = f"{err['fieldName']}: {text}"
                    texts.append(text)
                else:
                    texts.append(str(err))
            return "; ".join(texts)
        if isinstance(body.get("message"), str):
            return str(body["message"])
    if isinstance(body, str) and body.strip():
        return body
    return None


def salsa_throttled(status: int, body: Any) -> bool:
    """Salsa may answer 200 with a throttle message in ``errors`` instead of a 429."""
    if status != 200 or not isinstance(body, dict):
        return False
    errors = body.get("errors")
    if not isinstance(errors, list):
        return False
    return any(
        isinstance(err, dict)
        and _THROTTLE.search(f"{err.get('code', '')} {err.get('message', '')}") is not None
        for err in errors
    )


def _envelope(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"header": {"refId": uuid.uuid4().hex}, "payload": dict(payload)}


class SalsaClient(ClientBase):
    """One Salsa Engage integration API token."""

    ENDPOINTS = ENDPOINTS
    provider = PROVIDER

    def __init__(
        self,
        base_url: str,
        credentials: Mapping[str, Any] | SalsaCredentials,
        **transport: Unpack[Transport],
    ) -> None:
        creds = (
            credentials
            if isinstance(credentials, SalsaCredentials)
            else SalsaCredentials.parse(credentials)
        )
        self._credentials = creds
        self._batch = MAX_BATCH
        self._core = HttpCore(
            provider=PROVIDER,
            base_url=base_url,
            endpoints=ENDPOINTS,
            auth=_TokenHeader(creds.api_token),
            secrets=lambda: (creds.api_token,),
            error_text=salsa_error_text,
            throttled=salsa_throttled,
            rate_limit=RATE_LIMIT,
            **transport,
        )

    def _payload(self, reply: Reply) -> dict[str, Any]:
        body = reply.object(PROVIDER)
        payload = body.get("payload")
        errors = body.get("errors")
        if isinstance(errors, list) and errors and not isinstance(payload, dict):
            raise PermanentCrmError(
                PROVIDER, self._core.safe_message(body, reply.status), status=reply.status
            )
        if not isinstance(payload, dict):
            raise PermanentCrmError(PROVIDER, "response without a payload", status=reply.status)
        return payload

    # -- API ----------------------------------------------------------------------------------

    def check_credentials(self) -> dict[str, Any]:
        """``GET /metrics``: raises CredentialsRejected with Salsa's reason; returns the metrics
        (rateLimit, maxBatchSize, usage counters)."""
        metrics = self._payload(self._core.request("GET", "/metrics"))
        max_batch = metrics.get("maxBatchSize")
        if isinstance(max_batch, int) and max_batch > 0:
            self._batch = min(MAX_BATCH, max_batch)
        return metrics

    def person_exists(self, supporter_id: str) -> bool:
        """``POST /supporters/search`` by SUPPORTER_ID: FOUND → True, NOT_FOUND → False."""
        sid = str(supporter_id).strip()
        if not sid:
            raise ValueError("a supporter id is required")
        payload = self._payload(
            self._core.request(
                "POST",
                "/supporters/search",
                body=_envelope(
                    {
                        "identifiers": [sid],
                        "identifierType": "SUPPORTER_ID",
                        "offset": 0,
                        "count": 1,
                    }
                ),
            )
        )
        for supporter in payload.get("supporters") or []:
            if isinstance(supporter, dict) and supporter.get("result") == "FOUND":
                return supporter.get("supporterId") in (None, sid)
        return False

    def catalog(self) -> dict[str, Any]:
        """Segments (the tags). Salsa has no survey questions or result codes: survey answers
        are written as custom fields."""
        segments: list[dict[str, Any]] = []
        offset = 0
        for _ in range(MAX_PAGES):
            payload = self._payload(
                self._core.request(
                    "POST",
                    "/segments/search",
                    body=_envelope({"offset": offset, "count": self._batch}),
                )
            )
            page = payload.get("segments")
            if not isinstance(page, list):
                raise PermanentCrmError(PROVIDER, "/segments/search: unexpected response shape")
            segments.extend(s for s in page if isinstance(s, dict) and s.get("segmentId"))
            offset += len(page)
            total = payload.get("total")
            if not page or not isinstance(total, int) or offset >= total:
                break
        else:
            raise PermanentCrmError(PROVIDER, "/segments/search: too many pages")
        return {
            "tags": [
                {"id": s["segmentId"], "name": s.get("name") or s["segmentId"]} for s in segments
            ],
            "survey_questions": [],
            "result_codes": [],
        }

    def add_to_segment(self, segment_id: str, supporter_ids: Iterable[str]) -> dict[str, str]:
        """``PUT /segments/members`` in batches of at most 20. Returns each supporter's result
        (e.g. ADDED, NOT_FOUND) as Salsa reported it; "NO_RESULT" when Salsa said nothing."""
        seg = str(segment_id).strip()
        if not seg:
            raise ValueError("a segment id is required")
        ids = list(dict.fromkeys(str(s).strip() for s in supporter_ids))
        if any(not s for s in ids):
            raise ValueError("supporter ids must not be empty")
        results: dict[str, str] = {}
        for start in range(0, len(ids), self._batch):
            batch = ids[start : start + self._batch]
            payload = self._payload(
                self._core.request(
                    "PUT",
                    "/segments/members",
                    body=_envelope({"segmentId": seg, "supporterIds": batch}),
                )
            )
            reported = {
                str(s.get("supporterId")): str(s.get("result"))
                for s in payload.get("supporters") or []
                if isinstance(s, dict)
            }
            for sid in batch:
                results[sid] = reported.get(sid, "NO_RESULT")
        return results

    def set_custom_fields(self, supporter_id: str, values: Sequence[Mapping[str, Any]]) -> str:
        """``PUT /supporters`` for one existing supporter: ``customFieldValues`` as given
        (``{fieldId, name, value}``). Raises PersonNotFound when Salsa does not know the
        supporter; returns Salsa's result (e.g. UPDATED)."""
        sid = str(supporter_id or "").strip()
        fields: list[dict[str, Any]] = []
        for value in values:
            if "value" not in value or not (value.get("fieldId") or value.get("name")):
                raise ValueError("each custom field value needs fieldId or name, and value")
            fields.append({k: value[k] for k in ("fieldId", "name", "value") if k in value})
        if not fields:
            raise ValueError("no custom field values to set")
        supporters = self._put_supporters([{"supporterId": sid, "customFieldValues": fields}])
        result = supporters.get(sid, {})
        outcome = str(result.get("result") or "NO_RESULT")
        if outcome == "NOT_FOUND":
            raise PersonNotFound(PROVIDER, sid)
        if outcome != "UPDATED":  # never "ADDED": that would be a new supporter
            errors = result.get("errors")
            detail = salsa_error_text({"errors": errors}) if isinstance(errors, list) else None
            raise PermanentCrmError(PROVIDER, self._core.redact(detail or outcome))
        # an UPDATED supporter may still carry a refused field: the errors are on the field
        refused = [
            f"{value.get('fieldId') or value.get('name')}: "
            f"{salsa_error_text({'errors': value['errors']}) or 'refused'}"
            for value in result.get("customFieldValues") or []
            if isinstance(value, dict) and isinstance(value.get("errors"), list) and value["errors"]
        ]
        if refused:
            raise PermanentCrmError(PROVIDER, self._core.redact("; ".join(refused)))
        return outcome

    def _put_supporters(self, supporters: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The only way to ``PUT /supporters``; the core's guard re-checks every supporterId."""
        if len(supporters) > self._batch:
            raise ValueError(f"at most {self._batch} supporters a call")
        payload = self._payload(
            self._core.request("PUT", "/supporters", body=_envelope({"supporters": supporters}))
        )
        return {
            str(s.get("supporterId")): s
            for s in payload.get("supporters") or []
            if isinstance(s, dict)
        }

    # -- plumbing -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"SalsaClient(base_url={self._core.base_url!r}, credentials={self._credentials!r})"
