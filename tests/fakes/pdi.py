"""Fake PDI API server, on a real socket (control API: `tests.fakes.base`).

What it models from the providers' public material and the client code the field runs
(Parsons, Spoke, goengage, Salsa's own examples):
- PDI ids are opaque (16 bytes in base64, `pdi_id`): flags, questions, acquisition types.
  `flagEntryDate` must be an ISO date and time (`2026-11-01T00:00:00`): a bare date is
  refused. One bad flag refuses its whole `POST /flags` array (400).

Not settled by public material, so modelled as the best evidence suggests (whoever holds a
real account should confirm it; the README's CRM section lists it too):
- PDI: the body of a `POST /flags` answer; whether one bad flag refuses the whole array
  (public clients behave as if it does); the largest array it takes (200 is what field code
  sends); whether a bare `flagEntryDate` is refused (one client's authors say so).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.base import (
    Answer,
    FakeCrmServer,
    Route,
    as_int,
    header,
    is_date_time,
    route,
)


class FakePdi(FakeCrmServer):
    """PDI: ``POST /sessions`` gives a bearer token (valid `token_ttl` seconds)."""

    provider = "pdi"
    base_path = ""
    default_reject_reason = "Invalid username, password or API token."

    def __init__(
        self,
        *,
        username: str = "pdi-test-user",
        password: str = "pdi-test-password-8d2e",
        api_token: str = "pdi-test-api-token-41b7",
        people: Iterable[str] = ("2001", "2002", "2003"),
        token_ttl: float = 3600.0,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.username = username
        self.password = password
        self.api_token = api_token
        self.token_ttl = token_ttl
        self.people: dict[str, dict[str, Any]] = {}
        for person in people:
            self.add_person(person)
        self.tokens: dict[str, datetime] = {}
        self.sign_ins = 0
        self.flags: list[dict[str, Any]] = []
        flag = PDI_FLAGS
        self.flag_ids = [
            _flag_id(flag["SUP"], "SUP", "Strong support"),
            _flag_id(flag["MAYBE"], "MAYBE", "Undecided"),
            _flag_id(flag["NO"], "NO", "Opposed"),
            _flag_id(flag["NAH"], "NAH", "Not at home"),
            _flag_id(flag["REF"], "REF", "Refused"),
            _flag_id(flag["VOL"], "VOL", "Volunteer"),
        ]
        question = PDI_QUESTIONS
        self.questions = [
            _question(
                question["measure"],
                "Will you vote for Measure A?",
                [
                    (pdi_id("option:3011"), flag["SUP"], "Yes"),
                    (pdi_id("option:3012"), flag["NO"], "No"),
                ],
            ),
            _question(
                question["support"],
                "Can we count on your support?",
                [
                    (pdi_id("option:3021"), flag["SUP"], "Yes"),
                    (pdi_id("option:3022"), flag["MAYBE"], "Maybe"),
                ],
            ),
            _question(
                question["volunteer"],
                "Will you volunteer?",
                [(pdi_id("option:3031"), flag["VOL"], "Yes")],
            ),
        ]
        self.acquisition_types = [
            {
                "id": PDI_ACQUISITIONS["Phone"],
                "acquisitionType": "Phone",
                "acquisitionDescription": "Phone bank",
                "acquisitionMethod": "Phone",
                "pageDefault": None,
            },
            {
                "id": PDI_ACQUISITIONS["Walk"],
                "acquisitionType": "Walk",
                "acquisitionDescription": "Door to door",
                "acquisitionMethod": "Walk",
                "pageDefault": None,
            },
            {
                "id": PDI_ACQUISITIONS["Text"],
                "acquisitionType": "Text",
                "acquisitionDescription": "Peer to peer SMS",
                "acquisitionMethod": "Text",
                "pageDefault": None,
            },
        ]

    @property
    def credentials(self) -> dict[str, Any]:
        return {"username": self.username, "password": self.password, "api_token": self.api_token}

    def add_person(self, pdi_id: str | int, **fields: Any) -> None:
        with self._lock:
            self.people[str(pdi_id)] = {"id": str(pdi_id), "firstName": "Pat", **fields}

    def remove_person(self, pdi_id: str | int) -> None:
        with self._lock:
            self.people.pop(str(pdi_id), None)

    def expire_tokens(self) -> None:
        """Every issued token stops working (the next call answers 401)."""
        with self._lock:
            self.tokens.clear()

    def _forbidden(self, method: str, path: str, body: Any) -> str | None:
        if method == "POST" and path.rstrip("/") == "/contacts":
            return "creates a contact"
        if method in ("PUT", "PATCH", "DELETE") and re.fullmatch(r"/contacts/[^/]+", path):
            return "changes or deletes a contact"
        if method == "POST" and re.fullmatch(r"/contacts/[^/]+/(phones|emails|addresses)", path):
            return "adds contact details to a contact"
        return None

    def _authenticate(self, method: str, path: str, headers: dict[str, str]) -> Answer | None:
        if method == "POST" and path == "/sessions":
            return None
        value = header(headers, "Authorization") or ""
        token = value[7:] if value.startswith("Bearer ") else None
        expires = self.tokens.get(token or "")
        if expires is None or expires <= datetime.now(UTC):
            return Answer(401, {"message": "Authorization has been denied for this request."})
        return None

    def _routes(self) -> list[Route]:
        return [
            route("POST", r"/sessions", self._sessions),
            route("GET", r"/contacts/(?P<id>[^/]+)", self._contact),
            route("GET", r"/flag_ids", lambda m, q, b: self._list(self.flag_ids, q)),
            route("GET", r"/questions", lambda m, q, b: self._list(self.questions, q)),
            route(
                "GET", r"/acquisition_types", lambda m, q, b: self._list(self.acquisition_types, q)
            ),
            route("POST", r"/flags", self._post_flags),
        ]

    def _sessions(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        fields = ("Username", "Password", "ApiToken")
        if not isinstance(body, dict) or not all(
            isinstance(body.get(f), str) and body[f] for f in fields
        ):
            return Answer(400, {"message": "Username, Password and ApiToken are required."})
        given = (body["Username"], body["Password"], body["ApiToken"])
        if self.rejected_reason is not None or given != (
            self.username,
            self.password,
            self.api_token,
        ):
            return Answer(401, {"message": self.rejected_reason or self.default_reject_reason})
        token = secrets.token_urlsafe(24)
        expires = datetime.now(UTC) + timedelta(seconds=self.token_ttl)
        self.tokens[token] = expires
        self.sign_ins += 1
        # .NET style: seven fractional digits and a Z.
        stamp = expires.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
        return Answer(200, {"AccessToken": token, "ExpirationDate": stamp})

    def _contact(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        person = self.people.get(m["id"])
        if person is None:
            return Answer(404, {"message": "Contact not found."})
        return Answer(200, person)

    def _list(self, items: list[dict[str, Any]], query: dict[str, str]) -> Answer:
        limit = as_int(query.get("limit", "20"))
        cursor = as_int(query.get("cursor", "1"))
        if limit is None or not 1 <= limit <= 2000:
            return Answer(400, {"message": "limit must be between 1 and 2000."})
        if cursor is None or cursor < 1:
            return Answer(400, {"message": "cursor must be a positive integer."})
        size = min(limit, self.page_size)
        page = items[(cursor - 1) * size : cursor * size]
        return Answer(200, {"data": page, "totalCount": len(items)})

    def _post_flags(self, m: re.Match[str], query: dict[str, str], body: Any) -> Answer:
        if not isinstance(body, list) or not body:
            return Answer(400, {"message": "The request body must be a non-empty array of flags."})
        allowed = {
            "pdiId",
            "flagEntryDate",
            "acquisitionTypeId",
            "flagId",
            "questionId",
            "contactId",
        }
        flag_ids = {f["id"] for f in self.flag_ids}
        acquisition = {a["id"] for a in self.acquisition_types}
        questions = {q["id"]: q for q in self.questions}
        for i, flag in enumerate(body):
            if not isinstance(flag, dict):
                return Answer(400, {"message": f"flags[{i}] must be an object."})
            unknown = set(flag) - allowed
            if unknown:
                return Answer(400, {"message": f"flags[{i}]: unknown fields {sorted(unknown)}."})
            for name in ("pdiId", "flagEntryDate", "acquisitionTypeId", "flagId"):
                if not isinstance(flag.get(name), str) or not flag[name]:
                    return Answer(400, {"message": f"flags[{i}]: {name} is required."})
            if flag["pdiId"] not in self.people:
                return Answer(400, {"message": f"flags[{i}]: pdiId {flag['pdiId']} not found."})
            if not is_date_time(flag["flagEntryDate"]):  # a bare date is refused
                return Answer(
                    400, {"message": f"flags[{i}]: flagEntryDate is not a date and time."}
                )
            if flag["acquisitionTypeId"] not in acquisition:
                return Answer(400, {"message": f"flags[{i}]: acquisitionTypeId is invalid."})
            if flag["flagId"] not in flag_ids:
                return Answer(400, {"message": f"flags[{i}]: flagId is invalid."})
            if "questionId" in flag:
                question = questions.get(flag["questionId"])
                if question is None:
                    return Answer(400, {"message": f"flags[{i}]: questionId is invalid."})
                if flag["flagId"] not in {o["flagId"] for o in question["answerOptions"]}:
                    return Answer(
                        400, {"message": f"flags[{i}]: flagId is not an answer to that question."}
                    )
        created = []
        for flag in body:
            record = {"id": str(len(self.flags) + 1), **flag}
            self.flags.append(record)
            created.append(record)
        return Answer(200, created)


def pdi_id(label: str) -> str:
    """An id as PDI makes them: 16 opaque bytes in base64 ("w6we79BXkuCsBbb9QCyiLA==" is a
    real acquisition type's), never a small number."""
    return base64.b64encode(hashlib.sha256(f"pdi:{label}".encode()).digest()[:16]).decode()


PDI_FLAGS = {code: pdi_id(f"flag:{code}") for code in ("SUP", "MAYBE", "NO", "NAH", "REF", "VOL")}
PDI_QUESTIONS = {name: pdi_id(f"question:{name}") for name in ("measure", "support", "volunteer")}
PDI_ACQUISITIONS = {name: pdi_id(f"acquisition:{name}") for name in ("Phone", "Walk", "Text")}


def _flag_id(record_id: str, code: str, description: str) -> dict[str, Any]:
    return {
        "id": record_id,
        "flagId": code,
        "flagIdDescription": description,
        "compile": description,
        "isDefault": False,
    }


def _question(question_id: str, text: str, options: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "id": question_id,
        "question": text,
        "questionLabel": text[:20],
        "questionDescription": None,
        "type": "Candidate",
        "category": "Survey",
        "answerOptions": [
            {"id": oid, "flagId": fid, "displayDescription": label, "displayCode": label[:1]}
            for oid, fid, label in options
        ],
    }
