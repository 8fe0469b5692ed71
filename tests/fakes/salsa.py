"""Fake Salsa Engage integration API server, on a real socket (control API: `tests.fakes.base`).

What it models from the providers' public material and the client code the field runs
(Parsons, Spoke, goengage, Salsa's own examples):
- Salsa answers each supporter of a segment add (ADDED, UPDATED when already a member,
  NOT_FOUND, NOT_ALLOWED for a segment the API may not manage) and reports a refused custom
  field on the field (`customFieldValues[].errors`) of an UPDATED supporter.

Not settled by public material, so modelled as the best evidence suggests (whoever holds a
real account should confirm it; the README's CRM section lists it too):
- Salsa: every result a segment add may give (ADDED, UPDATED and NOT_ALLOWED are goengage's
  constants); whether a non-CRM segment answers per item or with HTTP 405 (its docs say 405);
  whether `PUT /supporters` with only `supporterId` and custom fields needs the e-mail too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tests.fakes.base import (
    Answer,
    FakeCrmServer,
    Route,
    as_int,
    header,
    route,
)

SALSA_THROTTLE_MESSAGE = "Call rate has been exceeded"


class FakeSalsa(FakeCrmServer):
    """Salsa Engage integration API under ``/api/integration/ext/v1``: header ``authToken``."""

    provider = "salsa"
    base_path = "/api/integration/ext/v1"
    default_reject_reason = "Invalid authentication token"

    def __init__(
        self,
        *,
        api_token: str = "salsa-test-token-93ac7f",
        people: Iterable[str] = (
            "5c7a0d0e-0000-4000-8000-000000000001",
            "5c7a0d0e-0000-4000-8000-000000000002",
            "5c7a0d0e-0000-4000-8000-000000000003",
        ),
        max_batch_size: int = 20,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.api_token = api_token
        self.max_batch_size = max_batch_size
        self.people: dict[str, dict[str, Any]] = {}
        for supporter_id in people:
            self.add_person(supporter_id)
        self.segments: list[dict[str, Any]] = [
            {"segmentId": f"seg-000{i}", "name": name, "type": "CUSTOM", "totalMembers": 0}
            for i, name in enumerate(
                ["Volunteers", "Yard signs", "Event RSVPs", "Donor prospects", "Phone bankers"],
                start=1,
            )
        ]
        self.segment_members: dict[str, set[str]] = {s["segmentId"]: set() for s in self.segments}
        self.custom_fields: dict[str, dict[str, Any]] = {}
        self.unmanaged_segments: set[str] = set()  # not CRM segments: members NOT_ALLOWED
        self.refused_fields: dict[str, str] = {}  # field id -> the error Salsa gives for it
        self.total_calls = 0

    @property
    def credentials(self) -> dict[str, Any]:
        return {"api_token": self.api_token}

    def add_person(self, supporter_id: str, **fields: Any) -> None:
        with self._lock:
            self.people[supporter_id] = {"supporterId": supporter_id, "firstName": "Pat", **fields}

    def remove_person(self, supporter_id: str) -> None:
        with self._lock:
            self.people.pop(supporter_id, None)

    def throttle_in_body_next(
        self, times: int = 1, *, method: str | None = None, path: str | None = None
    ) -> None:
        """Answer the next `times` matching calls 200 with the throttle message in `errors`."""
        self.fail_next(200, times=times, method=method, path=path, body=self._throttle_body().body)

    def _envelope(self, payload: Any = None, errors: list[dict[str, Any]] | None = None) -> Any:
        out: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "timestamp": datetime.now(UTC).isoformat(),
            "header": {"processingTime": 1, "serverId": "fake-salsa"},
        }
        if payload is not None:
            out["payload"] = payload
        if errors:
            out["errors"] = errors
        return out

    def _error(self, status: int, text: str, code: str | None = None) -> Answer:
        if status == 429:
            text = SALSA_THROTTLE_MESSAGE
        code = code or ("SYSTEM_ERROR" if status >= 500 else "VALIDATION_ERROR")
        return Answer(status, self._envelope(errors=[{"code": code, "message": text}]))

    def _invalid(self, text: str, field_name: str | None = None) -> Answer:
        err: dict[str, Any] = {"code": "VALIDATION_ERROR", "message": text}
        if field_name:
            err["fieldName"] = field_name
        return Answer(400, self._envelope(errors=[err]))

    def _throttle_body(self) -> Answer:
        return Answer(
            200,
            self._envelope(
                errors=[{"code": "TOO_MANY_REQUESTS", "message": SALSA_THROTTLE_MESSAGE}]
            ),
        )

    def _forbidden(self, method: str, path: str, body: Any) -> str | None:
        if method == "PUT" and path == "/segments":
            return "creates segments"
        if method == "POST" and path == "/supporters/merge":
            return "merges supporters"
        if method == "DELETE" and path == "/supporters":
            return "deletes supporters"
        if method == "PUT" and path == "/supporters":
            payload = body.get("payload") if isinstance(body, dict) else None
            supporters = payload.get("supporters") if isinstance(payload, dict) else None
            if not isinstance(supporters, list) or any(
                not isinstance(s, dict) or not s.get("supporterId") for s in supporters
            ):
                return "PUT /supporters without a supporterId adds a supporter"
        return None

    def _authenticate(self, method: str, path: str, headers: dict[str, str]) -> Answer | None:
        if self.rejected_reason is not None or header(headers, "authToken") != self.api_token:
            reason = self.rejected_reason or self.default_reject_reason
            return Answer(
                401, self._envelope(errors=[{"code": "AUTHENTICATION_FAILED", "message": reason}])
            )
        with self._lock:
            self.total_calls += 1
        return None

    def _routes(self) -> list[Route]:
        return [
            route("GET", r"/metrics", self._metrics),
            route("POST", r"/supporters/search", self._search_supporters),
            route("POST", r"/segments/search", self._search_segments),
            route("PUT", r"/segments/members", self._segment_members),
            route("PUT", r"/supporters", self._put_supporters),
        ]

    def _request_payload(self, body: Any) -> dict[str, Any] | Answer:
        if not isinstance(body, dict) or not isinstance(body.get("payload"), dict):
            return self._invalid("A request needs a 'payload' object", "payload")
        if "header" in body and not isinstance(body["header"], dict):
            return self._invalid("'header' must be an object", "header")
        return body["payload"]

    def _paging(self, payload: dict[str, Any]) -> tuple[int, int] | Answer:
        offset, count = payload.get("offset", 0), payload.get("count", 20)
        if as_int(offset) is None or int(offset) < 0:
            return self._invalid("'offset' must be a non-negative integer", "offset")
        if as_int(count) is None or not 1 <= int(count) <= self.max_batch_size:
            return self._invalid(f"'count' must be between 1 and {self.max_batch_size}", "count")
        return int(offset), int(count)

    def _metrics(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        return Answer(
            200,
            self._envelope(
                {
                    "rateLimit": 300,
                    "maxBatchSize": self.max_batch_size,
                    "currentRateLimit": max(0, 300 - self.total_calls),
                    "totalAPICalls": self.total_calls,
                    "lastAPICall": datetime.now(UTC).isoformat(),
                }
            ),
        )

    def _search_supporters(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        payload = self._request_payload(body)
        if isinstance(payload, Answer):
            return payload
        paging = self._paging(payload)
        if isinstance(paging, Answer):
            return paging
        identifiers = payload.get("identifiers")
        if (
            not isinstance(identifiers, list)
            or not identifiers
            or len(identifiers) > self.max_batch_size
        ):
            return self._invalid("'identifiers' must hold 1 to 20 identifiers", "identifiers")
        kind = payload.get("identifierType")
        if kind not in ("SUPPORTER_ID", "EMAIL_ADDRESS", "EXTERNAL_ID"):
            return self._invalid("'identifierType' is invalid", "identifierType")
        supporters = []
        for ident in identifiers:
            found = kind == "SUPPORTER_ID" and ident in self.people
            entry = dict(self.people[ident]) if found else {"supporterId": ident}
            entry["result"] = "FOUND" if found else "NOT_FOUND"
            supporters.append(entry)
        offset, count = paging
        page = supporters[offset : offset + count]
        return Answer(
            200,
            self._envelope(
                {"count": len(page), "offset": offset, "total": len(supporters), "supporters": page}
            ),
        )

    def _search_segments(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        payload = self._request_payload(body)
        if isinstance(payload, Answer):
            return payload
        paging = self._paging(payload)
        if isinstance(paging, Answer):
            return paging
        offset, count = paging
        page = self.segments[offset : offset + min(count, self.page_size)]
        return Answer(
            200,
            self._envelope(
                {
                    "count": len(page),
                    "offset": offset,
                    "total": len(self.segments),
                    "segments": page,
                }
            ),
        )

    def _segment_members(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        payload = self._request_payload(body)
        if isinstance(payload, Answer):
            return payload
        segment_id = payload.get("segmentId")
        if segment_id not in self.segment_members:
            return self._invalid("'segmentId' does not name a segment", "segmentId")
        ids = payload.get("supporterIds")
        if not isinstance(ids, list) or not ids:
            return self._invalid("'supporterIds' is required", "supporterIds")
        if len(ids) > self.max_batch_size:
            return self._invalid(
                f"Too many items: the maximum batch size is {self.max_batch_size}", "supporterIds"
            )
        members = self.segment_members[segment_id]
        manageable = segment_id not in self.unmanaged_segments
        results = []
        for sid in ids:
            if sid not in self.people:
                result = "NOT_FOUND"
            elif not manageable:  # not a CRM segment: per item, inside a 200 (see the README)
                result = "NOT_ALLOWED"
            elif sid in members:  # goengage's segment constants: ADDED, UPDATED, NOT_ALLOWED
                result = "UPDATED"
            else:
                members.add(sid)
                result = "ADDED"
            results.append({"supporterId": sid, "result": result})
        return Answer(200, self._envelope({"segmentId": segment_id, "supporters": results}))

    def _put_supporters(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        payload = self._request_payload(body)
        if isinstance(payload, Answer):
            return payload
        supporters = payload["supporters"]  # shape vetted by _forbidden
        if len(supporters) > self.max_batch_size:
            return self._invalid("Too many supporters in one call", "supporters")
        results = []
        for supporter in supporters:
            sid = supporter["supporterId"]
            if sid not in self.people:
                results.append({"supporterId": sid, "result": "NOT_FOUND"})
                continue
            values = supporter.get("customFieldValues") or []
            errors = [
                {"code": "VALIDATION_ERROR", "message": "a custom field needs fieldId or name"}
                for v in values
                if not isinstance(v, dict) or not (v.get("fieldId") or v.get("name"))
            ]
            if errors:
                results.append({"supporterId": sid, "result": "VALIDATION_ERROR", "errors": errors})
                continue
            # Salsa reports a field it refuses on the field itself, and the supporter is
            # still UPDATED (Salsa's own examples look for customFieldValues[].errors)
            stored = self.custom_fields.setdefault(sid, {})
            echoed = []
            for v in values:
                key = v.get("fieldId") or v["name"]
                if key in self.refused_fields:
                    refusal = {"code": "VALIDATION_ERROR", "message": self.refused_fields[key]}
                    echoed.append({**v, "errors": [refusal]})
                    continue
                stored[key] = v.get("value")
                echoed.append(dict(v))
            results.append({"supporterId": sid, "result": "UPDATED", "customFieldValues": echoed})
        return Answer(200, self._envelope({"supporters": results}))
