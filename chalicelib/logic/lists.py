"""Voter lists uploaded by admins: rows carrying the CRM's ids, indexed for matching.

Rows stream through: they are validated, normalised and written 25 items at a
time, so memory stays flat however long the list.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib.auth.policy import Permission
from chalicelib.config import app_secret
from chalicelib.dal import lists as lists_dal
from chalicelib.dal.lists import RowToStore
from chalicelib.domain.lists import ListRow, VoterList
from chalicelib.domain.paging import Page
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.logic import matching, normalize
from chalicelib.logic.access import require, require_with
from chalicelib.logic.principal import Principal

MAX_REPORTED_PROBLEMS = 100
FIELDS = ("external_id", "first_name", "last_name", "phone", "email")
_TEXT_LIMIT = 200


@dataclass
class Tally:
    stored: int = 0
    rejected: int = 0
    warnings: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def problem(self, row: int, field_name: str, reason: str, *, stored: bool) -> None:
        if stored:
            self.warnings += 1
        else:
            self.rejected += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(
                {"row": row, "field": field_name, "reason": reason, "stored": stored}
            )


def row_id_of(number: int) -> str:
    return f"{number:06d}"


def _row_tag(list_id: str, row_id: str) -> str:
    digest = hmac.new(app_secret(), f"list-row:{list_id}:{row_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:12]).decode()


def list_row_id(list_id: str, row_id: str) -> str:
    """The id a report names a list row by: the row's place, keyed with the app secret, so
    that knowing one row's id tells nothing of another's."""
    return f"{list_id}.{row_id}.{_row_tag(list_id, row_id)}"


def split_list_row_id(value: str) -> tuple[str, str]:
    """(list id, row id) of a list row id; NotFound for one this deployment did not make."""
    parts = value.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidInput("list_row_id", "is not a list row id")
    list_id, row_id, tag = parts
    if not hmac.compare_digest(tag, _row_tag(list_id, row_id)):
        raise NotFound("no such list row")
    return list_id, row_id


def _text(raw: Any, field_name: str, number: int, tally: Tally) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool) and field_name == "external_id":
        raw = str(raw)
    if not isinstance(raw, str):
        tally.problem(number, field_name, "must be text", stored=field_name != "external_id")
        return None
    value = raw.strip()
    if len(value) > _TEXT_LIMIT:
        tally.problem(number, field_name, f"longer than {_TEXT_LIMIT} characters", stored=True)
        return None
    return value or None


def checked_rows(
    campaign_id: str, list_id: str, raw_rows: Iterable[Any], tally: Tally, first: int = 1
) -> Iterator[RowToStore]:
    """The rows to store, checked and normalised; what is wrong goes to `tally`, by row
    number (`first` is the first row's)."""
    for number, raw in enumerate(raw_rows, start=first):
        if not isinstance(raw, dict):
            tally.problem(number, "row", "must be an object", stored=False)
            continue
        external_id = _text(raw.get("external_id"), "external_id", number, tally)
        if not external_id:
            if "external_id" not in raw or raw.get("external_id") in (None, ""):
                tally.problem(number, "external_id", "is required", stored=False)
            continue
        phone = _text(raw.get("phone"), "phone", number, tally)
        if phone:
            try:
                phone = normalize.phone_e164(phone)
            except ValueError as exc:
                tally.problem(number, "phone", f"{exc}; stored without it", stored=True)
                phone = None
        email = _text(raw.get("email"), "email", number, tally)
        if email:
            try:
                email = normalize.email(email)
            except ValueError as exc:
                tally.problem(number, "email", f"{exc}; stored without it", stored=True)
                email = None
        row = ListRow(
            campaign_id=campaign_id,
            list_id=list_id,
            row_id=row_id_of(number),
            external_id=external_id,
            first_name=_text(raw.get("first_name"), "first_name", number, tally),
            last_name=_text(raw.get("last_name"), "last_name", number, tally),
            phone=phone,
            email=email,
        )
        tally.stored += 1
        yield RowToStore(row, matching.keys_for([phone] if phone else [], [email] if email else []))


def csv_rows(raw: bytes) -> tuple[int, Iterator[dict[str, Any]]]:
    """(number of data rows, the rows as dicts) of a CSV body with a header row (lists sent
    inline as `text/csv`).

    Counting reads the body once without keeping rows; the rows are then parsed a
    second time, lazily, as they are written.
    """

    def reader() -> csv.DictReader:
        text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
        return csv.DictReader(text)

    try:
        header = reader().fieldnames
        if not header or "external_id" not in [h.strip() for h in header]:
            raise InvalidInput("body", "the CSV needs a header row with an external_id column")
        count = sum(1 for _ in reader())
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput("body", f"is not readable CSV ({exc})") from None

    def rows() -> Iterator[dict[str, Any]]:
        for record in reader():
            yield {(k or "").strip(): v for k, v in record.items() if k}

    return count, rows()


def list_lists(principal: Principal, campaign_id: str, *, limit: int, cursor: str | None) -> Page:
    require(principal, campaign_id, Permission.VIEW_LISTS)
    return lists_dal.list_lists(campaign_id, limit=limit, cursor=cursor)


def get_list(
    principal: Principal, campaign_id: str, list_id: str
) -> tuple[VoterList, list[dict[str, Any]]]:
    """The list and the first 100 problems of its rows, by row number."""
    _, found = require_with(
        principal, campaign_id, Permission.VIEW_LISTS, lists_dal.list_key(campaign_id, list_id)
    )
    if found is None:
        raise NotFound("no such list")
    return found, lists_dal.list_errors(list_id, MAX_REPORTED_PROBLEMS)


def find_row(campaign_id: str, value: str) -> ListRow:
    """A row of one of the campaign's lists, by the id reports use (404 otherwise)."""
    list_id, row_id = split_list_row_id(value)
    row = lists_dal.get_row(list_id, row_id)
    if row is None or row.campaign_id != campaign_id:
        raise NotFound("no such list row")
    return row
