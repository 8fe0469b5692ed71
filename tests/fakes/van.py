"""Fake NGP VAN API v4 server, on a real socket (control API: `tests.fakes.base`).

What it models from the providers' public material and the client code the field runs
(Parsons, Spoke, goengage, Salsa's own examples):
- VAN's `nextPageLink` is absolute and names the fake's port; VAN's own links name `:443`
  outright (the clients' tests cover both). Contact types carry `channelTypeName` (Phone,
  Walk, Text, Other: SMS Text is "Text"), and a Phone or Text contact wants a phone.

Not settled by public material, so modelled as the best evidence suggests (whoever holds a
real account should confirm it; the README's CRM section lists it too):
- VAN: whether a phone is still required for Phone and Text contact types (Parsons stopped
  requiring it in 2024; it is sent whenever the list row has one); which time zone VAN reads
  a `dateCanvassed` in (the campaign's local day is sent, without a time).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from tests.fakes.base import (
    Answer,
    FakeCrmServer,
    Route,
    as_int,
    basic_auth,
    is_date,
    route,
)


class FakeVan(FakeCrmServer):
    """NGP VAN API v4 under ``/v4``: Basic auth ``application_name`` / ``"{api_key}|{db_mode}"``."""

    provider = "van"
    base_path = "/v4"
    default_reject_reason = "Authorization has been denied for this request."

    def __init__(
        self,
        *,
        application_name: str = "vo-test-app",
        api_key: str = "van-test-key-5f1c2a9e",
        db_mode: int = 1,
        people: Iterable[int] = (1001, 1002, 1003),
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.application_name = application_name
        self.api_key = api_key
        self.db_mode = db_mode
        self.people: dict[int, dict[str, Any]] = {}
        for van_id in people:
            self.add_person(van_id)
        self.canvass_responses: list[tuple[int, dict[str, Any]]] = []
        self.activist_codes = [
            _ac(4482459, "Volunteer: Canvass"),
            _ac(4482460, "Volunteer: Phone bank"),
            _ac(4482461, "Yard sign"),
            _ac(4482462, "Event attendee"),
            _ac(4482463, "Donor prospect"),
            _ac(4482464, "Old code", status="Archived"),
        ]
        self.survey_questions = [
            _sq(378552, "Measure A", [(1555791, "Yes"), (1555792, "No"), (1555793, "Undecided")]),
            _sq(378553, "Support level", [(1555801, "1 Strong"), (1555802, "2 Lean")]),
            _sq(378554, "Volunteer?", [(1555811, "Yes"), (1555812, "No")]),
            _sq(378555, "Retired question", [(1555821, "Yes")], status="Archived"),
        ]
        self.result_codes = [
            {"resultCodeId": 1, "name": "Busy", "mediumName": "Busy", "shortName": "BZ"},
            {"resultCodeId": 2, "name": "Left Message", "mediumName": "LM", "shortName": "LM"},
            {"resultCodeId": 4, "name": "Not Home", "mediumName": "NH", "shortName": "NH"},
            {"resultCodeId": 5, "name": "Refused", "mediumName": "Ref", "shortName": "RF"},
            {"resultCodeId": 18, "name": "Wrong Number", "mediumName": "WN", "shortName": "WN"},
            {"resultCodeId": 20, "name": "Moved", "mediumName": "Moved", "shortName": "MV"},
            {"resultCodeId": 3, "name": "Deceased", "mediumName": "Dec", "shortName": "DC"},
        ]
        self.contact_types = [
            {"contactTypeId": 1, "name": "Phone", "channelTypeName": "Phone"},
            {"contactTypeId": 2, "name": "Walk", "channelTypeName": "Walk"},
            {"contactTypeId": 37, "name": "SMS Text", "channelTypeName": "Text"},
            {"contactTypeId": 67, "name": "Phone Bank", "channelTypeName": "Phone"},
            {"contactTypeId": 132, "name": "Relational Text", "channelTypeName": "Text"},
            {"contactTypeId": 145, "name": "Relational Canvass", "channelTypeName": "Other"},
        ]
        self.input_types = [{"inputTypeId": 11, "name": "API"}, {"inputTypeId": 4, "name": "Bulk"}]

    @property
    def credentials(self) -> dict[str, Any]:
        return {
            "application_name": self.application_name,
            "api_key": self.api_key,
            "db_mode": self.db_mode,
        }

    def add_person(self, van_id: int | str, **fields: Any) -> None:
        with self._lock:
            self.people[int(van_id)] = {"vanId": int(van_id), "firstName": "Pat", **fields}

    def remove_person(self, van_id: int | str) -> None:
        with self._lock:
            self.people.pop(int(van_id), None)

    def _error(self, status: int, text: str, code: str | None = None) -> Answer:
        default = {400: "INVALID_PARAMETER", 401: "UNAUTHORIZED", 404: "NOT_FOUND"}
        code = code or default.get(status, "SERVER_ERROR" if status >= 500 else "ERROR")
        return Answer(status, {"errors": [{"code": code, "text": text}]})

    def _invalid(self, text: str, *properties: str) -> Answer:
        return Answer(
            400,
            {
                "errors": [
                    {"code": "INVALID_PARAMETER", "text": text, "properties": list(properties)}
                ]
            },
        )

    def _forbidden(self, method: str, path: str, body: Any) -> str | None:
        if method == "POST" and re.fullmatch(r"/people/[^/]+", path):
            return "findOrCreate creates people"
        if method == "PUT" and re.fullmatch(r"/people/[^/]+/mergeInto", path):
            return "merging people"
        if method == "DELETE" and re.fullmatch(r"/people/[^/]+", path):
            return "deleting people"
        if method == "POST" and re.fullmatch(r"/bulkImport\w*(/.*)?", path):
            return "bulk imports create or update contacts"
        return None

    def _authenticate(self, method: str, path: str, headers: dict[str, str]) -> Answer | None:
        given = basic_auth(headers)
        expected = (self.application_name, f"{self.api_key}|{self.db_mode}")
        if self.rejected_reason is not None or given != expected:
            reason = self.rejected_reason or self.default_reject_reason
            return Answer(401, {"errors": [{"code": "UNAUTHORIZED", "text": reason}]})
        return None

    def _routes(self) -> list[Route]:
        return [
            route("POST", r"/echoes", self._echo),
            route("GET", r"/people/(?P<id>[^/]+)", self._person),
            route("POST", r"/people/(?P<id>[^/]+)/canvassResponses", self._canvass),
            route("GET", r"/activistCodes", self._activist_codes),
            route("GET", r"/surveyQuestions", self._survey_questions),
            route(
                "GET",
                r"/canvassResponses/resultCodes",
                lambda m, q, b: Answer(200, self.result_codes),
            ),
            route(
                "GET",
                r"/canvassResponses/contactTypes",
                lambda m, q, b: Answer(200, self.contact_types),
            ),
            route(
                "GET",
                r"/canvassResponses/inputTypes",
                lambda m, q, b: Answer(200, self.input_types),
            ),
        ]

    def _echo(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return self._invalid("'message' is required", "message")
        return Answer(200, {"message": body["message"]})

    def _known(self, raw: str) -> int | None:
        van_id = as_int(raw)
        return van_id if van_id is not None and van_id in self.people else None

    def _person(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        van_id = self._known(m["id"])
        if van_id is None:
            return self._error(404, "The specified resource cannot be found.", "NOT_FOUND")
        return Answer(200, self.people[van_id])

    def _page(self, path: str, items: list[dict[str, Any]], query: dict[str, str]) -> Answer:
        status = query.get("statuses")
        if status:
            wanted = {s.strip() for s in status.split(",")}
            items = [i for i in items if i.get("status") in wanted]
        top = as_int(query.get("$top", "50"))
        skip = as_int(query.get("$skip", "0"))
        if top is None or not 1 <= top <= 200:
            return self._invalid("'$top' must be between 1 and 200", "$top")
        if skip is None or skip < 0:
            return self._invalid("'$skip' must be a non-negative integer", "$skip")
        top = min(top, self.page_size)
        page = items[skip : skip + top]
        next_link = None
        if skip + top < len(items):
            params = {k: v for k, v in query.items() if k not in ("$top", "$skip")}
            params.update({"$top": str(top), "$skip": str(skip + top)})
            origin = self.next_link_origin or self.origin
            next_link = f"{origin}{self.base_path}{path}?{urlencode(params)}"
        return Answer(200, {"items": page, "nextPageLink": next_link, "count": len(items)})

    def _activist_codes(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        return self._page("/activistCodes", self.activist_codes, query)

    def _survey_questions(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        return self._page("/surveyQuestions", self.survey_questions, query)

    def _canvass(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        van_id = self._known(m["id"])
        if van_id is None:
            return self._error(404, "The specified resource cannot be found.", "NOT_FOUND")
        if not isinstance(body, dict):
            return self._invalid("A request body is required")
        unknown = set(body) - {"canvassContext", "resultCodeId", "responses"}
        if unknown:
            return self._invalid(f"Unknown properties: {sorted(unknown)}", *sorted(unknown))
        ctx = body.get("canvassContext")
        if not isinstance(ctx, dict):
            return self._invalid("'canvassContext' is required", "canvassContext")
        allowed_ctx = {
            "contactTypeId",
            "inputTypeId",
            "dateCanvassed",
            "omitActivistCodeContactHistory",
            "phone",
            "phoneId",
        }
        unknown = set(ctx) - allowed_ctx
        if unknown:
            return self._invalid(f"Unknown canvassContext properties: {sorted(unknown)}")
        contact_type = next(
            (t for t in self.contact_types if t["contactTypeId"] == ctx.get("contactTypeId")),
            None,
        )
        if contact_type is None:
            return self._invalid("'contactTypeId' is invalid", "canvassContext.contactTypeId")
        if "inputTypeId" in ctx and ctx["inputTypeId"] not in {
            t["inputTypeId"] for t in self.input_types
        }:
            return self._invalid("'inputTypeId' is invalid", "canvassContext.inputTypeId")
        if "dateCanvassed" in ctx and not is_date(ctx["dateCanvassed"]):
            return self._invalid("'dateCanvassed' is not a date", "canvassContext.dateCanvassed")
        if contact_type["channelTypeName"] in ("Phone", "Text"):  # as VAN long required
            phone = ctx.get("phone")
            has_phone = isinstance(phone, dict) and bool(phone.get("phoneNumber"))
            if not has_phone and not isinstance(ctx.get("phoneId"), int):
                return self._invalid(
                    "A phone or phoneId is required for this contact type",
                    "canvassContext.phone",
                )
        result_code = body.get("resultCodeId")
        responses = body.get("responses")
        if result_code is not None and responses:
            return self._invalid(
                "'resultCodeId' and 'responses' cannot both be specified",
                "resultCodeId",
                "responses",
            )
        if result_code is None and not responses:
            return self._invalid("Either 'resultCodeId' or 'responses' is required")
        if result_code is not None and result_code not in {
            r["resultCodeId"] for r in self.result_codes
        }:
            return self._invalid("'resultCodeId' is invalid", "resultCodeId")
        for i, response in enumerate(responses or []):
            problem = self._check_response(response)
            if problem:
                return self._invalid(problem, f"responses[{i}]")
        self.canvass_responses.append((van_id, body))
        return Answer(204)

    def _check_response(self, response: Any) -> str | None:
        if not isinstance(response, dict):
            return "A response must be an object"
        kind = response.get("type")
        if kind == "ActivistCode":
            codes = {c["activistCodeId"] for c in self.activist_codes if c["status"] == "Active"}
            if response.get("activistCodeId") not in codes:
                return "'activistCodeId' is invalid"
            if response.get("action") not in ("Apply", "Remove"):
                return "'action' must be Apply or Remove"
            return None
        if kind == "SurveyResponse":
            question = next(
                (
                    q
                    for q in self.survey_questions
                    if q["surveyQuestionId"] == response.get("surveyQuestionId")
                ),
                None,
            )
            if question is None:
                return "'surveyQuestionId' is invalid"
            if response.get("surveyResponseId") not in {
                r["surveyResponseId"] for r in question["responses"]
            }:
                return "'surveyResponseId' is not a response of this question"
            return None
        return "'type' must be ActivistCode or SurveyResponse"


def _ac(code_id: int, name: str, *, status: str = "Active") -> dict[str, Any]:
    return {
        "activistCodeId": code_id,
        "type": "Volunteer",
        "name": name,
        "mediumName": name[:20],
        "shortName": name[:8],
        "description": None,
        "scriptQuestion": None,
        "status": status,
    }


def _sq(
    question_id: int, name: str, responses: list[tuple[int, str]], *, status: str = "Active"
) -> dict[str, Any]:
    return {
        "surveyQuestionId": question_id,
        "type": "Candidate",
        "cycle": 2026,
        "name": name,
        "mediumName": name[:20],
        "shortName": name[:8],
        "scriptQuestion": f"{name}?",
        "status": status,
        "responses": [
            {"surveyResponseId": rid, "name": rname, "mediumName": rname, "shortName": rname[:3]}
            for rid, rname in responses
        ],
    }
